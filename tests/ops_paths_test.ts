import assert from "node:assert/strict";
import {
  backupDir,
  cronLogPath,
  envFileCandidates,
  lockFilePath,
  logFilePath,
  pidFileCandidates,
  pidFilePath,
  runtimeDir,
} from "../src/config/paths.ts";
import type { PathEnv } from "../src/config/paths.ts";

function env(vars: Record<string, string> = {}): PathEnv {
  return { get: (n) => vars[n], home: "/home/pi", cwd: "/work", uid: 1000 };
}
const CAN_MKDIR = { ensureDir: () => true };
const CANNOT_MKDIR = { ensureDir: () => false };

Deno.test("pidFilePath() follows $EGGPOOL_PID_FILE > $XDG_RUNTIME_DIR > state dir > /tmp", () => {
  assert.equal(
    pidFilePath(
      env({ EGGPOOL_PID_FILE: "run/x.pid", XDG_RUNTIME_DIR: "/run/user/1000" }),
      CAN_MKDIR,
    ),
    "/work/run/x.pid",
  );
  assert.equal(
    pidFilePath(env({ XDG_RUNTIME_DIR: "/run/user/1000" }), CAN_MKDIR),
    "/run/user/1000/eggpool.pid",
  );
  assert.equal(pidFilePath(env(), CAN_MKDIR), "/home/pi/.local/state/eggpool/eggpool.pid");
  assert.equal(pidFilePath(env({ XDG_STATE_HOME: "/s" }), CAN_MKDIR), "/s/eggpool/eggpool.pid");
  assert.equal(pidFilePath(env({ EGGPOOL_STATE_DIR: "/st" }), CAN_MKDIR), "/st/eggpool.pid");
  assert.equal(pidFilePath(env(), CANNOT_MKDIR), "/tmp/eggpool-1000.pid");
  assert.equal(pidFilePath(env({ XDG_RUNTIME_DIR: " " }), CANNOT_MKDIR), "/tmp/eggpool-1000.pid");
  assert.equal(lockFilePath("/run/user/1000/eggpool.pid"), "/run/user/1000/eggpool.pid.lock");
});

Deno.test("pidFileCandidates() lets cron find a server started from an SSH session", () => {
  assert.deepEqual(pidFileCandidates(env(), CAN_MKDIR), [
    "/home/pi/.local/state/eggpool/eggpool.pid",
    "/run/user/1000/eggpool.pid",
    "/tmp/eggpool-1000.pid",
  ]);
  assert.deepEqual(pidFileCandidates(env({ XDG_RUNTIME_DIR: "/run/user/1000" }), CAN_MKDIR), [
    "/run/user/1000/eggpool.pid",
    "/home/pi/.local/state/eggpool/eggpool.pid",
    "/tmp/eggpool-1000.pid",
  ]);
  assert.deepEqual(pidFileCandidates(env({ EGGPOOL_PID_FILE: "/x.pid" }), CAN_MKDIR), ["/x.pid"]);
});

Deno.test("logFilePath(), runtimeDir(), cronLogPath(), backupDir() and envFileCandidates() follow spec 02 §13", () => {
  assert.equal(
    logFilePath(env({ EGGPOOL_LOG_FILE: "/l.log" }), CAN_MKDIR, "mine.log"),
    "/work/mine.log",
  );
  assert.equal(logFilePath(env({ EGGPOOL_LOG_FILE: "/l.log" }), CAN_MKDIR), "/l.log");
  assert.equal(logFilePath(env(), CAN_MKDIR), "/home/pi/.local/state/eggpool/eggpool.log");
  assert.equal(logFilePath(env(), CANNOT_MKDIR), "/tmp/eggpool-1000.log");
  assert.equal(runtimeDir(env({ EGGPOOL_RUNTIME_DIR: "/r" })), "/r");
  assert.equal(runtimeDir(env({ XDG_RUNTIME_DIR: "/run/user/1000" })), "/run/user/1000/eggpool");
  assert.equal(runtimeDir(env()), "/tmp/eggpool-1000.runtime");
  assert.equal(cronLogPath(env()), "/home/pi/.local/state/eggpool/cron.log");
  assert.equal(backupDir(env({ XDG_BACKUP_HOME: "/b" }), () => true), "/b/eggpool");
  assert.equal(backupDir(env(), (p) => p === "/var/lib/eggpool"), "/var/lib/eggpool/backups");
  assert.equal(backupDir(env(), () => false), "/home/pi/backups/eggpool");
  assert.deepEqual(envFileCandidates(env({ EGGPOOL_ENV: "e" }), "/cfg/config.toml"), [
    "/work/e",
    "/cfg/.env",
    "/home/pi/.config/eggpool/.env",
  ]);
});
