/** The two wire protocols EggPool speaks to clients and upstreams. */
export type Protocol = "openai" | "anthropic";

/** The client endpoint path of each protocol. */
export const PROTOCOL_ENDPOINT: Readonly<Record<Protocol, string>> = {
  openai: "/v1/chat/completions",
  anthropic: "/v1/messages",
};

/**
 * The client endpoint a request came in on (spec 01 §3.4): each protocol's own
 * endpoint, and `/v1/responses`, which speaks OpenAI's protocol family but is
 * translated to Chat Completions on the way in.
 */
export type Surface = "chat_completions" | "messages" | "responses";

/** The surface each protocol's own endpoint is; a request that arrives there and stays is native. */
export const NATIVE_SURFACE: Readonly<Record<Protocol, Surface>> = {
  openai: "chat_completions",
  anthropic: "messages",
};

/** The protocol family of each surface. */
export const SURFACE_PROTOCOL: Readonly<Record<Surface, Protocol>> = {
  chat_completions: "openai",
  messages: "anthropic",
  responses: "openai",
};
