/** `eggpool backup` and `eggpool recover` as subprocesses, against a real server under load. */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { runEggpool } from "./_helpers/cli.ts";
import { LOCAL_KEY, mockProvidersToml } from "./_helpers/eggpool.ts";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { freePort, opsEnv, pidFromFile, serverPids, serverScope, waitFor } from "./_helpers/ops.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { runEggpoolInPty } from "./_helpers/pty.ts";
import { MEMBER, renderMeta } from "../src/ops/backup_archive.ts";
import { ZipWriter } from "../src/ops/zip_store.ts";

const ENV_TEXT = "SERVER_EXTRA=kept-in-the-backup\n";

function readDb(path: string, sql: string): Record<string, unknown>[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

function integrity(path: string): string {
  return readDb(path, "PRAGMA integrity_check").map((r) => String(Object.values(r)[0])).join();
}

async function layout(dir: string, mockUrl: string) {
  const port = freePort();
  const config = `${dir}/config.toml`;
  await Deno.writeTextFile(
    config,
    [
      "[server]",
      'host = "127.0.0.1"',
      `port = ${port}`,
      `api_key = "${LOCAL_KEY}"`,
      "[database]",
      `path = "${dir}/usage.sqlite3"`,
      "[metrics]",
      'write_mode = "immediate"',
      mockProvidersToml(mockUrl),
    ].join("\n"),
  );
  await Deno.writeTextFile(`${dir}/.env`, ENV_TEXT);
  const env = opsEnv(dir);
  const run = (...args: string[]) => runEggpool(["--config", config, ...args], { cwd: dir, env });
  return { port, config, db: `${dir}/usage.sqlite3`, run };
}

/** Every file under `dir` (recursively) with the SHA-256 of its bytes, for "nothing changed" checks. */
async function snapshotTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) { for (const [k, v] of await snapshotTree(p)) out.set(k, v); }
    else if (e.isFile) {
      const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(p));
      out.set(p, [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join(""));
    }
  }
  return out;
}

Deno.test("a backup taken under load restores a database that passes integrity_check and holds every request finished before it", async () => {
  await using tmp = await withTmpDir();
  await using _servers = serverScope(tmp.path);
  // Each answer waits a little upstream, so requests are in flight during the backup.
  await using mock = await startMockUpstream({ latency: { headersMs: 15 } });
  const { port, config, db, run } = await layout(tmp.path, mock.url);
  const started = await run("serve", "--daemon", "--as-root");
  assert.equal(started.code, 0, started.stderr);
  const pid = pidFromFile(tmp.path);

  const finished: string[] = [];
  let failures = 0;
  let stop = false;
  const worker = async (w: number) => {
    for (let i = 0; !stop; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${LOCAL_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: "mock-small",
          messages: [{ role: "user", content: `worker ${w} request ${i}` }],
        }),
      }).catch(() => undefined);
      const id = res?.headers.get("x-proxy-request-id");
      if (res?.status === 200 && await res.text() && id) finished.push(id);
      else {
        failures++;
        await res?.body?.cancel();
        if (failures > 20) return; // the assertion below reports it
      }
    }
  };
  const workers = Array.from({ length: 6 }, (_, w) => worker(w));
  assert.ok(await waitFor(() => finished.length >= 40, 60_000), "the load is running");

  // A finished request reaches the database in the server's next stats batch
  // (write_mode "immediate": right after its answer). The backup promises
  // what is committed, so wait until the first ones are, then back up while
  // the workers keep writing.
  const before = [...finished];
  const committed = () => {
    const ids = new Set(
      readDb(db, "SELECT proxy_request_id AS id FROM requests WHERE status = 'completed'")
        .map((r) => String(r.id)),
    );
    return before.every((id) => ids.has(id));
  };
  assert.ok(await waitFor(committed, 30_000), "the finished requests were committed");
  const finishedAtStart = finished.length;
  const backup = await run("backup", "--output-dir", `${tmp.path}/backups`);
  const finishedDuring = finished.length - finishedAtStart;
  stop = true;
  await Promise.all(workers);
  assert.equal(backup.code, 0, backup.stderr);
  assert.equal(failures, 0, "no request failed during the backup");
  assert.ok(finishedDuring > 0, "requests kept finishing while the backup ran");
  const archive = backup.stdout.match(/^Wrote backup: (.+\.zip)$/m)?.[1];
  assert.ok(archive?.startsWith(`${tmp.path}/backups/eggpool-backup-`), backup.stdout);
  assert.match(backup.stdout, new RegExp(`  included: env \\(${tmp.path}/\\.env\\)`));
  assert.ok(backup.stdout.includes("  included: config.toml\n  included: usage.sqlite3\n"));
  const liveRows = () => Number(readDb(db, "SELECT count(*) AS n FROM requests")[0].n);
  assert.ok(await waitFor(() => liveRows() >= finished.length, 30_000));
  const rowsBeforeRecover = liveRows();

  // recover stops the running server, restores, and keeps what it replaced.
  await Deno.writeTextFile(config, "# changed after the backup\n", { append: true });
  const recovered = await run("recover", archive!, "--yes");
  assert.equal(recovered.code, 0, recovered.stderr);
  assert.match(recovered.stdout, new RegExp(`Server stopped \\(PID ${pid}\\)`));
  assert.match(recovered.stdout, /Restore complete\. Restart the server to load the new config\./);
  assert.deepEqual(serverPids(tmp.path), []);

  assert.equal(integrity(db), "ok");
  const restored = new Set(
    readDb(db, "SELECT proxy_request_id AS id FROM requests").map((r) => String(r.id)),
  );
  const missing = before.filter((id) => !restored.has(id));
  assert.deepEqual(missing, [], "every request committed before the backup is in it");
  assert.ok(
    restored.size < rowsBeforeRecover,
    "the restored file is the snapshot, not the live one",
  );
  assert.ok(!(await Deno.readTextFile(config)).includes("# changed after the backup"));
  assert.equal(await Deno.readTextFile(`${tmp.path}/.env`), ENV_TEXT);

  const kept = [...Deno.readDirSync(tmp.path)].map((e) => e.name)
    .filter((n) => n.includes(".before-recover-")).sort();
  assert.deepEqual(kept.map((n) => n.replace(/\.before-recover-\d{8}-\d{6}$/, "")), [
    ".env",
    "config.toml",
    "usage.sqlite3",
  ]);
  const keptDb = `${tmp.path}/${kept[2]}`;
  assert.equal(readDb(keptDb, "SELECT count(*) AS n FROM requests")[0].n, rowsBeforeRecover);
  assert.match(await Deno.readTextFile(`${tmp.path}/${kept[1]}`), /# changed after the backup/);
});

Deno.test("recover refuses a damaged archive, a database failing integrity_check and strange members, changing nothing", async () => {
  await using tmp = await withTmpDir();
  const { config, run } = await layout(tmp.path, "http://127.0.0.1:9/v1");
  assert.equal((await run("migrate")).code, 0);
  const made = await run("backup");
  assert.equal(made.code, 0, made.stderr);
  const archive = made.stdout.match(/^Wrote backup: (.+)$/m)![1];
  assert.equal(archive.slice(0, archive.lastIndexOf("/")), `${tmp.path}/home/backups/eggpool`);
  await Deno.writeTextFile(config, "# edited since\n", { append: true });

  // One flipped byte in the middle of the database member.
  const bytes = await Deno.readFile(archive);
  const damaged = `${tmp.path}/damaged.zip`;
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  await Deno.writeFile(damaged, bytes);
  // A well-formed archive whose database is not a database (its checksums are right).
  const notDb = `${tmp.path}/not-a-db.zip`;
  await writeArchive(notDb, tmp.path, { [MEMBER.db]: "this is not SQLite" });
  const stranger = `${tmp.path}/stranger.zip`;
  await writeArchive(stranger, tmp.path, { "evil.sh": "#!/bin/sh\n" });
  const truncated = `${tmp.path}/truncated.zip`;
  await Deno.writeFile(truncated, (await Deno.readFile(archive)).subarray(0, 1000));

  const before = await snapshotTree(tmp.path);
  const cases: Array<[string, RegExp]> = [
    [damaged, /member "usage\.sqlite3" is damaged \(its CRC-32 does not match\)/],
    [notDb, /its database fails PRAGMA integrity_check \(file is not a database\)/],
    [stranger, /unexpected member "evil\.sh"/],
    [truncated, /no ZIP end record/],
  ];
  for (const [path, why] of cases) {
    const res = await run("recover", path, "--yes");
    assert.equal(res.code, 1, `${path}: ${res.stdout}`);
    assert.match(res.stderr, why);
    assert.match(res.stderr, /nothing was changed/);
  }
  assert.deepEqual(await snapshotTree(tmp.path), before, "no file was added, removed or changed");

  // Without a terminal and without --yes, it names the flag and changes nothing.
  const unconfirmed = await run("recover", archive);
  assert.equal(unconfirmed.code, 1);
  assert.match(unconfirmed.stderr, /pass --yes to confirm/);
  const listed = await run("recover");
  assert.equal(listed.code, 1);
  assert.match(listed.stdout, /eggpool-backup-\d{8}-\d{6}\.zip/);
  assert.match(listed.stderr, /eggpool recover eggpool-backup-\d{8}-\d{6}\.zip --yes/);
  assert.deepEqual(await snapshotTree(tmp.path), before);

  // By name from the backup folder it restores, keeping the edited config.
  const byName = await run("recover", archive.slice(archive.lastIndexOf("/") + 1), "--yes");
  assert.equal(byName.code, 0, byName.stderr);
  assert.match(byName.stdout, /Server is not running/);
  assert.ok(!(await Deno.readTextFile(config)).includes("# edited since"));
});

Deno.test("recover without backups says so and exits 0; backup writes no archive without a config", async () => {
  await using tmp = await withTmpDir();
  const env = opsEnv(tmp.path);
  const none = await runEggpool(["recover"], { cwd: tmp.path, env });
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout, `No backups found in ${tmp.path}/home/backups/eggpool.\n`);
  const noConfig = await runEggpool(["backup"], { cwd: tmp.path, env });
  assert.equal(noConfig.code, 1);
  assert.match(noConfig.stderr, /no config at .*config\.toml: nothing to back up/);
});

/** An archive with a valid META (right checksums) over `members` plus a config. */
async function writeArchive(path: string, dir: string, members: Record<string, string>) {
  const { createHash } = await import("node:crypto");
  const all: Record<string, string> = { [MEMBER.config]: "[server]\n", ...members };
  const names = Object.keys(all).sort();
  const writer = await ZipWriter.create(path, new Date());
  for (const n of names) await writer.addBytes(n, new TextEncoder().encode(all[n]));
  const meta = renderMeta({
    formatVersion: 1,
    createdAt: "2026-01-01T00:00:00Z",
    installMethod: "source",
    configPath: `${dir}/config.toml`,
    dbPath: `${dir}/usage.sqlite3`,
    members: names,
    sha256: Object.fromEntries(
      names.map((n) => [n, createHash("sha256").update(all[n]).digest("hex")]),
    ),
  });
  await writer.addBytes(MEMBER.meta, new TextEncoder().encode(meta));
  await writer.finish();
}

Deno.test("recover in a terminal offers the backups newest first and asks before it restores", async () => {
  await using tmp = await withTmpDir();
  const { config, run } = await layout(tmp.path, "http://127.0.0.1:9/v1");
  assert.equal((await run("migrate")).code, 0);
  const older = (await run("backup")).stdout.match(/^Wrote backup: (.+)$/m)![1];
  await Deno.writeTextFile(config, "# second\n", { append: true });
  const newer = (await run("backup")).stdout.match(/^Wrote backup: (.+)$/m)![1];
  await Deno.utime(older, new Date("2026-01-01T00:00:00Z"), new Date("2026-01-01T00:00:00Z"));
  await Deno.writeTextFile(config, "# third\n", { append: true });
  const answers = (confirm: string) => [
    { prompt: "Which backup?", keys: "\r" },
    { prompt: "Overwrite current configuration and database?", keys: confirm },
  ];

  const declined = await runEggpoolInPty(["--config", config, "recover"], {
    cwd: tmp.path,
    env: opsEnv(tmp.path),
    answers: answers("\r"), // the default is No
  });
  assert.equal(declined.code, 0, declined.output);
  assert.match(declined.output, /2026-01-01 00:00:00 {3}\(\d+\.\d KB\) {3}eggpool-backup-/);
  assert.ok(
    declined.output.indexOf(newer.slice(newer.lastIndexOf("/") + 1)) <
      declined.output.indexOf(older.slice(older.lastIndexOf("/") + 1)),
    "newest first",
  );
  assert.match(declined.output, /Nothing was changed\./);
  assert.match(await Deno.readTextFile(config), /# third\n$/);

  const accepted = await runEggpoolInPty(["--config", config, "recover"], {
    cwd: tmp.path,
    env: opsEnv(tmp.path),
    answers: answers("y\r"),
  });
  assert.equal(accepted.code, 0, accepted.output);
  assert.match(accepted.output, new RegExp(`Backup ${newer} \\(created`));
  assert.match(accepted.output, /Restore complete\./);
  assert.match(await Deno.readTextFile(config), /# second\n$/, "the newest backup was restored");
});
