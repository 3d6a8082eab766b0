/**
 * `eggpool update` against a fake GitHub release on loopback. The "binary"
 * is a shell script standing in for the compiled file
 * (`$EGGPOOL_BINARY_PATH`), so no test needs `deno compile`.
 */
import assert from "node:assert/strict";
import { runEggpool } from "./_helpers/cli.ts";
import {
  freePort,
  healthy,
  opsEnv,
  pidFromFile,
  serverScope,
  writeServerConfig,
} from "./_helpers/ops.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import meta from "../deno.json" with { type: "json" };

const NEW_VERSION = "9.9.9";
const ASSET = `eggpool-${Deno.build.arch}-linux`;
const OLD_BINARY = `#!/bin/sh\necho "eggpool ${meta.version} (old)"\n`;
const NEW_BINARY = `#!/bin/sh\necho "eggpool ${NEW_VERSION} (deno test)"\n`;

async function sha256Hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A release server: `/releases/latest` and `/releases/tags/v…` in GitHub's shape, plus the files. */
async function startReleases(options: { sums?: string; binary?: string } = {}) {
  const binary = options.binary ?? NEW_BINARY;
  const sums = options.sums ??
    `${await sha256Hex(binary)}  ${ASSET}\n${"0".repeat(64)}  eggpool-other-linux\n`;
  const hits: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    hits.push(path);
    const origin = new URL(req.url).origin;
    const release = (tag: string) =>
      Response.json({
        tag_name: tag,
        html_url: `${origin}/page/${tag}`,
        assets: [
          { name: ASSET, browser_download_url: `${origin}/dl/${ASSET}` },
          { name: "SHA256SUMS", browser_download_url: `${origin}/dl/SHA256SUMS` },
        ],
      });
    if (path === "/releases/latest") return release(`v${NEW_VERSION}`);
    if (path === `/releases/tags/v${meta.version}`) return release(`v${meta.version}`);
    if (path === `/dl/${ASSET}`) return new Response(binary);
    if (path === "/dl/SHA256SUMS") return new Response(sums);
    return new Response("not found", { status: 404 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/releases`,
    hits,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function installed(dir: string, releasesUrl: string) {
  await Deno.mkdir(`${dir}/bin`);
  const binary = `${dir}/bin/eggpool`;
  await Deno.writeTextFile(binary, OLD_BINARY, { mode: 0o755 });
  const config = await writeServerConfig(dir, freePort());
  const env = opsEnv(dir, { EGGPOOL_BINARY_PATH: binary, EGGPOOL_RELEASES_URL: releasesUrl });
  const run = (...args: string[]) => runEggpool(["--config", config, ...args], { cwd: dir, env });
  return { binary, run };
}

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("update with a good checksum replaces the binary, keeps .bak and restarts the running server", async () => {
  await using tmp = await withTmpDir();
  await using _servers = serverScope(tmp.path);
  await using releases = await startReleases();
  const { binary, run } = await installed(tmp.path, releases.url);
  const started = await run("serve", "--daemon", "--as-root");
  assert.equal(started.code, 0, started.stderr);
  const oldPid = pidFromFile(tmp.path);

  const checked = await run("update", "--check");
  assert.equal(checked.code, 0, checked.stderr);
  assert.equal(
    checked.stdout,
    `Current version: ${meta.version}\nLatest version: ${NEW_VERSION}\n` +
      "Run 'eggpool update' to install it.\n",
  );
  assert.equal(await Deno.readTextFile(binary), OLD_BINARY, "--check changes nothing");

  const res = await run("update", "--as-root");
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, new RegExp(`Updated ${binary} to ${NEW_VERSION}; the previous binary`));
  assert.equal(await Deno.readTextFile(binary), NEW_BINARY);
  assert.equal(await Deno.readTextFile(`${binary}.bak`), OLD_BINARY);
  assert.equal((await Deno.stat(binary)).mode! & 0o777, 0o755);
  assert.deepEqual(names(`${tmp.path}/bin`), ["eggpool", "eggpool.bak"], "no download left over");
  assert.match(res.stdout, new RegExp(`Server stopped \\(PID ${oldPid}\\)`));
  const newPid = pidFromFile(tmp.path);
  assert.ok(newPid !== undefined && newPid !== oldPid, "a new server runs");
  const port = Number(
    (await Deno.readTextFile(`${tmp.path}/config.toml`)).match(/port = (\d+)/)![1],
  );
  assert.ok(await healthy(port));
  assert.ok(releases.hits.includes(`/dl/${ASSET}`) && releases.hits.includes("/dl/SHA256SUMS"));
});

Deno.test("update refuses a download whose checksum does not match, and one that does not run; nothing changes", async () => {
  await using tmp = await withTmpDir();
  {
    await using releases = await startReleases({ sums: `${"ab".repeat(32)}  ${ASSET}\n` });
    const { binary, run } = await installed(tmp.path, releases.url);
    const res = await run("update");
    assert.equal(res.code, 1);
    assert.match(res.stderr, /SHA-256 \([0-9a-f]{64}\) is not the one SHA256SUMS lists/);
    assert.match(res.stderr, /nothing changed/);
    assert.equal(await Deno.readTextFile(binary), OLD_BINARY);
    assert.deepEqual(names(`${tmp.path}/bin`), ["eggpool"]);
  }
  await using tmp2 = await withTmpDir();
  const broken = "#!/bin/sh\nexit 3\n";
  await using releases = await startReleases({ binary: broken });
  const { binary, run } = await installed(tmp2.path, releases.url);
  const res = await run("update");
  assert.equal(res.code, 1);
  assert.match(res.stderr, /the downloaded binary does not run here.*nothing changed/);
  assert.equal(await Deno.readTextFile(binary), OLD_BINARY);
  assert.deepEqual(names(`${tmp2.path}/bin`), ["eggpool"]);
});

Deno.test("update offline says so in one line and exits 1; an equal version is already up to date", async () => {
  await using tmp = await withTmpDir();
  const closed = `http://127.0.0.1:${freePort()}/releases`;
  const { binary, run } = await installed(tmp.path, closed);
  const res = await run("update");
  assert.equal(res.code, 1);
  assert.equal(
    res.stderr,
    "Error: cannot reach 127.0.0.1:" + new URL(closed).port +
      " (no connection): check the network connection and try again\n",
  );
  assert.equal(await Deno.readTextFile(binary), OLD_BINARY);

  await using releases = await startReleases();
  const same = await runEggpool(["update", meta.version], {
    cwd: tmp.path,
    env: opsEnv(tmp.path, { EGGPOOL_BINARY_PATH: binary, EGGPOOL_RELEASES_URL: releases.url }),
  });
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, /Requested version: .*\nAlready up to date\.\n$/);
});

Deno.test("update from a source checkout explains how to update instead, without the network", async () => {
  await using tmp = await withTmpDir();
  const env = opsEnv(tmp.path, { EGGPOOL_RELEASES_URL: `http://127.0.0.1:${freePort()}/r` });
  const res = await runEggpool(["update"], { cwd: tmp.path, env });
  assert.equal(res.code, 0, res.stderr);
  const checkout = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  assert.match(res.stdout, new RegExp(`runs from a source checkout \\(${checkout}\\)`));
  assert.match(res.stdout, new RegExp(`'git -C ${checkout} pull', then 'deno task install'`));
});
