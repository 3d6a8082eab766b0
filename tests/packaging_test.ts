/**
 * What ships EggPool outside a checkout: `deno task install`, `deno task
 * compile` per target, the Dockerfile and the release workflow. The compile
 * and the image cannot be built here (no runtime downloads, no Docker
 * engine), so their files are checked for the structure they must have.
 */
import assert from "node:assert/strict";
import { withTmpDir } from "./_helpers/tmp.ts";
import { SERVER_V8_FLAG } from "../src/ops/v8_flags.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const dec = new TextDecoder();

async function denoTask(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("deno task install puts an eggpool command with the server's V8 flags in the install root", async () => {
  await using tmp = await withTmpDir();
  const res = await denoTask(["install"], { DENO_INSTALL_ROOT: tmp.path });
  assert.equal(res.code, 0, res.stderr);
  const shim = `${tmp.path}/bin/eggpool`;
  assert.ok((await Deno.stat(shim)).mode! & 0o111, "the command is executable");
  assert.ok((await Deno.readTextFile(shim)).includes(SERVER_V8_FLAG));
  const version = await new Deno.Command(shim, {
    args: ["version"],
    env: { HOME: tmp.path, PATH: `${Deno.execPath().replace(/\/[^/]+$/, "")}:/usr/bin:/bin` },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(version.code, 0, dec.decode(version.stderr));
  assert.match(dec.decode(version.stdout), /^eggpool \d+\.\d+\.\d+ /);
});

Deno.test("deno task compile builds one target when asked, and names the ones it knows", async () => {
  const one = await denoTask(["compile", "--target", "aarch64", "--dry-run"]);
  assert.equal(one.code, 0, one.stderr);
  const lines = one.stdout.trim().split("\n");
  assert.equal(lines.length, 1, one.stdout);
  assert.ok(lines[0].includes("--target aarch64-unknown-linux-gnu"), lines[0]);
  assert.ok(lines[0].includes("--output dist/eggpool-aarch64-linux"), lines[0]);
  assert.ok(lines[0].includes(SERVER_V8_FLAG), lines[0]);
  const all = await denoTask(["compile", "--dry-run"]);
  assert.equal(all.stdout.trim().split("\n").length, 2, "both targets by default");
  const docker = await denoTask(["compile", "--target", "arm64", "--dry-run"]);
  assert.ok(docker.stdout.includes("aarch64-unknown-linux-gnu"), "Docker's arch names work too");
  const bad = await denoTask(["compile", "--target", "armv7l", "--dry-run"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown target "armv7l": use x86_64, aarch64 or all/);
  assert.match(bad.stderr, /32-bit/);
});

/** The Dockerfile's instructions per stage, continuation lines joined. */
function stages(text: string): { from: string; name?: string; lines: string[] }[] {
  const out: { from: string; name?: string; lines: string[] }[] = [];
  const joined = text.replace(/\\\n/g, " ").split("\n").map((l) => l.trim());
  for (const line of joined) {
    if (line === "" || line.startsWith("#")) continue;
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) out.push({ from: from[1], name: from[2], lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

Deno.test("the Dockerfile compiles in one stage and runs as a non-root user with a volume and a health check", async () => {
  const text = await Deno.readTextFile(`${ROOT}Dockerfile`);
  const [build, runtime, ...rest] = stages(text);
  assert.equal(rest.length, 0, "two stages");
  assert.equal(build.name, "build");
  assert.match(build.from, /^denoland\/deno:/);
  assert.ok(build.lines.some((l) => /RUN deno task compile --target /.test(l)));
  // Everything the module graph embeds is copied into the build stage.
  const copied = build.lines.filter((l) => l.startsWith("COPY ")).join(" ");
  for (
    const need of [
      "deno.json",
      "deno.lock",
      "main.ts",
      "config.example.toml",
      "src",
      "migrations",
      "themes",
      "static",
      "scripts",
    ]
  ) {
    assert.ok(new RegExp(`\\b${need.replace(".", "\\.")}\\b`).test(copied), `COPY ${need}`);
  }
  const ignored = (await Deno.readTextFile(`${ROOT}.dockerignore`)).split("\n").map((l) =>
    l.trim()
  );
  for (const need of ["src", "migrations", "themes", "static", "scripts", "main.ts", "deno.json"]) {
    assert.ok(!ignored.includes(need), `.dockerignore must not drop ${need}`);
  }

  assert.ok(
    runtime.lines.some((l) => /^COPY --from=build \S+ \/usr\/local\/bin\/eggpool$/.test(l)),
  );
  const user = runtime.lines.find((l) => l.startsWith("USER "))?.slice(5).trim();
  assert.ok(user !== undefined && user !== "root" && user !== "0", `USER ${user}`);
  assert.ok(runtime.lines.some((l) => /^VOLUME \["\/data"\]$/.test(l)));
  const health = runtime.lines.find((l) => l.startsWith("HEALTHCHECK "));
  assert.match(health ?? "", /CMD .*\/v1\/healthz/);
  assert.ok(runtime.lines.includes('ENTRYPOINT ["/usr/local/bin/eggpool"]'));
  assert.ok(runtime.lines.includes('CMD ["serve"]'));
  // USER comes after the steps that need root, and before the entry point.
  const order = (p: string) => runtime.lines.findIndex((l) => l.startsWith(p));
  assert.ok(order("RUN ") < order("USER ") && order("USER ") < order("ENTRYPOINT "));
});

Deno.test("the release workflow tests, builds both binaries and publishes their checksums on a tag", async () => {
  const text = await Deno.readTextFile(`${ROOT}.github/workflows/release.yml`);
  assert.match(text, /tags: \["v\*"\]/);
  assert.match(text, /run: bash \.ci\/run/);
  assert.match(text, /deno task compile --target all/);
  assert.match(text, /sha256sum eggpool-x86_64-linux eggpool-aarch64-linux > SHA256SUMS/);
  for (const f of ["eggpool-x86_64-linux", "eggpool-aarch64-linux", "SHA256SUMS"]) {
    assert.ok(text.includes(`dist/${f}`), f);
  }
  const test = text.indexOf("bash .ci/run");
  assert.ok(test < text.indexOf("deno task compile"), "tests run before the build");
});
