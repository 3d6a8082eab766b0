/**
 * Whether a server process was started by systemd as `eggpool.service`: its
 * cgroup path ends in that unit (`/proc/<pid>/cgroup`). Restarting such a
 * server ourselves would swap it for an unmanaged copy outside systemd.
 */

/** Reads a `/proc/<pid>/cgroup` text: `"user"` or `"system"` for an `eggpool.service` cgroup. */
export function scopeFromCgroup(text: string): "user" | "system" | undefined {
  for (const line of text.split("\n")) {
    // hierarchy-id:controllers:path
    const path = line.split(":").slice(2).join(":");
    if (!path.endsWith("/eggpool.service")) continue;
    return path.includes("/user@") ? "user" : "system";
  }
  return undefined;
}

/** {@linkcode scopeFromCgroup} of the process `pid`; undefined when /proc cannot tell. */
export function systemdScopeOf(pid: number): "user" | "system" | undefined {
  try {
    return scopeFromCgroup(Deno.readTextFileSync(`/proc/${pid}/cgroup`));
  } catch {
    return undefined;
  }
}
