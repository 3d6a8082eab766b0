import assert from "node:assert/strict";
import { parse } from "smol-toml";
import {
  appendArrayTable,
  appendTable,
  removeArrayElement,
  removeTable,
  setValue,
  TomlEditError,
} from "./toml_edit.ts";

/** Lines removed from `a` and added in `b`, by a longest-common-subsequence diff. */
function lineDiff(a: string, b: string): { removed: string[]; added: string[] } {
  const x = a.split("\n");
  const y = b.split("\n");
  const lcs = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      i++;
      j++;
    } else if (j < y.length && (i === x.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
      added.push(y[j++]);
    } else {
      removed.push(x[i++]);
    }
  }
  return { removed, added };
}

const COMMENTED = `# EggPool config of the lab machine.
# Keep this header.

[server]
# Where we listen.
host = "127.0.0.1"   # loopback for now
port = 11300 # the usual port

api_key_env = "SERVER_API_KEY"

# Stats go here.
[database]
path = "/var/lib/eggpool/usage.sqlite3"

# --- providers ---

[providers.groq]
id = "groq"   # keep in sync with the table name
base_url = "https://api.groq.com/openai/v1"
protocols = [
  "openai", # only this one
]

[[providers.groq.accounts]]
name = "groq-1"
api_key_env = "GROQ_KEY_1"
# More accounts: copy the block above.

[models]
# No refresh at startup on the Pi.
startup_refresh = false
`;

Deno.test("setValue() changes only the value, keeping the line's comment", () => {
  const out = setValue(COMMENTED, ["server"], "port", 11301);
  assert.deepEqual(lineDiff(COMMENTED, out), {
    removed: ["port = 11300 # the usual port"],
    added: ["port = 11301 # the usual port"],
  });
  const host = setValue(out, ["server"], "host", "0.0.0.0");
  assert.deepEqual(lineDiff(out, host).added, ['host = "0.0.0.0"   # loopback for now']);
});

Deno.test("setValue() adds a missing key after the table's last key, and a missing table at the end", () => {
  const withKey = setValue(COMMENTED, ["models"], "collapse_models", true);
  assert.deepEqual(lineDiff(COMMENTED, withKey), {
    removed: [],
    added: ["collapse_models = true"],
  });
  assert.match(withKey, /startup_refresh = false\ncollapse_models = true\n$/);
  const withTable = setValue(COMMENTED, ["dashboard"], "public", false);
  assert.deepEqual(lineDiff(COMMENTED, withTable).removed, []);
  assert.equal(withTable, `${COMMENTED}\n[dashboard]\npublic = false\n`);
  assert.equal((parse(withTable) as { dashboard: { public: boolean } }).dashboard.public, false);
});

Deno.test("a config full of comments survives ten edits with only the intended lines changed", () => {
  let text = COMMENTED;
  const edit = (next: string, removed: string[], added: string[]) => {
    const d = lineDiff(text, next);
    assert.deepEqual(d.removed.filter((l) => l !== ""), removed);
    assert.deepEqual(d.added.filter((l) => l !== ""), added);
    text = next;
  };
  edit(setValue(text, ["server"], "port", 8080), ["port = 11300 # the usual port"], [
    "port = 8080 # the usual port",
  ]);
  edit(setValue(text, ["server"], "host", "0.0.0.0"), ['host = "127.0.0.1"   # loopback for now'], [
    'host = "0.0.0.0"   # loopback for now',
  ]);
  edit(setValue(text, ["dashboard"], "public", true), [], ["[dashboard]", "public = true"]);
  edit(setValue(text, ["dashboard"], "public", false), ["public = true"], ["public = false"]);
  edit(
    appendArrayTable(text, ["providers", "groq", "accounts"], {
      name: "groq-0002",
      api_key_env: "GROQ_KEY_2",
    }),
    [],
    ["[[providers.groq.accounts]]", 'name = "groq-0002"', 'api_key_env = "GROQ_KEY_2"'],
  );
  edit(
    appendTable(text, ["providers", "anthropic"], {
      id: "anthropic",
      base_url: "https://api.anthropic.com/v1",
      protocols: ["anthropic"],
      routing_priority: 0,
      auth: { mode: "api_key", header: "x-api-key" },
    }, ["Anthropic (direct), added by eggpool connect"]),
    [],
    [
      "# Anthropic (direct), added by eggpool connect",
      "[providers.anthropic]",
      'id = "anthropic"',
      'base_url = "https://api.anthropic.com/v1"',
      'protocols = ["anthropic"]',
      "routing_priority = 0",
      "[providers.anthropic.auth]",
      'mode = "api_key"',
      'header = "x-api-key"',
    ],
  );
  edit(
    appendArrayTable(text, ["providers", "anthropic", "accounts"], {
      name: "anthropic-0003",
      api_key_env: "ANTHROPIC_KEY_1",
    }),
    [],
    [
      "[[providers.anthropic.accounts]]",
      'name = "anthropic-0003"',
      'api_key_env = "ANTHROPIC_KEY_1"',
    ],
  );
  edit(
    removeArrayElement(text, ["providers", "groq", "accounts"], 1),
    ["[[providers.groq.accounts]]", 'name = "groq-0002"', 'api_key_env = "GROQ_KEY_2"'],
    [],
  );
  edit(setValue(text, ["server"], "api_key", "ep_new"), [], ['api_key = "ep_new"']);
  edit(
    removeTable(text, ["providers", "anthropic"]),
    [
      "# Anthropic (direct), added by eggpool connect",
      "[providers.anthropic]",
      'id = "anthropic"',
      'base_url = "https://api.anthropic.com/v1"',
      'protocols = ["anthropic"]',
      "routing_priority = 0",
      "[providers.anthropic.auth]",
      'mode = "api_key"',
      'header = "x-api-key"',
      "[[providers.anthropic.accounts]]",
      'name = "anthropic-0003"',
      'api_key_env = "ANTHROPIC_KEY_1"',
    ],
    [],
  );
  // Every comment of the original is still there, in order.
  const comments = (t: string) => t.split("\n").filter((l) => l.includes("#"));
  assert.deepEqual(
    comments(text),
    comments(COMMENTED).map((l) => l.replace("11300", "8080").replace('"127.0.0.1"', '"0.0.0.0"')),
  );
  // And the blank-line layout of the untouched part is unchanged.
  assert.ok(text.startsWith(COMMENTED.slice(0, COMMENTED.indexOf("[server]"))));
  assert.match(text, /\n\n# --- providers ---\n\n\[providers\.groq\]\n/);
});

Deno.test("removing the last account of a provider and then the provider leaves the rest intact", () => {
  const noAccount = removeArrayElement(COMMENTED, ["providers", "groq", "accounts"], 0);
  assert.deepEqual(lineDiff(COMMENTED, noAccount).removed.filter((l) => l !== ""), [
    "[[providers.groq.accounts]]",
    'name = "groq-1"',
    'api_key_env = "GROQ_KEY_1"',
  ]);
  assert.match(noAccount, /# More accounts: copy the block above\./);
  const gone = removeTable(COMMENTED, ["providers", "groq"]);
  assert.equal((parse(gone) as { providers?: unknown }).providers, undefined);
  assert.match(gone, /# --- providers ---\n\n\[models\]/);
});

Deno.test("edits keep CRLF line endings", () => {
  const crlf = COMMENTED.replaceAll("\n", "\r\n");
  const out = appendArrayTable(crlf, ["providers", "groq", "accounts"], { name: "x" });
  assert.ok(!/[^\r]\n/.test(out), "every newline is still CRLF");
  assert.equal(
    (parse(out) as { providers: { groq: { accounts: unknown[] } } }).providers.groq.accounts
      .length,
    2,
  );
});

Deno.test("a table written inline is refused with a message instead of being broken", () => {
  const inline = '[server]\nport = 1\n\n[providers]\ngroq = { id = "groq", base_url = "x" }\n';
  assert.throws(
    () => appendArrayTable(inline, ["providers", "groq", "accounts"], { name: "a" }),
    (e: unknown) => e instanceof TomlEditError && /edit' ?|by hand/.test(e.message),
  );
  const dotted = "dashboard.public = true\n[server]\nport = 1\n";
  assert.throws(() => setValue(dotted, ["dashboard"], "public", false), TomlEditError);
});

Deno.test("multi-line strings and arrays that look like headers do not confuse the editor", () => {
  const tricky = [
    "[server]",
    'note = """',
    "[providers.fake]",
    'id = "not a table"',
    '"""',
    "port = 1",
    "list = [",
    '  "[x]", # a comment ] with a bracket',
    "]",
    "",
  ].join("\n");
  const out = setValue(tricky, ["server"], "port", 2);
  assert.equal(out, tricky.replace("port = 1", "port = 2"));
  const added = setValue(tricky, ["server"], "host", "h");
  assert.match(added, /\]\nhost = "h"\n$/);
});
