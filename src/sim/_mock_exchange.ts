/** Per-request plumbing shared by the mock's router and its completion renderer. */
import { anthropicError } from "./_mock_anthropic.ts";
import { openaiError } from "./_mock_openai.ts";
import type { PromptCache } from "./_mock_reply.ts";
import type { FaultScript } from "./_mock_script.ts";
import type {
  MockDialect,
  MockFault,
  MockOptions,
  MockOutcome,
  RecordedRequest,
} from "./_mock_types.ts";

export const JSON_TYPE = "application/json";

/** Shared mutable state of one mock instance. */
export interface MockState {
  readonly options: MockOptions;
  readonly script: FaultScript;
  readonly cache: PromptCache;
  readonly requests: RecordedRequest[];
  readonly shutdown: AbortController;
  /** Numbers ids; never reset, so ids stay unique across `reset()`. */
  counter: number;
  /** Requests received and not yet answered in full. */
  active?: number;
  /** Most requests open at once since start (or `reset()`). */
  peakActive?: number;
}

/** Everything needed to answer one request. */
export interface Exchange {
  readonly state: MockState;
  readonly record: RecordedRequest;
  readonly dialect: MockDialect;
  readonly url: URL;
  readonly fault: MockFault | undefined;
  /** Zero-padded counter shared by every id of this exchange. */
  readonly serial: string;
  readonly requestId: string;
  settle(outcome: MockOutcome): void;
}

/** Response headers every answer carries: content type and a provider-style request id. */
export function baseHeaders(exchange: Exchange, contentType: string): Record<string, string> {
  const idHeader = exchange.dialect === "anthropic" ? "request-id" : "x-request-id";
  return {
    "content-type": contentType,
    [idHeader]: exchange.requestId,
    ...exchange.fault?.headers,
  };
}

export function jsonResponse(exchange: Exchange, body: string): Response {
  exchange.record.status = 200;
  exchange.settle("completed");
  return new Response(body, { status: 200, headers: baseHeaders(exchange, JSON_TYPE) });
}

/** A protocol-shaped error; a fault's `body`, `headers` and `retryAfter` win. */
export function errorResponse(
  exchange: Exchange,
  status: number,
  detail: { message?: string; code?: string | null } = {},
): Response {
  const { fault } = exchange;
  const headers = baseHeaders(exchange, JSON_TYPE);
  if (fault?.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
  let body: string;
  if (fault?.body !== undefined) {
    body = typeof fault.body === "string" ? fault.body : JSON.stringify(fault.body);
  } else if (exchange.dialect === "anthropic") {
    body = anthropicError(status, exchange.requestId, { ...detail, fault });
  } else {
    body = openaiError(status, { ...detail, fault });
  }
  exchange.record.status = status;
  exchange.settle("error");
  return new Response(body, { status, headers });
}
