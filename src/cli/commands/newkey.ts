import { Command } from "commander";
import { CliError } from "../../core/errors.ts";
import { loadConfig, resolveServerApiKey } from "../../config/load.ts";
import { envReferenceName } from "../../config/schema_fields.ts";
import { setValue } from "../../config/toml_edit.ts";
import type { CliContext } from "../context.ts";
import {
  type ApplyFlags,
  applyToServer,
  commitChange,
  editFailed,
  envFileOf,
  readConfigText,
  withApplyFlags,
} from "./_config_edit.ts";
import { newLocalKey } from "./init_config.ts";

/** `abcd...wxyz`, or `***` for keys of 8 characters or fewer (spec 07 §3). */
export function redactKey(key: string): string {
  return key.length <= 8 ? "***" : `${key.slice(0, 4)}...${key.slice(-4)}`;
}

/**
 * `eggpool newkey [--show-old]` (spec 07 §3): a new local key where the old
 * one lives (inline `[server].api_key`, or its variable in the `.env` beside
 * the config), then a restart of a running server, so the old key is refused
 * from then on.
 */
export function newkeyCommand(ctx: CliContext): Command {
  return withApplyFlags(
    new Command("newkey")
      .description("replace the local API key (restarts a running server)")
      .option("--show-old", "print the old key in full instead of redacted"),
  ).action(async (flags: ApplyFlags & { showOld?: boolean }) => {
    const path = ctx.configPath().path;
    const before = await readConfigText(path);
    const loaded = await loadConfig(path, { env: (n) => ctx.env.get(n) });
    const old = resolveServerApiKey(loaded);
    const { api_key, api_key_env } = loaded.config.server;
    const key = newLocalKey();
    const inline = api_key !== undefined && api_key !== "" && !envReferenceName(api_key);
    if (inline) {
      let text: string;
      try {
        text = setValue(before, ["server"], "api_key", key);
      } catch (error) {
        editFailed(error);
      }
      await commitChange(ctx, { text });
    } else {
      const name = (api_key && envReferenceName(api_key)) || api_key_env;
      if ((ctx.env.get(name) ?? "") !== "") {
        throw new CliError(
          `the local key comes from the environment variable ${name}, set outside ${
            envFileOf(path)
          }; rotate the env var where it is set (nothing was written)`,
        );
      }
      await commitChange(ctx, { text: before, env: new Map([[name, key]]) });
    }
    if (old === undefined) ctx.io.out("No previous key.\n");
    else {
      ctx.io.out(
        flags.showOld
          ? `Old key (expired): ${old}\n`
          : `Old key (expired, redacted): ${redactKey(old)}\n`,
      );
    }
    ctx.io.out(`New key (use this): ${key}\n`);
    await applyToServer(ctx, flags);
  });
}
