/**
 * Who a deploy command is for: `--user`, else `$SUDO_USER` under sudo, else
 * the current user (spec 07 §4.1, §4.3), looked up in /etc/passwd.
 */
import type { PathEnv } from "../config/paths.ts";

/** A local account from /etc/passwd, with its primary group's name. */
export interface UserInfo {
  name: string;
  uid: number;
  gid: number;
  group: string;
  home: string;
}

function readLines(path: string): string[] {
  try {
    return Deno.readTextFileSync(path).split("\n");
  } catch {
    return [];
  }
}

function groupName(gid: number): string {
  for (const line of readLines("/etc/group")) {
    const f = line.split(":");
    if (f.length >= 3 && Number(f[2]) === gid) return f[0];
  }
  return String(gid);
}

/** Finds a user by name or uid in /etc/passwd. */
export function lookupUser(key: { name?: string; uid?: number }): UserInfo | undefined {
  for (const line of readLines("/etc/passwd")) {
    const f = line.split(":");
    if (f.length < 7) continue;
    const uid = Number(f[2]);
    if (key.name !== undefined ? f[0] === key.name : uid === key.uid) {
      const gid = Number(f[3]);
      return { name: f[0], uid, gid, group: groupName(gid), home: f[5] };
    }
  }
  return undefined;
}

/** The user a deploy targets, and whether that differs from the user running the command. */
export interface DeployTarget {
  user: UserInfo;
  /** True when we act for someone else (sudo or `--user`). */
  other: boolean;
  /** True under sudo (SUDO_USER set while running as root). */
  sudo: boolean;
}

/**
 * `--user` > `$SUDO_USER` (when root) > the current user. A name that is not
 * in /etc/passwd is an error; a current uid missing there (containers) falls
 * back to `$USER` and `$HOME`.
 */
export function deployTarget(env: PathEnv, flagUser?: string): DeployTarget | string {
  const sudoUser = env.uid === 0 ? env.get("SUDO_USER") : undefined;
  const wanted = flagUser ?? (sudoUser && sudoUser !== "root" ? sudoUser : undefined);
  const self = lookupUser({ uid: env.uid }) ?? {
    name: env.get("USER") ?? String(env.uid),
    uid: env.uid,
    gid: env.uid,
    group: env.get("USER") ?? String(env.uid),
    home: env.home,
  };
  if (wanted === undefined || wanted === self.name) {
    return { user: { ...self, home: env.home }, other: false, sudo: false };
  }
  const user = lookupUser({ name: wanted });
  if (user === undefined) return `unknown user '${wanted}'`;
  return { user, other: true, sudo: sudoUser === wanted };
}

/** The path environment of `target`: our own when it is us, else its home and no XDG overrides. */
export function targetPathEnv(env: PathEnv, target: DeployTarget): PathEnv {
  if (!target.other) return env;
  return {
    home: target.user.home,
    cwd: env.cwd,
    uid: target.user.uid,
    get: (name) => (name.startsWith("XDG_") ? undefined : env.get(name)),
  };
}
