/**
 * Entry point. `croncheck` and `ensure-running` run from a small module
 * without loading the full CLI (spec 07 §1: cron calls them every few
 * minutes on a Pi), and so does a plain foreground `serve` (the CLI would
 * stay resident for the server's life); everything else imports the CLI on
 * demand.
 */
import { parseFastInvocation } from "./src/ops/argv.ts";

if (import.meta.main) {
  const fast = parseFastInvocation(Deno.args);
  let code: number;
  if (fast !== undefined) {
    const { runFast } = await import("./src/ops/fast.ts");
    code = await runFast(fast);
  } else {
    const { runCli } = await import("./src/cli/mod.ts");
    code = await runCli(Deno.args);
  }
  Deno.exit(code);
}
