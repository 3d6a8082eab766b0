/**
 * Golden pairs per direction, written from the public OpenAI Chat Completions
 * and Anthropic Messages references: a request in one protocol and the body
 * the other must receive, an answer and what the client must get back.
 */
import assert from "node:assert/strict";
import { toAnthropicRequest } from "../src/proxy/translate/request_to_anthropic.ts";
import { toOpenAiRequest } from "../src/proxy/translate/request_to_openai.ts";
import {
  anthropicToOpenAiResponse,
  openAiToAnthropicResponse,
  translateErrorBody,
} from "../src/proxy/translate/response.ts";
import { DEFAULT_TRANSCODER, describeLosses } from "../src/proxy/translate/types.ts";
import type { TranscoderSettings } from "../src/proxy/translate/types.ts";
import { toAnthropicId, toOpenAiId } from "../src/proxy/translate/tool_ids.ts";
import { transcodeRequest, transcodeResponse } from "../src/proxy/translate/transcode.ts";

const ALL_ON: TranscoderSettings = { ...DEFAULT_TRANSCODER, vision: true, thinking: true };
const PNG = "iVBORw0KGgo=";

Deno.test("toAnthropicRequest() maps system, images, tools, tool results and stops", () => {
  const t = toAnthropicRequest(
    {
      model: "claude-x/prov",
      messages: [
        { role: "system", content: "You answer about weather." },
        { role: "developer", content: [{ type: "text", text: "Use metric units." }] },
        {
          role: "user",
          content: [
            { type: "text", text: "What is in this picture, and the weather in Oslo and Rome?" },
            { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
            { type: "image_url", image_url: { url: "https://example.com/a.jpg" } },
          ],
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "call_1",
              type: "function",
              function: { name: "weather", arguments: '{"city":"Oslo"}' },
            },
            {
              id: "functions.weather:1",
              type: "function",
              function: { name: "weather", arguments: '{"city":"Rome"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: "4 °C" },
        { role: "tool", tool_call_id: "functions.weather:1", content: "19 °C" },
      ],
      tools: [{
        type: "function",
        function: {
          name: "weather",
          description: "Current weather",
          parameters: { type: "object", properties: { city: { type: "string" } } },
        },
      }],
      tool_choice: "required",
      parallel_tool_calls: false,
      stop: ["\n\nHuman:"],
      temperature: 1.6,
      max_completion_tokens: 300,
      stream: true,
      stream_options: { include_usage: true },
      user: "u-42",
    },
    "claude-x",
    ALL_ON,
  );
  assert.deepEqual(t.losses, []);
  assert.deepEqual(t.context, {
    includeUsage: true,
    forcedTool: undefined,
    model: "claude-x",
    reasoning: true,
  });
  const encoded = toAnthropicId("functions.weather:1");
  assert.match(encoded, /^[a-zA-Z0-9_-]+$/);
  assert.deepEqual(t.body, {
    model: "claude-x",
    system: [{ type: "text", text: "You answer about weather." }, {
      type: "text",
      text: "Use metric units.",
    }],
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "What is in this picture, and the weather in Oslo and Rome?" },
          { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
          { type: "image", source: { type: "url", url: "https://example.com/a.jpg" } },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "tool_use", id: "call_1", name: "weather", input: { city: "Oslo" } },
          { type: "tool_use", id: encoded, name: "weather", input: { city: "Rome" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "call_1", content: "4 °C" },
          { type: "tool_result", tool_use_id: encoded, content: "19 °C" },
        ],
      },
    ],
    max_tokens: 300,
    temperature: 1,
    stop_sequences: ["\n\nHuman:"],
    stream: true,
    metadata: { user_id: "u-42" },
    tools: [{
      name: "weather",
      description: "Current weather",
      input_schema: { type: "object", properties: { city: { type: "string" } } },
    }],
    tool_choice: { type: "any", disable_parallel_tool_use: true },
  });
});

Deno.test("toAnthropicRequest() reports what it drops, and images only with features.vision", () => {
  const t = toAnthropicRequest(
    {
      model: "m",
      messages: [{
        role: "user",
        content: [
          { type: "text", text: "hi" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
          { type: "input_audio", input_audio: { data: "AAAA", format: "wav" } },
        ],
      }],
      top_p: 0.9,
      seed: 7,
      n: 2,
      logprobs: false,
      reasoning_effort: "high",
    },
    "m",
    DEFAULT_TRANSCODER,
  );
  assert.deepEqual(t.losses, [
    { field: "messages[0].content[1]", kind: "feature_disabled" },
    { field: "messages[0].content[2]", kind: "unsupported" },
    { field: "top_p", kind: "unsupported" },
    { field: "seed", kind: "unsupported" },
    { field: "n", kind: "unsupported" },
    { field: "reasoning_effort", kind: "feature_disabled" },
  ]);
  assert.deepEqual(t.body.messages, [{ role: "user", content: [{ type: "text", text: "hi" }] }]);
});

Deno.test("toAnthropicRequest() turns reasoning_effort into a thinking budget and json_schema into a forced tool", () => {
  const schema = {
    type: "object",
    properties: { answer: { type: "string" } },
    required: ["answer"],
  };
  const t = toAnthropicRequest(
    {
      model: "m",
      messages: [{ role: "user", content: "Answer in JSON" }],
      reasoning_effort: "low",
      max_tokens: 512,
      response_format: {
        type: "json_schema",
        json_schema: { name: "reply", schema, strict: true },
      },
    },
    "m",
    ALL_ON,
  );
  assert.deepEqual(t.body.thinking, { type: "enabled", budget_tokens: 1024 });
  assert.equal(t.body.max_tokens, 1024 + 4096, "max_tokens must exceed the budget");
  assert.deepEqual(t.body.tools, [{
    name: "reply",
    input_schema: schema,
    description: "Give the answer as this tool's input.",
  }]);
  assert.deepEqual(t.body.tool_choice, { type: "tool", name: "reply" });
  assert.equal(t.context.forcedTool, "reply");
  // The forced tool's input comes back as the message text.
  const back = anthropicToOpenAiResponse({
    id: "msg_01",
    type: "message",
    model: "m",
    content: [{ type: "tool_use", id: "toolu_1", name: "reply", input: { answer: "42" } }],
    stop_reason: "tool_use",
    usage: { input_tokens: 10, output_tokens: 5 },
  }, t.context) as { choices: { message: Record<string, unknown>; finish_reason: string }[] };
  assert.equal(back.choices[0].message.content, '{"answer":"42"}');
  assert.equal(back.choices[0].message.tool_calls, undefined);
  assert.equal(back.choices[0].finish_reason, "stop");
});

Deno.test("toOpenAiRequest() maps system blocks, tool_use/tool_result turns, images and thinking", () => {
  const t = toOpenAiRequest(
    {
      model: "gpt-x",
      max_tokens: 1024,
      system: [{ type: "text", text: "Be exact.", cache_control: { type: "ephemeral" } }],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Weather in Oslo? See the map." },
            { type: "image", source: { type: "base64", media_type: "image/jpeg", data: PNG } },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "I should call the tool.", signature: "sig" },
            { type: "text", text: "Checking." },
            { type: "tool_use", id: "toolu_01A", name: "weather", input: { city: "Oslo" } },
          ],
        },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "toolu_01A",
              content: [{ type: "text", text: "4 °C" }],
            },
            { type: "text", text: "And tomorrow?" },
          ],
        },
      ],
      tools: [
        { name: "weather", description: "Current weather", input_schema: { type: "object" } },
        {
          type: "web_search_20250305",
          name: "web_search",
        },
      ],
      tool_choice: { type: "tool", name: "weather", disable_parallel_tool_use: true },
      stop_sequences: ["STOP"],
      top_k: 40,
      metadata: { user_id: "u-1" },
      thinking: { type: "enabled", budget_tokens: 5000 },
      stream: true,
    },
    "gpt-x",
    ALL_ON,
  );
  assert.deepEqual(t.losses, [
    { field: "tools[1]", kind: "unsupported" },
    { field: "top_k", kind: "unsupported" },
    { field: "cache_control", kind: "unsupported" },
  ]);
  assert.deepEqual(t.body, {
    model: "gpt-x",
    messages: [
      { role: "system", content: "Be exact." },
      {
        role: "user",
        content: [
          { type: "text", text: "Weather in Oslo? See the map." },
          { type: "image_url", image_url: { url: `data:image/jpeg;base64,${PNG}` } },
        ],
      },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [{
          id: "toolu_01A",
          type: "function",
          function: { name: "weather", arguments: '{"city":"Oslo"}' },
        }],
      },
      { role: "tool", tool_call_id: "toolu_01A", content: "4 °C" },
      { role: "user", content: "And tomorrow?" },
    ],
    max_tokens: 1024,
    stop: ["STOP"],
    stream: true,
    stream_options: { include_usage: true },
    user: "u-1",
    tools: [{
      type: "function",
      function: { name: "weather", parameters: { type: "object" }, description: "Current weather" },
    }],
    tool_choice: { type: "function", function: { name: "weather" } },
    parallel_tool_calls: false,
    reasoning_effort: "high",
  });
});

Deno.test("tool ids survive the round trip in both directions", () => {
  for (const id of ["call_abc", "toolu_01XYZ", "functions.get_weather:0", "call/1 é"]) {
    const a = toAnthropicId(id);
    assert.match(a, /^[a-zA-Z0-9_-]+$/);
    assert.equal(toOpenAiId(a), id);
  }
});

Deno.test("openAiToAnthropicResponse() maps content, tool calls, reasoning, stop reason and cached usage", () => {
  const completion = {
    id: "chatcmpl-9",
    object: "chat.completion",
    model: "gpt-x",
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: "Let me look.",
        reasoning_content: "The user wants weather.",
        tool_calls: [{
          id: "call_7",
          type: "function",
          function: { name: "weather", arguments: '{"city":"Oslo"}' },
        }],
      },
      finish_reason: "tool_calls",
    }],
    usage: {
      prompt_tokens: 120,
      completion_tokens: 30,
      total_tokens: 150,
      prompt_tokens_details: { cached_tokens: 100 },
    },
  };
  const out = openAiToAnthropicResponse(completion, {
    includeUsage: false,
    model: "gpt-x",
    reasoning: true,
  });
  assert.deepEqual(out, {
    id: "msg_chatcmpl-9",
    type: "message",
    role: "assistant",
    model: "gpt-x",
    content: [
      { type: "thinking", thinking: "The user wants weather.", signature: "" },
      { type: "text", text: "Let me look." },
      { type: "tool_use", id: "call_7", name: "weather", input: { city: "Oslo" } },
    ],
    stop_reason: "tool_use",
    stop_sequence: null,
    usage: {
      input_tokens: 20,
      output_tokens: 30,
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 0,
    },
  });
  // Without features.thinking the reasoning stays out: it has no signature an Anthropic account accepts.
  const plain = openAiToAnthropicResponse(completion, { includeUsage: false, model: "gpt-x" });
  assert.deepEqual((plain.content as { type: string }[]).map((b) => b.type), ["text", "tool_use"]);
});

Deno.test("anthropicToOpenAiResponse() maps stop reasons (04 §7.2) and adds cache tokens back to prompt_tokens", () => {
  const cases: [string, string][] = [
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["max_tokens", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
    ["pause_turn", "tool_calls"],
    ["model_context_window_exceeded", "length"],
  ];
  for (const [stop, finish] of cases) {
    const out = anthropicToOpenAiResponse({
      id: "msg_1",
      model: "claude-x",
      content: [{ type: "text", text: "hi" }],
      stop_reason: stop,
      usage: {
        input_tokens: 7,
        output_tokens: 3,
        cache_read_input_tokens: 50,
        cache_creation_input_tokens: 20,
      },
    }, { includeUsage: false, model: "claude-x" }) as Record<string, unknown>;
    const choice = (out.choices as Record<string, unknown>[])[0];
    assert.equal(choice.finish_reason, finish, stop);
    assert.equal(out.id, "chatcmpl-msg_1");
    assert.deepEqual(out.usage, {
      prompt_tokens: 77,
      completion_tokens: 3,
      total_tokens: 80,
      prompt_tokens_details: { cached_tokens: 50 },
    });
  }
});

Deno.test("translateErrorBody() re-renders error types per 04 §7.3", () => {
  const toOpenAi: [string, string][] = [
    ["invalid_request_error", "invalid_request_error"],
    ["authentication_error", "invalid_api_key"],
    ["permission_error", "insufficient_quota"],
    ["rate_limit_error", "rate_limit_exceeded"],
    ["overloaded_error", "api_error"],
    ["timeout_error", "timeout"],
  ];
  for (const [from, to] of toOpenAi) {
    const out = translateErrorBody("anthropic", "openai", 400, {
      type: "error",
      error: { type: from, message: "boom" },
    }, "");
    assert.deepEqual(out, { error: { message: "boom", type: to, param: null, code: to } });
  }
  assert.deepEqual(
    translateErrorBody("openai", "anthropic", 429, {
      error: { message: "slow down", type: "requests", code: "rate_limit_exceeded" },
    }, ""),
    { type: "error", error: { type: "rate_limit_error", message: "slow down" } },
  );
  assert.deepEqual(
    translateErrorBody("openai", "anthropic", 502, undefined, "<html>bad gateway</html>"),
    { type: "error", error: { type: "api_error", message: "<html>bad gateway</html>" } },
  );
});

Deno.test("the warning header names client fields in printable ASCII only", () => {
  const t = toAnthropicRequest(
    {
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      "réglage\n": 1,
    },
    "m",
    DEFAULT_TRANSCODER,
  );
  assert.equal(describeLosses(t.losses), "r?glage? (unsupported)");
  assert.doesNotThrow(() =>
    new Headers({ "x-proxy-transcode-warnings": describeLosses(t.losses) })
  );
});

Deno.test("openAiToAnthropicResponse() maps finish reasons, a call cut by the limit as max_tokens", () => {
  const cases: [string, boolean, string][] = [
    ["stop", false, "end_turn"],
    ["length", false, "max_tokens"],
    ["tool_calls", true, "tool_use"],
    ["length", true, "max_tokens"],
    ["content_filter", false, "refusal"],
  ];
  for (const [finish, withCall, stop] of cases) {
    const message: Record<string, unknown> = { role: "assistant", content: "x" };
    if (withCall) {
      message.tool_calls = [{ id: "c", type: "function", function: { name: "f", arguments: "{" } }];
    }
    const out = openAiToAnthropicResponse({
      id: "chatcmpl-1",
      choices: [{ index: 0, message, finish_reason: finish }],
    }, { includeUsage: false, model: "m" });
    assert.equal(out.stop_reason, stop, `${finish} ${withCall}`);
  }
});

Deno.test("odd shapes never throw: they are translated as far as they go and reported", () => {
  const odd: unknown[] = [null, 1, "x", [], {}, { role: 5 }, { role: "user", content: 7 }, {
    role: "assistant",
    tool_calls: [null, { function: {} }, { id: 3, function: { name: "f", arguments: "[1]" } }],
  }, { role: "tool", content: [{ type: "image_url" }] }];
  for (const settings of [DEFAULT_TRANSCODER, ALL_ON]) {
    const a = toAnthropicRequest(
      {
        model: "m",
        messages: odd,
        tools: [null, { type: "function" }],
        tool_choice: { function: 4 },
        response_format: { type: "json_schema" },
        stop: 3,
      },
      "m",
      settings,
    );
    assert.ok(a.losses.length > 0);
    const o = toOpenAiRequest(
      {
        model: "m",
        system: [null, { type: "image" }],
        messages: [...odd, { role: "user", content: [{ type: "tool_result", content: [null] }] }],
        tools: [{}, null],
        tool_choice: "any",
        thinking: { type: "enabled", budget_tokens: "lots" },
      },
      "m",
      settings,
    );
    assert.ok(o.losses.length > 0);
  }
  for (const body of [{ choices: "no" }, { content: 5 }, { choices: [null] }]) {
    const ctx = { includeUsage: false, model: "m" };
    assert.equal(anthropicToOpenAiResponse(body, ctx).object, "chat.completion");
    assert.equal(openAiToAnthropicResponse(body, ctx).type, "message");
  }
  // Not an object at all: the upstream's bytes go to the client as they are.
  const t = transcodeRequest("openai", { model: "m", messages: [] }, "m", DEFAULT_TRANSCODER);
  for (const body of [null, [], "text", 5]) assert.equal(transcodeResponse(t, body), undefined);
});
