import type { ConfigIssue } from "../core/errors.ts";
import type { PathSegment } from "./_key_path.ts";
import type { ResolvedConfig } from "./schema.ts";

/** Reads one environment variable; `undefined` when it is not set. */
export type EnvLookup = (name: string) => string | undefined;

/** A validated config file and what is needed to resolve its credentials later. */
export interface LoadedConfig {
  config: ResolvedConfig;
  /** Absolute path of the file that was read. */
  path: string;
  /** SHA-256 (hex) of the file bytes, as `rehash` compares it. */
  digest: string;
  /** Problems that do not stop EggPool: notices such as a wildcard `cors_origins` (unknown keys are errors). */
  warnings: ConfigIssue[];
  /** The `.env` file beside the config, when one was read. */
  envFile?: string;
  /**
   * The environment credentials resolve from: the real environment first,
   * then the `.env` file. Values are never copied into `config` or messages.
   */
  env: EnvLookup;
  /** The 1-based line of a key path in the file, or its nearest parent's. */
  lineOf(segments: readonly PathSegment[]): number | undefined;
  /** True when the accounts came from legacy top-level `[[accounts]]`. */
  legacyAccounts: boolean;
}
