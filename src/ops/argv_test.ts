import assert from "node:assert/strict";
import { parseFastInvocation } from "./argv.ts";

Deno.test("parseFastInvocation() finds croncheck and ensure-running and the last --config", () => {
  assert.deepEqual(parseFastInvocation(["croncheck"]), {
    command: "croncheck",
    config: undefined,
    flags: [],
  });
  assert.deepEqual(parseFastInvocation(["--config", "a.toml", "-c", "b.toml", "ensure-running"]), {
    command: "ensure-running",
    config: "b.toml",
    flags: [],
  });
  assert.deepEqual(parseFastInvocation(["ensure-running", "--config=c.toml", "--as-root"]), {
    command: "ensure-running",
    config: "c.toml",
    flags: ["--as-root"],
  });
  assert.deepEqual(parseFastInvocation(["ensure-running", "--log-file", "x.log"])?.flags, [
    "--log-file",
    "x.log",
  ]);
});

Deno.test("parseFastInvocation() leaves everything else to the full CLI", () => {
  for (
    const args of [
      [],
      ["serve", "--daemon"],
      ["help", "croncheck"],
      ["croncheck", "--help"],
      ["-h"],
      ["--config"],
      ["--config", "croncheck"],
      ["deploy", "cron"],
    ]
  ) {
    assert.equal(parseFastInvocation(args), undefined, args.join(" "));
  }
});

Deno.test("parseFastInvocation() takes a plain foreground serve and leaves every other serve to the CLI", () => {
  assert.deepEqual(parseFastInvocation(["--config", "c.toml", "serve", "--as-root", "--verbose"]), {
    command: "serve",
    config: "c.toml",
    flags: ["--as-root", "--verbose"],
  });
  assert.equal(parseFastInvocation(["serve", "--daemon"]), undefined);
  assert.equal(parseFastInvocation(["serve", "--help"]), undefined);
  assert.equal(
    parseFastInvocation(["serve", "--as-rot"]),
    undefined,
    "a typo gets the CLI's error",
  );
  assert.equal(parseFastInvocation(["serve", "extra"]), undefined);
});
