/**
 * Demo traffic (`eggpool demo --traffic`): a few simulated agents that hold
 * multi-turn conversations with EggPool over both protocols, streamed and
 * not, with session ids the way OpenCode and Claude Code send them
 * (spec 10-clients.md) and now and then a tool call answered in the next turn.
 * The turns repeat a long system prompt so the simulators' prompt caches hit.
 */
import type { Protocol } from "../core/protocol.ts";
import { type AgentReply, readReply } from "./_traffic_reply.ts";

/** How much traffic: nothing, a trickle that fills the pages, or a crowd. */
export type TrafficLevel = "none" | "light" | "busy";

/** The levels, for flag checking. */
export const TRAFFIC_LEVELS: readonly TrafficLevel[] = ["none", "light", "busy"];

/** Agents and their pause between turns (a random time in the range). */
const LEVELS: Record<TrafficLevel, { agents: number; pauseMs: [number, number] }> = {
  none: { agents: 0, pauseMs: [0, 0] },
  light: { agents: 2, pauseMs: [800, 2_500] },
  busy: { agents: 6, pauseMs: [100, 600] },
};
/** Turns per conversation, before an agent starts a new one. */
const TURNS: [number, number] = [2, 6];
/** How long `stop()` lets open turns finish before it cuts them. */
const STOP_WAIT_MS = 3_000;

const USER_PROMPTS = [
  "Summarize what changed in the last commit.",
  "Write a haiku about connection pools.",
  "Please use the tool to look up the weather in Lisbon.",
  "Why does the build fail on the Raspberry Pi?",
  "Please use the tool to read the file src/app.ts.",
  "Suggest a better name for this function.",
  "Explain the retry logic in two sentences.",
];

const SYSTEM_PROMPT = "You are a careful coding agent working in a small repository. " +
  "Read files before editing them, keep changes small, explain what you did. ".repeat(30);

const TOOLS = [
  {
    name: "get_weather",
    description: "Current weather for a city",
    schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
  {
    name: "read_file",
    description: "Read a file of the repository",
    schema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
  },
];

/** Options for {@linkcode startTraffic}. */
export interface TrafficOptions {
  /** EggPool's origin, e.g. `http://127.0.0.1:11300`. */
  origin: string;
  localKey: string;
  level: TrafficLevel;
  /** Model ids per protocol (see `demoModels`). */
  models: Record<Protocol, readonly string[]>;
}

/** What the agents did so far. */
export interface TrafficCounts {
  sent: number;
  ok: number;
  failed: number;
}

/** Running traffic; `stop()` ends it and waits for the agents. */
export interface Traffic {
  readonly counts: TrafficCounts;
  stop(): Promise<void>;
}

type Message = Record<string, unknown>;

interface Conversation {
  protocol: Protocol;
  model: string;
  sessionId: string;
  withTools: boolean;
  messages: Message[];
}

function between([low, high]: [number, number]): number {
  return low + Math.floor(Math.random() * (high - low + 1));
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)];
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

/** Starts `options.level` worth of agents; with `"none"` nothing runs. */
export function startTraffic(options: TrafficOptions): Traffic {
  const counts: TrafficCounts = { sent: 0, ok: 0, failed: 0 };
  const stopping = new AbortController();
  const cut = new AbortController();
  const level = LEVELS[options.level];
  const agents: Promise<void>[] = [];
  for (let i = 0; i < level.agents; i++) {
    agents.push(runAgent(i, { options, counts, pauseMs: level.pauseMs, stopping, cut }));
  }
  let stopped: Promise<void> | undefined;
  return {
    counts,
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        const all = Promise.all(agents);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<void>((r) => (timer = setTimeout(r, STOP_WAIT_MS)));
        await Promise.race([all, late]);
        clearTimeout(timer);
        cut.abort();
        await all;
      })();
      return stopped;
    },
  };
}

interface AgentContext {
  options: TrafficOptions;
  counts: TrafficCounts;
  pauseMs: [number, number];
  /** Aborted by `stop()`: no new turn starts. */
  stopping: AbortController;
  /** Aborted when open turns took too long to finish: they are cut. */
  cut: AbortController;
}

async function runAgent(index: number, ctx: AgentContext): Promise<void> {
  // Agents start a little apart so the first requests do not all land at once.
  await pause(index * 300, ctx.stopping.signal);
  let conversations = 0;
  while (!ctx.stopping.signal.aborted) {
    const protocol: Protocol = (index + conversations++) % 2 === 0 ? "openai" : "anthropic";
    const conversation = newConversation(protocol, ctx.options.models[protocol]);
    const turns = between(TURNS);
    for (let turn = 0; turn < turns && !ctx.stopping.signal.aborted; turn++) {
      const reply = await sendTurn(conversation, ctx);
      // A tool call is answered in the next request, as an agent would.
      if (reply?.toolCall && !ctx.stopping.signal.aborted) {
        appendToolResult(conversation, reply);
        await sendTurn(conversation, ctx, false);
      }
      await pause(between(ctx.pauseMs), ctx.stopping.signal);
    }
  }
}

function newConversation(protocol: Protocol, models: readonly string[]): Conversation {
  const id = crypto.randomUUID();
  return {
    protocol,
    model: pick(models),
    sessionId: protocol === "openai" ? `ses_${id.replaceAll("-", "")}` : id,
    withTools: Math.random() < 0.6,
    messages: protocol === "openai" ? [{ role: "system", content: SYSTEM_PROMPT }] : [],
  };
}

/** One request of the conversation; adds the user turn (unless answering a tool) and the reply. */
async function sendTurn(
  conversation: Conversation,
  ctx: AgentContext,
  withUserText = true,
): Promise<AgentReply | undefined> {
  if (withUserText) conversation.messages.push({ role: "user", content: pick(USER_PROMPTS) });
  const stream = Math.random() < 0.6;
  const { url, init } = requestOf(conversation, ctx.options, stream);
  ctx.counts.sent++;
  try {
    const response = await fetch(url, { ...init, signal: ctx.cut.signal });
    const reply = await readReply(response, conversation.protocol, stream);
    if (!response.ok || reply === undefined) {
      ctx.counts.failed++;
      // The turn is dropped from the history so the conversation stays well-formed.
      if (withUserText) conversation.messages.pop();
      return undefined;
    }
    ctx.counts.ok++;
    conversation.messages.push(assistantMessage(conversation.protocol, reply));
    return reply;
  } catch {
    ctx.counts.failed++;
    if (withUserText) conversation.messages.pop();
    return undefined;
  }
}

function requestOf(conversation: Conversation, options: TrafficOptions, stream: boolean) {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "eggpool-demo-traffic/1",
  };
  let body: Record<string, unknown>;
  let path: string;
  if (conversation.protocol === "openai") {
    path = "/v1/chat/completions";
    headers.authorization = `Bearer ${options.localKey}`;
    // OpenCode's session headers (spec 10-clients.md).
    headers["x-session-affinity"] = conversation.sessionId;
    headers["x-session-id"] = conversation.sessionId;
    body = {
      model: conversation.model,
      messages: conversation.messages,
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
      ...(conversation.withTools
        ? {
          tools: TOOLS.map((t) => ({
            type: "function",
            function: { name: t.name, description: t.description, parameters: t.schema },
          })),
          tool_choice: "auto",
        }
        : {}),
    };
  } else {
    path = "/v1/messages";
    headers["x-api-key"] = options.localKey;
    headers["anthropic-version"] = "2023-06-01";
    // Claude Code's session header and metadata (spec 10-clients.md).
    headers["x-claude-code-session-id"] = conversation.sessionId;
    body = {
      model: conversation.model,
      max_tokens: 1024,
      system: [{ type: "text", text: SYSTEM_PROMPT, cache_control: { type: "ephemeral" } }],
      messages: conversation.messages,
      stream,
      metadata: {
        user_id: JSON.stringify({ device_id: "demo", session_id: conversation.sessionId }),
      },
      ...(conversation.withTools
        ? {
          tools: TOOLS.map((t) => ({
            name: t.name,
            description: t.description,
            input_schema: t.schema,
          })),
        }
        : {}),
    };
  }
  return {
    url: `${options.origin}${path}`,
    init: { method: "POST", headers, body: JSON.stringify(body) },
  };
}

function assistantMessage(protocol: Protocol, reply: AgentReply): Message {
  const call = reply.toolCall;
  if (protocol === "openai") {
    return {
      role: "assistant",
      content: reply.text === "" ? null : reply.text,
      ...(call
        ? {
          tool_calls: [{
            id: call.id,
            type: "function",
            function: { name: call.name, arguments: call.argumentsJson },
          }],
        }
        : {}),
    };
  }
  const content: Message[] = [];
  if (reply.text !== "") content.push({ type: "text", text: reply.text });
  if (call) {
    content.push({
      type: "tool_use",
      id: call.id,
      name: call.name,
      input: parseObject(call.argumentsJson),
    });
  }
  return { role: "assistant", content };
}

function parseObject(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return {};
  }
}

function appendToolResult(conversation: Conversation, reply: AgentReply): void {
  const call = reply.toolCall!;
  const result = call.name === "get_weather" ? "18°C, light wind" : "export function main() {}";
  conversation.messages.push(
    conversation.protocol === "openai"
      ? { role: "tool", tool_call_id: call.id, content: result }
      : { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: result }] },
  );
}
