/**
 * Issue #12 item 8: every key the config schema accepts works, is refused by
 * `check-config`, or is reported as having no effect; none is silently
 * ignored. The first test walks the whole schema, so a key added later that
 * nothing reads fails here until it is implemented or listed in
 * src/config/key_support.ts.
 */

import assert from "node:assert/strict";
import { z } from "zod";
import { formatKeyPath, type PathSegment } from "../src/config/_key_path.ts";
import { INERT_KEYS } from "../src/config/key_support.ts";
import { ConfigSchema, resolveConfig } from "../src/config/schema.ts";

/** Keys refused (an error naming the key) when set to this value. */
const REFUSED: Readonly<Record<string, unknown>> = {
  "server.threads": 2,
  "upstream.connect_timeout_s": 5,
  "upstream.write_timeout_s": 30,
  "providers.*.connect_timeout_s": 5,
  "providers.*.write_timeout_s": 30,
  "database.worker_threads": 2,
  "security.persist_redacted_error_detail": true,
  "dashboard.store_request_content": true,
  "transcoder.features.anthropic_primitives": true,
  "transcoder.budget_resolution_policy": "strict",
  "transcoder.openai_reasoning_fields.*": ["reasoning"],
  "transcoder.capability_policy.*": "allow",
  "transcoder.provider_control_policy.*": "allow",
};

/** Keys with a warning of their own (deprecated or ignored by the spec itself). */
const WARNED: Readonly<Record<string, unknown>> = {
  "metrics.detailed_span_sample_rate": 0.1,
  "providers.*.stream_timeouts.max_lifetime_s": 60,
};

/** Keys that by the spec are labels with no behaviour. */
const LABELS = new Set(["providers.*.kind"]);

/** A value per inert entry that asks for something this version does not do. */
const INERT_SAMPLES: Readonly<Record<string, unknown>> = {
  "routing.unknown_request_reservation_microdollars": 500_000,
  "routing.trace": { mode: "all" },
  "pricing.catalogs.openrouter": { enabled: true },
  "pricing.catalogs.opencode_zen": { enabled: true, ttl_seconds: 60 },
  "pricing.catalogs.aliases": [{ from: "a", to: "b" }],
  "providers.*.models_endpoint.required": false,
  "providers.*.static_models[].supports_tools": true,
  "providers.*.static_models[].supports_vision": false,
  "providers.*.static_models[].source_metadata": { family: "x" },
  "providers.*.verify.probe_model": "m",
  "providers.*.verify.probe_protocol": "anthropic",
  "providers.*.verify.require_models": false,
  "metrics.trace_sample_rate": 0.5,
  "metrics.aggregate_only": false,
  "metrics.cleanup_max_rows_per_pass": 100,
  "metrics.event_loop_lag_enabled": false,
  "metrics.dispatch_spans.sample_rate": 0.5,
  "metrics.dispatch_spans.window_size": 10,
  "maintenance.contention_defer_above_lock_wait_p95_ms": 50,
  "maintenance.max_deferral_age_s": 60,
  "maintenance.p0_max_rows_per_batch": 2000,
  "maintenance.p0_max_batches_per_tick": 5,
  "maintenance.p0_max_tick_duration_ms": 200,
  "network.connect_timeout_s": 3,
  "network.read_timeout_s": 3,
  "network.max_connections": 3,
  "network.max_keepalive": 1,
  "network.keepalive_expiry_s": 3,
  "update_checker": { enabled: true },
  "transcoder.features.tools": false,
  "transcoder.features.structured_outputs": false,
  "model_info": { enabled: true },
};

/** `text` without block and line comments, so a key only mentioned in a comment is not "read". */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");
}

/** Source files that read the resolved config (schema definitions excluded), comments removed. */
async function readerSources(): Promise<string> {
  const parts: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (!/\.tsx?$/.test(e.name) || /_(test|bench)\.ts$/.test(e.name)) continue;
      else if (/^src\/config\/(schema_[a-z]+|key_support)\.ts$/.test(path)) continue;
      else parts.push(withoutComments(await Deno.readTextFile(path)));
    }
  };
  await walk("src");
  return parts.join("\n");
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 16; i++) {
    if (
      s instanceof z.ZodOptional || s instanceof z.ZodNullable ||
      s instanceof z.ZodDefault || s instanceof z.ZodPrefault
    ) s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
    else break;
  }
  return s;
}

/** Every leaf key pattern the schema accepts (`*` any table key, `[]` any array item). */
function acceptedKeys(schema: z.ZodType, at = ""): string[] {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) {
    return Object.entries(s.shape as Record<string, z.ZodType>)
      .flatMap(([k, v]) => acceptedKeys(v, at === "" ? k : `${at}.${k}`));
  }
  if (s instanceof z.ZodArray) return acceptedKeys(s.element as z.ZodType, `${at}[]`);
  if (s instanceof z.ZodRecord) {
    const inner = unwrap(s.valueType as z.ZodType);
    if (inner instanceof z.ZodObject || inner instanceof z.ZodArray) {
      return acceptedKeys(s.valueType as z.ZodType, `${at}.*`);
    }
    return [`${at}.*`];
  }
  return [at];
}

const covers = (pattern: string, key: string) =>
  key === pattern || key.startsWith(`${pattern}.`) || key.startsWith(`${pattern}[]`);

/** A config that resolves cleanly: one provider `p` with one account and one static model. */
function baseConfig(): Record<string, unknown> {
  return {
    providers: {
      p: {
        id: "p",
        base_url: "http://127.0.0.1:9/v1",
        accounts: [{ name: "a", api_key: "sk-test-account-key-1" }],
        static_models: [{ id: "m" }],
      },
    },
  };
}

/** `pattern` with `providers.*` as `p`, other `*` as `m`, `[]` as the first item. */
function concrete(pattern: string): PathSegment[] {
  const out: PathSegment[] = [];
  for (const part of pattern.split(".")) {
    const array = part.endsWith("[]");
    const key = array ? part.slice(0, -2) : part;
    out.push(key === "*" ? (out.at(-1) === "providers" ? "p" : "m") : key);
    if (array) out.push(0);
  }
  return out;
}

function setAt(root: Record<string, unknown>, path: PathSegment[], value: unknown): void {
  let cur = root as Record<string | number, unknown>;
  path.slice(0, -1).forEach((seg, i) => {
    if (cur[seg] === undefined) cur[seg] = typeof path[i + 1] === "number" ? [] : {};
    cur = cur[seg] as Record<string | number, unknown>;
  });
  cur[path.at(-1)!] = value;
}

function resolveWith(path: PathSegment[], value: unknown) {
  const raw = baseConfig();
  setAt(raw, path, value);
  return resolveConfig(raw, { defaultDatabasePath: "/tmp/eggpool-unused.sqlite3" });
}

Deno.test("every accepted config key is read, refused, or reported as having no effect", async () => {
  const sources = await readerSources();
  const keys = acceptedKeys(ConfigSchema);
  assert.ok(keys.length > 200, `the walk found the schema's keys (${keys.length})`);
  const unread: string[] = [];
  for (const key of keys) {
    if (INERT_KEYS.some((e) => covers(e.path, key))) continue;
    if (key in REFUSED || key in WARNED || LABELS.has(key)) continue;
    const name = key.split(".").filter((p) => p !== "*").at(-1)!.replace("[]", "");
    if (!new RegExp(`\\b${name}\\b`).test(sources)) unread.push(key);
  }
  assert.deepEqual(
    unread,
    [],
    "accepted keys nothing in src/ reads: implement them, or list them in " +
      "src/config/key_support.ts (warned) or refuse them in schema_rules.ts",
  );
});

Deno.test("each inert key warns when set to a value that asks for something, and only then", () => {
  assert.deepEqual(
    INERT_KEYS.map((e) => e.path).filter((p) => !(p in INERT_SAMPLES)),
    [],
    "every inert key has a sample here",
  );
  for (const entry of INERT_KEYS) {
    const path = concrete(entry.path);
    const where = formatKeyPath(path);
    const on = resolveWith(path, INERT_SAMPLES[entry.path]);
    assert.ok(on.ok, `${where}: the config still loads (never fatal)`);
    const hits = on.warnings.filter((w) => formatKeyPath(w.segments) === where);
    assert.equal(hits.length, 1, `${where}: one warning`);
    assert.match(hits[0].message, /has no effect in this version( \(keys set: [^)]+\))?: ./, where);
    assert.ok(hits[0].message.endsWith(entry.why), `${where}: the warning says why`);

    const usual = entry.gate ? { [entry.gate[0]]: entry.gate[1] } : entry.usual;
    if (usual === undefined) continue;
    const quiet = resolveWith(path, usual);
    assert.ok(quiet.ok, where);
    assert.deepEqual(
      quiet.warnings.filter((w) => formatKeyPath(w.segments) === where),
      [],
      `${where}: no warning at the value EggPool follows anyway`,
    );
  }
});

Deno.test("each refused key is an error naming the key; each self-warned key warns", () => {
  for (const [pattern, value] of Object.entries(REFUSED)) {
    const path = concrete(pattern);
    const result = resolveWith(path, value);
    assert.equal(result.ok, false, `${pattern} = ${JSON.stringify(value)} is refused`);
    if (result.ok) continue;
    const where = formatKeyPath(path);
    assert.ok(
      result.errors.some((e) => where.startsWith(formatKeyPath(e.segments))),
      `${where}: the error names the key (${JSON.stringify(result.errors)})`,
    );
  }
  for (const [pattern, value] of Object.entries(WARNED)) {
    const path = concrete(pattern);
    const result = resolveWith(path, value);
    assert.ok(result.ok, pattern);
    const where = formatKeyPath(path);
    assert.ok(
      result.warnings.some((w) => formatKeyPath(w.segments) === where),
      `${where}: warned`,
    );
  }
});
