import { Command } from "commander";
import { CliError } from "../../core/errors.ts";
import { setValue } from "../../config/toml_edit.ts";
import type { CliContext } from "../context.ts";
import {
  type ApplyFlags,
  applyToServer,
  commitChange,
  editFailed,
  readConfigText,
  withApplyFlags,
} from "./_config_edit.ts";

/** Parses `set port VALUE`: an integer 1–65535. */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new CliError(`Invalid port: "${value}" (expected a whole number from 1 to 65535)`);
  }
  return n;
}

function parseHost(value: string): string {
  const v = value.trim();
  if (v === "" || /[\s/"'#]/.test(v)) {
    throw new CliError(
      `Invalid host: "${value}" (expected an address such as 127.0.0.1, 0.0.0.0 or a name)`,
    );
  }
  return v;
}

/**
 * `eggpool set port|host VALUE` (spec 07 §3): rewrites only that line of
 * `[server]` (adding it when missing), then restarts a running server.
 */
export function setCommand(ctx: CliContext): Command {
  return withApplyFlags(
    new Command("set")
      .description("change [server] port or host in the config, then restart a running server")
      .argument("<key>", "port or host")
      .argument("<value>", "the new value"),
  ).action(async (key: string, raw: string, flags: ApplyFlags) => {
    let value: string | number;
    if (key === "port") value = parsePort(raw);
    else if (key === "host") value = parseHost(raw);
    else throw new CliError(`cannot set "${key}": only port and host can be set this way`);
    const path = ctx.configPath().path;
    const before = await readConfigText(path);
    let text: string;
    try {
      text = setValue(before, ["server"], key, value);
    } catch (error) {
      editFailed(error);
    }
    await commitChange(ctx, { text });
    ctx.io.out(`Set ${key} = ${value} in ${path}.\n`);
    await applyToServer(ctx, flags);
  });
}
