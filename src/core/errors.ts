/** Error kinds shared by the proxy, the envelopes and the CLI. */
export type ErrorKind =
  | "invalid_request"
  | "unauthorized"
  | "not_found"
  | "payload_too_large"
  | "rate_limited"
  | "no_capacity"
  | "upstream_error"
  | "upstream_timeout"
  | "overloaded"
  | "internal";

/** Options for {@linkcode ProxyError}. */
export interface ProxyErrorOptions {
  status: number;
  retryable?: boolean;
  retryAfterMs?: number;
  accountId?: number;
  provider?: string;
  param?: string;
  code?: string;
  /** A request no provider can serve as asked (spec 01 §6.2): rendered as a `capability_error`. */
  capability?: CapabilityRefusal;
  cause?: unknown;
}

/** What a capability error names: the capability, the fields that asked for it, the model. */
export interface CapabilityRefusal {
  name: string;
  requestedFields: string[];
  model: string;
}

/** The one error type of the data plane; rendered per protocol by the envelope module. */
export class ProxyError extends Error {
  readonly kind: ErrorKind;
  readonly status: number;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly accountId?: number;
  readonly provider?: string;
  readonly param?: string;
  readonly code?: string;
  readonly capability?: CapabilityRefusal;

  constructor(kind: ErrorKind, message: string, options: ProxyErrorOptions) {
    super(message, { cause: options.cause });
    this.name = "ProxyError";
    this.kind = kind;
    this.status = options.status;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.accountId = options.accountId;
    this.provider = options.provider;
    this.param = options.param;
    this.code = options.code;
    this.capability = options.capability;
  }
}

/** One problem found in a config file: where it is and what is wrong. */
export interface ConfigIssue {
  /** Key path such as `providers.groq.accounts[1].api_key_env`; empty for the whole file. */
  path: string;
  message: string;
  /** 1-based line in the file when it could be located. */
  line?: number;
}

/** A config that cannot be used; carries every issue found, not only the first. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  readonly file?: string;

  constructor(issues: readonly ConfigIssue[], file?: string) {
    super(formatIssues(issues, file));
    this.name = "ConfigError";
    this.issues = issues;
    this.file = file;
  }
}

function formatIssues(issues: readonly ConfigIssue[], file?: string): string {
  const head = `Invalid configuration${file ? ` in "${file}"` : ""}: ${issues.length} problem${
    issues.length === 1 ? "" : "s"
  }`;
  const lines = issues.map((issue) => {
    const where = issue.path === "" ? "(file)" : issue.path;
    const at = issue.line ? ` (line ${issue.line})` : "";
    return `  - ${where}${at}: ${issue.message}`;
  });
  return [head, ...lines].join("\n");
}

/** An operator-facing failure of a CLI command; `main` prints its message and exits with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}
