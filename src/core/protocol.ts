/** The two wire protocols EggPool speaks to clients and upstreams. */
export type Protocol = "openai" | "anthropic";

/** The client endpoint path of each protocol. */
export const PROTOCOL_ENDPOINT: Readonly<Record<Protocol, string>> = {
  openai: "/v1/chat/completions",
  anthropic: "/v1/messages",
};
