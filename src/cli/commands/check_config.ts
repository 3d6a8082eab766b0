import { Command } from "commander";
import { CliError, ConfigError, type ConfigIssue } from "../../core/errors.ts";
import {
  describeKeySource,
  describeServerKeySource,
  loadConfig,
  type LoadedConfig,
  validateCredentials,
} from "../../config/load.ts";
import type { CliContext } from "../context.ts";

/** `eggpool check-config`: validates the config and its credentials without starting anything. */
export function checkConfigCommand(ctx: CliContext): Command {
  return new Command("check-config")
    .description("validate the config file, its credentials and proxies")
    .action(async () => {
      const { path } = ctx.configPath();
      let loaded: LoadedConfig;
      try {
        loaded = await loadConfig(path, { env: (name) => ctx.env.get(name) });
      } catch (error) {
        if (error instanceof ConfigError) throw validationFailed(error.file ?? path, error.issues);
        throw error;
      }
      const issues = validateCredentials(loaded);
      if (issues.length > 0) throw validationFailed(loaded.path, issues);
      ctx.io.out(renderSummary(loaded));
    });
}

function validationFailed(file: string, issues: readonly ConfigIssue[]): CliError {
  const count = `${issues.length} problem${issues.length === 1 ? "" : "s"}`;
  const lines = issues.map((i) => `  - ${describeIssue(i)}`);
  return new CliError(
    [`configuration validation failed: ${count} in ${file}`, ...lines].join("\n"),
  );
}

function describeIssue(issue: ConfigIssue): string {
  const at = issue.line === undefined ? "" : `(line ${issue.line})`;
  const head = [issue.path, at].filter((s) => s !== "").join(" ");
  return head === "" ? issue.message : `${head}: ${issue.message}`;
}

function renderSummary(loaded: LoadedConfig): string {
  const { config } = loaded;
  const providers = Object.values(config.providers);
  const accounts = providers.reduce((n, p) => n + p.accounts.length, 0);
  const out = [
    `Configuration loaded successfully from ${loaded.path}`,
    `  Server: ${config.server.host}:${config.server.port}`,
    `  Server API key: ${serverKeyLine(loaded)}`,
    `  Database: ${config.database.path}`,
    `  Providers: ${providers.length}`,
  ];
  for (const p of providers) {
    const list = p.accounts.map((a) => {
      const off = a.enabled ? "" : " [disabled]";
      return `${a.name} = ${describeKeySource(loaded, p.id, a.name)}${off}`;
    });
    const summary = list.length === 0 ? "no accounts" : list.join(", ");
    out.push(`    ${p.id} (${p.protocols.join("+")}): ${summary}`);
  }
  out.push(`  Accounts: ${accounts}`);
  if (loaded.envFile) out.push(`  Env file: ${loaded.envFile}`);
  out.push(`  Content digest: ${loaded.digest}`);
  for (const w of loaded.warnings) out.push(`  warning: ${describeIssue(w)}`);
  if (loaded.warnings.length > 0) {
    out.push(`  ${loaded.warnings.length} warning${loaded.warnings.length === 1 ? "" : "s"}`);
  }
  return out.join("\n") + "\n";
}

function serverKeyLine(loaded: LoadedConfig): string {
  const source = describeServerKeySource(loaded);
  return source.endsWith("(missing)") ? `${source}, API auth off (loopback only)` : source;
}
