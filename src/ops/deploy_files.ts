/**
 * The files `eggpool deploy` prints and installs. Constant ones are the
 * copies in deploy/ (embedded, so a compiled binary carries them); the
 * personal ones are rendered with the invoking user's absolute paths.
 */
import productionUnit from "../../deploy/eggpool.service" with { type: "text" };
import productionLogrotate from "../../deploy/eggpool.logrotate" with { type: "text" };
import backupScript from "../../deploy/eggpool-backup" with { type: "text" };

/** deploy/eggpool.service: the dedicated-user system unit. */
export const PRODUCTION_UNIT: string = productionUnit;
/** deploy/eggpool.logrotate: rotation for /var/log/eggpool. */
export const PRODUCTION_LOGROTATE: string = productionLogrotate;
/** deploy/eggpool-backup: the backup script the backup cron line runs. */
export const BACKUP_SCRIPT: string = backupScript;

/** Backups run daily at 02:00, when a Pi on a LAN is idle. */
export const BACKUP_SCHEDULE = "0 2 * * *";

/** Where the production layout keeps things (deploy/eggpool.service). */
export const PRODUCTION = {
  unitPath: "/etc/systemd/system/eggpool.service",
  binary: "/usr/local/bin/eggpool",
  config: "/etc/eggpool/config.toml",
  database: "/var/lib/eggpool/usage.sqlite3",
  backups: "/var/backups/eggpool",
  cronFile: "/etc/cron.d/eggpool-backup",
} as const;

/** Quotes one ExecStart word for systemd (`%` and `$` are specifier and variable signs there). */
export function systemdQuote(arg: string): string {
  const escaped = arg.replaceAll("%", "%%").replaceAll("$", "$$$$");
  if (/^[A-Za-z0-9_/.,:=@+%$-]+$/.test(escaped)) return escaped;
  return `"${escaped.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** Inputs of {@linkcode renderUserUnit}. */
export interface UserUnitOptions {
  /** argv prefix that runs eggpool (binary, or deno + flags + script). */
  launcher: readonly string[];
  configPath: string;
  workingDir: string;
  envFile?: string;
  asRoot: boolean;
  user: string;
}

/** The personal unit: a systemd user service with this user's absolute paths. */
export function renderUserUnit(o: UserUnitOptions): string {
  const exec = [
    ...o.launcher,
    "--config",
    o.configPath,
    "serve",
    ...(o.asRoot ? ["--as-root"] : []),
  ];
  const lines = [
    `# EggPool for ${o.user} as a systemd user service, written by 'eggpool deploy systemd'.`,
    "# Config changes need 'systemctl --user restart eggpool'. To start at boot",
    `# without a login: sudo loginctl enable-linger ${o.user}`,
    "",
    "[Unit]",
    "Description=EggPool LLM account pool",
    "Documentation=https://github.com/eggstack/eggpool",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${exec.map(systemdQuote).join(" ")}`,
    `WorkingDirectory=-${o.workingDir}`,
    `Environment=${systemdQuote(`EGGPOOL_CONFIG=${o.configPath}`)}`,
  ];
  if (o.envFile !== undefined) lines.push(`EnvironmentFile=-${o.envFile}`);
  lines.push(
    "Restart=on-failure",
    "RestartSec=5",
    "TimeoutStopSec=30",
    "KillSignal=SIGTERM",
    "",
    "[Install]",
    "WantedBy=default.target",
  );
  return lines.join("\n") + "\n";
}

/** Inputs of {@linkcode renderPersonalLogrotate}. */
export interface LogrotateOptions {
  logFiles: readonly string[];
  user: string;
  group: string;
}

/** The rotation policy of spec 07 §4.2; deploy/eggpool.logrotate uses the same lines. */
export const LOGROTATE_DIRECTIVES: readonly string[] = [
  "daily",
  "rotate 14",
  "compress",
  "delaycompress",
  "missingok",
  "notifempty",
  "copytruncate",
  "dateext",
  "dateformat -%Y%m%d",
  "maxsize 100M",
];

/**
 * Rotation for a personal install's logs in the state folder. `su` makes
 * logrotate act as the owner, as it requires for folders root does not own.
 */
export function renderPersonalLogrotate(o: LogrotateOptions): string {
  return [
    `# EggPool logs of ${o.user}, written by 'eggpool deploy logrotate'.`,
    "# copytruncate: the server keeps its log open in append mode.",
    `${o.logFiles.join(" ")} {`,
    `    su ${o.user} ${o.group}`,
    ...LOGROTATE_DIRECTIVES.map((d) => `    ${d}`),
    "}",
  ].join("\n") + "\n";
}
