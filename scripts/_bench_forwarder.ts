/**
 * The floor for `deno task bench`: the least a Deno proxy can do per request.
 * It forwards each POST to the upstream with `fetch` (one fixed key, the model
 * suffix dropped), reads the whole answer, parses it as JSON when it is not a
 * stream, and answers with it. No auth, routing, stats or usage.
 *
 * Usage: deno run -A scripts/_bench_forwarder.ts <port> <upstream base URL> <key>
 */
const [port, upstream, key] = Deno.args;
const UTF8 = new TextDecoder();

Deno.serve({ hostname: "127.0.0.1", port: Number(port), onListen() {} }, async (req) => {
  if (req.method !== "POST") return new Response("ok");
  const body = await req.json();
  body.model = String(body.model).split("/")[0];
  const res = await fetch(`${upstream}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: req.signal,
  });
  const bytes = await res.bytes();
  if (body.stream !== true) JSON.parse(UTF8.decode(bytes));
  return new Response(bytes, {
    status: res.status,
    headers: { "content-type": res.headers.get("content-type") ?? "application/json" },
  });
});
