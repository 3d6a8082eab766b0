import type { ErrorKind } from "../core/errors.ts";
import { ProxyError } from "../core/errors.ts";
import type { Protocol } from "../core/protocol.ts";

/**
 * Error bodies in each client protocol's own shape (spec 01 §6), so SDKs
 * parse our errors the same way they parse the provider's.
 */

const ANTHROPIC_TYPE: Readonly<Record<ErrorKind, string>> = {
  invalid_request: "invalid_request_error",
  unauthorized: "authentication_error",
  not_found: "not_found_error",
  payload_too_large: "request_too_large",
  rate_limited: "rate_limit_error",
  no_capacity: "overloaded_error",
  upstream_error: "api_error",
  upstream_timeout: "api_error",
  overloaded: "overloaded_error",
  internal: "api_error",
};

const OPENAI_TYPE: Readonly<Record<ErrorKind, string>> = {
  invalid_request: "invalid_request_error",
  unauthorized: "invalid_request_error",
  not_found: "invalid_request_error",
  payload_too_large: "invalid_request_error",
  rate_limited: "rate_limit_exceeded",
  no_capacity: "server_error",
  upstream_error: "server_error",
  upstream_timeout: "server_error",
  overloaded: "server_error",
  internal: "server_error",
};

const OPENAI_CODE: Readonly<Partial<Record<ErrorKind, string>>> = {
  unauthorized: "invalid_api_key",
  not_found: "model_not_found",
  rate_limited: "rate_limit_exceeded",
};

/** The JSON body of an error in the client's protocol. */
export function errorBody(protocol: Protocol, error: ProxyError): Record<string, unknown> {
  const cap = error.capability;
  if (cap !== undefined) {
    const fields = {
      capability: cap.name,
      requested_fields: cap.requestedFields,
      model: cap.model,
    };
    return protocol === "anthropic"
      ? { type: "error", error: { type: "capability_error", message: error.message, ...fields } }
      : {
        error: {
          message: error.message,
          type: "capability_error",
          code: String(error.status),
          ...fields,
        },
      };
  }
  if (protocol === "anthropic") {
    return { type: "error", error: { type: ANTHROPIC_TYPE[error.kind], message: error.message } };
  }
  return {
    error: {
      message: error.message,
      type: OPENAI_TYPE[error.kind],
      param: error.param ?? null,
      code: error.code ?? OPENAI_CODE[error.kind] ?? null,
    },
  };
}

/** Options for {@linkcode errorResponse}. */
export interface ErrorResponseOptions {
  requestId?: string;
  attempts?: number;
}

/** A complete JSON error response in the client's protocol, with our tracing headers. */
export function errorResponse(
  protocol: Protocol,
  error: ProxyError,
  options: ErrorResponseOptions = {},
): Response {
  const headers = new Headers({ "content-type": "application/json" });
  if (options.requestId) headers.set("x-proxy-request-id", options.requestId);
  if (options.attempts !== undefined) {
    headers.set("x-proxy-attempt-count", String(options.attempts));
  }
  if (error.retryAfterMs !== undefined) {
    headers.set("retry-after", String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
  }
  return new Response(JSON.stringify(errorBody(protocol, error)), {
    status: error.status,
    headers,
  });
}

/** Shorthand constructors for the errors the intake raises most. */
export function invalidRequest(message: string, param?: string): ProxyError {
  return new ProxyError("invalid_request", message, { status: 400, param });
}

/** The 401 raised for a missing or wrong local key. */
export function unauthorized(): ProxyError {
  return new ProxyError("unauthorized", "Invalid or missing API key", { status: 401 });
}
