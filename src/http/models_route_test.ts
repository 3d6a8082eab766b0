import assert from "node:assert/strict";
import { ProxyError } from "../core/errors.ts";
import type { ModelListItem } from "../catalog/listing.ts";
import { anthropicPage, findModel, toAnthropicModel } from "./models_route.ts";

const items: ModelListItem[] = ["e", "a", "c", "b", "d"].map((id) => ({
  id,
  object: "model",
  created: 0,
  owned_by: "p",
}));

function ids(params: string): string[] | ProxyError {
  const page = anthropicPage(items, new URLSearchParams(params));
  return page instanceof ProxyError ? page : page.data.map((m) => m.id);
}

Deno.test("anthropicPage: sorted pages forward and backward, cursors compared as ids", () => {
  assert.deepEqual(ids(""), ["a", "b", "c", "d", "e"]);
  assert.deepEqual(ids("limit=2"), ["a", "b"]);
  assert.deepEqual(ids("limit=2&after_id=b"), ["c", "d"]);
  assert.deepEqual(ids("limit=2&before_id=d"), ["b", "c"]);
  assert.deepEqual(ids("after_id=bb"), ["c", "d", "e"], "a cursor that left the list still pages");
  assert.deepEqual(ids("after_id=e"), []);
  const last = anthropicPage(items, new URLSearchParams("after_id=e"));
  assert.ok(!(last instanceof ProxyError));
  assert.deepEqual(last, { data: [], has_more: false, first_id: null, last_id: null });
  const back = anthropicPage(items, new URLSearchParams("limit=1&before_id=c"));
  assert.ok(!(back instanceof ProxyError));
  assert.equal(back.has_more, true);
  assert.equal(back.first_id, "b");
});

Deno.test("anthropicPage: a bad limit or two cursors is a 400 naming the parameter", () => {
  for (const q of ["limit=0", "limit=1001", "limit=1.5", "limit=", "limit=-1"]) {
    const err = anthropicPage(items, new URLSearchParams(q));
    assert.ok(err instanceof ProxyError, q);
    assert.equal(err.status, 400);
    assert.equal(err.param, "limit");
  }
  const both = anthropicPage(items, new URLSearchParams("after_id=a&before_id=c"));
  assert.ok(both instanceof ProxyError);
  assert.equal(both.status, 400);
});

Deno.test("toAnthropicModel and findModel: limits carried, bare ids resolved", () => {
  const suffixed: ModelListItem[] = [
    {
      id: "m/p1",
      object: "model",
      created: 1_700_000_000,
      owned_by: "p1",
      name: "Model M",
      eggpool: {
        base_model_id: "m",
        provider_id: "p1",
        limits: { context: 200_000, output: 8_000 },
      },
    },
    {
      id: "m/p2",
      object: "model",
      created: 0,
      owned_by: "p2",
      eggpool: { base_model_id: "m", provider_id: "p2", limits: { output: 4_000 } },
    },
  ];
  assert.deepEqual(toAnthropicModel(suffixed[0]), {
    type: "model",
    id: "m/p1",
    display_name: "Model M",
    created_at: "2023-11-14T22:13:20Z",
    max_input_tokens: 200_000,
    max_tokens: 8_000,
  });
  const bare = findModel(suffixed, "m");
  assert.equal(bare?.id, "m");
  assert.equal(bare?.owned_by, "p1,p2");
  assert.deepEqual(bare?.eggpool, {
    providers: ["p1", "p2"],
    limits: { context: 200_000, output: 4_000 },
  });
  assert.equal(findModel(suffixed, "x"), undefined);
});
