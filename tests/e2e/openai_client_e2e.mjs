// End-to-end suite of the OpenAI-compatible endpoints of `corral serve` driven by the official
// `openai` JavaScript client (6.x) and raw HTTP: /v1/chat/completions and /v1/completions
// (streamed and not, against the native endpoints' output), /v1/embeddings (float, base64,
// dimensions), /v1/models, tool calls, structured output, stop, seed, logprobs and errors.
//
// Usage: node openai_client_e2e.mjs CORRAL_BINARY TMP_DIR [MODEL.gguf]
//   MODEL.gguf defaults to stories260K.gguf under $CORRAL_TESTDATA or ../shared/testdata. Prints
//   one line per check; exits 1 on any failure, 77 when nothing can run (the openai package or
//   the test model is missing). The npm clients come from tools/testclients/install.sh.
import assert from 'node:assert/strict';

import {callSchema, Checks, createModel, postNative, requireClient, Server, suiteSetup} from './harness.mjs';

const {OpenAI} = requireClient('openai');
const ajvModule = requireClient('ajv');
const Ajv = ajvModule.default || ajvModule;
const suite = suiteSetup('openai_client_e2e.mjs', 'openai-e2e-');

// Creating the models is setup every other check needs: CORRAL_E2E_ONLY always runs it.
const checks = new Checks([/^create the models/]);
const check = (name, fn) => checks.check(name, fn);

const model = 'stories';
const toolModel = 'stories-tools';
// A Go template that offers tools and renders tool calls and results; its {{ if .ToolCalls }}
// block makes the output parser read a bare JSON object {"name", "arguments"} as a call.
const toolTemplate = `{{- if .Tools }}Tools:{{ range .Tools }} {{ .Function.Name }}{{ end }}
{{ end }}{{- range .Messages }}{{ if eq .Role "user" }}User: {{ .Content }}
{{ else if eq .Role "assistant" }}Assistant: {{ if .ToolCalls }}{{ range .ToolCalls }}{"name": "{{ .Function.Name }}", "arguments": {{ .Function.Arguments }}}{{ end }}{{ else }}{{ .Content }}{{ end }}
{{ else if eq .Role "tool" }}Tool ({{ .ToolName }}): {{ .Content }}
{{ end }}{{ end }}Assistant: `;
const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: {type: 'object', properties: {city: {type: 'string'}}, required: ['city']}
  }
};

const server = await Server.start(suite);
const openai = new OpenAI({baseURL: `${server.base}/v1`, apiKey: 'ollama', maxRetries: 0});

const native = (route, body) => postNative(server, route, body);

// The raw SSE events of a POST: the JSON payloads, and '[DONE]' as a string.
async function sse(route, body) {
  const res = await fetch(
      server.base + route,
      {method: 'POST', headers: {Authorization: 'Bearer ollama'}, body: JSON.stringify(body)});
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const text = await res.text();
  assert.ok(text.endsWith('data: [DONE]\n\n'), text.slice(-200));
  const events = text.split('\n\n').slice(0, -1);
  for (const e of events) assert.ok(e.startsWith('data: '), e);
  return events.map((e) => e.slice(6)).map((d) => (d === '[DONE]' ? d : JSON.parse(d)));
}

// Runs `fn`, which must reject with an openai APIError subclass `cls` carrying `status`,
// the error type and `message`.
async function assertApiError(fn, cls, status, type, message) {
  await assert.rejects(fn, (e) => {
    assert.ok(e instanceof cls, `${e.constructor.name}: ${e.message}`);
    assert.ok(e instanceof OpenAI.APIError);
    assert.equal(e.status, status);
    assert.equal(e.type, type);
    assert.equal(e.error.message, message);
    assert.equal(e.error.param, null);
    assert.equal(e.error.code, null);
    return true;
  });
}

const chatReq = {
  model,
  messages: [{role: 'user', content: 'Tell me about a cat.'}],
  temperature: 0,
  max_tokens: 20
};

await check('create the models (stories, and stories-tools with a tool template)', async () => {
  await createModel(server, model, suite.modelPath, {temperature: 0});
  const res = await fetch(server.base + '/api/create', {
    method: 'POST',
    body: JSON.stringify({model: toolModel, from: model, template: toolTemplate, stream: false})
  });
  assert.equal(res.status, 200, await res.text());
  const show = await native('/api/show', {model: toolModel});
  assert.ok(show.capabilities.includes('tools'), JSON.stringify(show.capabilities));
});

await check('models: list and retrieve; unknown is NotFoundError', async () => {
  const tags = await (await fetch(`${server.base}/api/tags`)).json();
  const list = [];
  for await (const m of openai.models.list()) list.push(m);
  assert.deepEqual(list.map((m) => m.id).sort(), tags.models.map((m) => m.name).sort());
  for (const m of list) {
    const tag = tags.models.find((t) => t.name === m.id);
    assert.equal(m.object, 'model');
    assert.equal(m.owned_by, 'library');
    assert.equal(m.created, Math.floor(Date.parse(tag.modified_at) / 1000));
  }
  const one = await openai.models.retrieve(model);
  assert.deepEqual(one, {
    id: model,
    object: 'model',
    created: list.find((m) => m.id === 'stories:latest').created,
    owned_by: 'library'
  });
  await assertApiError(
      () => openai.models.retrieve('nope'), OpenAI.NotFoundError, 404, 'not_found_error',
      'model \'nope:latest\' not found');
});

let chatText;
await check('chat: streamed equals non-streamed equals native /api/chat', async () => {
  const whole = await openai.chat.completions.create(chatReq);
  assert.match(whole.id, /^chatcmpl-\d{1,3}$/);
  assert.equal(whole.object, 'chat.completion');
  assert.equal(whole.model, model);
  assert.equal(whole.system_fingerprint, 'fp_ollama');
  assert.equal(whole.choices.length, 1);
  const choice = whole.choices[0];
  assert.equal(choice.index, 0);
  assert.equal(choice.message.role, 'assistant');
  assert.equal(choice.finish_reason, 'length');
  assert.ok(choice.message.content.length > 0);
  chatText = choice.message.content;

  const n = await native('/api/chat', {
    model,
    messages: chatReq.messages,
    stream: false,
    options: {temperature: 0, top_p: 1, num_predict: 20}
  });
  assert.equal(n.message.content, chatText);
  // The prompt's tokens are cached after the first request: prompt_eval_count counts the ones
  // evaluated, so only requests made in the same cache state compare (the stream's, below).
  assert.equal(whole.usage.completion_tokens, n.eval_count);
  assert.equal(whole.usage.completion_tokens, 20);
  assert.ok(whole.usage.prompt_tokens >= n.prompt_eval_count);
  assert.equal(whole.usage.total_tokens, whole.usage.prompt_tokens + whole.usage.completion_tokens);

  const stream = await openai.chat.completions.create(
      {...chatReq, stream: true, stream_options: {include_usage: true}});
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  let text = '';
  for (const [i, c] of chunks.entries()) {
    assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(c.id, chunks[0].id);
    assert.equal(c.created, chunks[0].created, 'every chunk has the first created');
    assert.equal(c.system_fingerprint, 'fp_ollama');
    if (c.choices.length === 0) continue;
    assert.equal(c.choices[0].delta.role, i === 0 ? 'assistant' : undefined, `chunk ${i}`);
    text += c.choices[0].delta.content ?? '';
  }
  assert.equal(text, chatText);
  const finish = chunks.at(-2);
  assert.deepEqual(finish.choices, [{index: 0, delta: {}, finish_reason: 'length'}]);
  for (const c of chunks.slice(0, -2)) assert.equal(c.choices[0].finish_reason, null);
  const usage = chunks.at(-1);
  assert.deepEqual(usage.choices, []);
  assert.deepEqual(usage.usage, {
    prompt_tokens: n.prompt_eval_count,
    completion_tokens: n.eval_count,
    total_tokens: n.prompt_eval_count + n.eval_count
  });

  // The raw framing: data events, [DONE] last, no usage chunk unless asked.
  const events = await sse('/v1/chat/completions', {...chatReq, stream: true});
  assert.equal(events.at(-1), '[DONE]');
  assert.equal(events.at(-2).choices[0].finish_reason, 'length');
  assert.ok(events.slice(0, -1).every((e) => e.usage === undefined));
  return `${chunks.length} chunks: ${JSON.stringify(chatText)}`;
});

await check('completions: streamed equals non-streamed equals native /api/generate', async () => {
  const req = {model, prompt: 'Once upon a time', temperature: 0, max_tokens: 20};
  const whole = await openai.completions.create(req);
  assert.match(whole.id, /^cmpl-\d{1,3}$/);
  assert.equal(whole.object, 'text_completion');
  assert.equal(whole.system_fingerprint, 'fp_ollama');
  assert.equal(whole.choices[0].finish_reason, 'length');
  const n = await native('/api/generate', {
    model,
    prompt: req.prompt,
    stream: false,
    options: {temperature: 0, top_p: 1, num_predict: 20, frequency_penalty: 0, presence_penalty: 0}
  });
  assert.equal(whole.choices[0].text, n.response);
  // As for chat: the stream below runs in the native request's cache state.
  assert.equal(whole.usage.completion_tokens, n.eval_count);
  assert.ok(whole.usage.prompt_tokens >= n.prompt_eval_count);
  const chunks = [];
  for await (const c of await openai.completions.create(
      {...req, stream: true, stream_options: {include_usage: true}})) {
    chunks.push(c);
  }
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage, {
    prompt_tokens: n.prompt_eval_count,
    completion_tokens: n.eval_count,
    total_tokens: n.prompt_eval_count + n.eval_count
  });
  for (const c of chunks.slice(0, -1)) {
    assert.equal(c.object, 'text_completion');
    assert.deepEqual(c.usage, {prompt_tokens: 0, completion_tokens: 0, total_tokens: 0});
  }
  assert.equal(chunks.at(-2).choices[0].finish_reason, 'length');
  assert.equal(chunks.slice(0, -1).map((c) => c.choices[0].text).join(''), n.response);
  return JSON.stringify(n.response);
});

await check('stop: the text ends before the stop string (chat and completions)', async () => {
  // A word from the middle of the unconstrained greedy text.
  const words = chatText.split(/\s+/).filter((w) => w.length >= 3);
  assert.ok(words.length >= 2, chatText);
  const stop = words[1];
  const at = chatText.indexOf(stop);
  const r = await openai.chat.completions.create({...chatReq, stop: [stop]});
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.choices[0].message.content, chatText.slice(0, at));
  const whole = await openai.completions.create(
      {model, prompt: 'Once upon a time', temperature: 0, max_tokens: 20});
  const text = whole.choices[0].text;
  const cut = text.split(/\s+/).filter((w) => w.length >= 3)[1];
  const c = await openai.completions.create(
      {model, prompt: 'Once upon a time', temperature: 0, max_tokens: 20, stop: cut});
  assert.equal(c.choices[0].finish_reason, 'stop');
  assert.equal(c.choices[0].text, text.slice(0, text.indexOf(cut)));
  return `chat stop ${JSON.stringify(stop)}, completion stop ${JSON.stringify(cut)}`;
});

await check('seed: the same seed gives the same text at temperature 1', async () => {
  const req = {model, messages: [{role: 'user', content: 'A story.'}], max_tokens: 30, seed: 42};
  const a = await openai.chat.completions.create(req);
  const b = await openai.chat.completions.create(req);
  assert.equal(a.choices[0].message.content, b.choices[0].message.content);
  const n = await native('/api/chat', {
    model,
    messages: req.messages,
    stream: false,
    options: {num_predict: 30, seed: 42, temperature: 1, top_p: 1}
  });
  assert.equal(a.choices[0].message.content, n.message.content);
});

await check('max_completion_tokens: that many tokens, finish_reason length', async () => {
  const r = await openai.chat.completions.create(
      {model, messages: chatReq.messages, temperature: 0, max_completion_tokens: 7});
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 7);
  assert.ok(chatText.startsWith(r.choices[0].message.content), r.choices[0].message.content);
});

await check('logprobs and top_logprobs (chat, streamed chat, completions)', async () => {
  const r = await openai.chat.completions.create(
      {...chatReq, max_tokens: 6, logprobs: true, top_logprobs: 3});
  const lps = r.choices[0].logprobs.content;
  assert.equal(lps.length, 6);
  assert.equal(lps.map((l) => l.token).join(''), r.choices[0].message.content);
  for (const l of lps) {
    assert.ok(l.logprob <= 0 && Number.isFinite(l.logprob));
    assert.deepEqual(l.bytes, [...Buffer.from(l.token, 'utf8')]);
    assert.equal(l.top_logprobs.length, 3);
    assert.equal(l.top_logprobs[0].token, l.token, 'greedy picks the most likely');
  }
  let streamed = [];
  for await (const c of await openai.chat.completions.create(
      {...chatReq, max_tokens: 6, logprobs: true, top_logprobs: 3, stream: true})) {
    streamed = streamed.concat(c.choices[0]?.logprobs?.content ?? []);
  }
  assert.deepEqual(streamed, lps);
  const c = await openai.completions.create(
      {model, prompt: 'Once upon a time', temperature: 0, max_tokens: 4, logprobs: 2});
  const clp = c.choices[0].logprobs.content;
  assert.equal(clp.length, 4);
  assert.equal(clp.map((l) => l.token).join(''), c.choices[0].text);
  assert.ok(clp.every((l) => l.top_logprobs.length === 2));
});

await check('response_format: json_schema output validates; json_object is JSON', async () => {
  const schema = {
    type: 'object',
    properties: {
      name: {type: 'string', maxLength: 12},
      age: {type: 'integer', minimum: 1, maximum: 99},
      kind: {enum: ['cat', 'dog', 'bird']}
    },
    required: ['name', 'age', 'kind'],
    additionalProperties: false
  };
  const r = await openai.chat.completions.create({
    model,
    messages: [{role: 'user', content: 'A pet.'}],
    temperature: 0,
    max_tokens: 200,
    response_format: {type: 'json_schema', json_schema: {name: 'pet', schema, strict: true}}
  });
  assert.equal(r.choices[0].finish_reason, 'stop', r.choices[0].message.content);
  const value = JSON.parse(r.choices[0].message.content);
  const validate = new Ajv().compile(schema);
  assert.ok(validate(value), JSON.stringify(validate.errors));
  const j = await openai.chat.completions.create({
    model,
    messages: [{role: 'user', content: 'A dog as JSON.'}],
    temperature: 0,
    max_tokens: 20,
    response_format: {type: 'json_object'}
  });
  assert.match(j.choices[0].message.content, /^\s*[{[]/);
  return r.choices[0].message.content;
});

await check('tools: a call (streamed and not), then the round trip rendered', async () => {
  const req = {
    model: toolModel,
    messages: [{role: 'user', content: 'What is the weather in Paris?'}],
    tools: [weatherTool],
    tool_choice: 'auto',
    temperature: 0,
    max_tokens: 200,
    response_format: {type: 'json_schema', json_schema: {name: 'call', schema: callSchema}}
  };
  const r = await openai.chat.completions.create(req);
  const choice = r.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.content, '');
  assert.equal(choice.message.tool_calls.length, 1);
  const call = choice.message.tool_calls[0];
  assert.match(call.id, /^call_[a-z0-9]{8}$/);
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  const args = JSON.parse(call.function.arguments);
  assert.ok(['Paris', 'London'].includes(args.city), call.function.arguments);

  const deltas = [];
  let finish;
  for await (const c of await openai.chat.completions.create({...req, stream: true})) {
    for (const tc of c.choices[0]?.delta?.tool_calls ?? []) deltas.push(tc);
    finish = c.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(finish, 'tool_calls');
  assert.equal(deltas.length, 1, 'the call arrives whole in one delta');
  assert.equal(deltas[0].index, 0);
  assert.equal(deltas[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(deltas[0].function.arguments), args);

  // The round trip: the call and its result go back; the tool's name comes from the call id.
  const followUp = {
    model: toolModel,
    tools: [weatherTool],
    temperature: 0,
    max_tokens: 10,
    messages: [
      ...req.messages, {role: 'assistant', content: null, tool_calls: [call]},
      {role: 'tool', tool_call_id: call.id, content: 'Sunny, 21 C'},
      {role: 'user', content: [{type: 'text', text: 'Thanks!'}]}
    ]
  };
  const rendered = await openai.chat.completions.create({...followUp, _debug_render_only: true});
  const prompt = rendered._debug_info.rendered_template;
  assert.ok(prompt.includes('Tools: get_weather\n'), prompt);
  assert.ok(
      prompt.includes(`Assistant: {"name": "get_weather", "arguments": ${
          JSON.stringify(JSON.parse(call.function.arguments))}}\n`),
      prompt);
  assert.ok(prompt.includes('Tool (get_weather): Sunny, 21 C\nUser: Thanks!\nAssistant: '), prompt);
  const answer = await openai.chat.completions.create(followUp);
  assert.equal(answer.choices[0].finish_reason, 'length');
  assert.equal(typeof answer.choices[0].message.content, 'string');
  return call.function.arguments;
});

await check('embeddings: float and base64 agree with /api/embed; dimensions', async () => {
  const input = ['a cat', 'a dog'];
  const n = await native('/api/embed', {model, input});
  const floats = await openai.embeddings.create({model, input, encoding_format: 'float'});
  assert.equal(floats.object, 'list');
  assert.equal(floats.model, model);
  assert.deepEqual(
      floats.usage, {prompt_tokens: n.prompt_eval_count, total_tokens: n.prompt_eval_count});
  assert.deepEqual(floats.data.map((d) => d.index), [0, 1]);
  assert.ok(floats.data.every((d) => d.object === 'embedding'));
  assert.deepEqual(floats.data.map((d) => d.embedding), n.embeddings);
  // The client asks for base64 itself when no format is given, and decodes it.
  const decoded = await openai.embeddings.create({model, input});
  assert.deepEqual(decoded.data.map((d) => d.embedding), n.embeddings);
  const raw = await fetch(
      `${server.base}/v1/embeddings`,
      {method: 'POST', body: JSON.stringify({model, input: 'a cat', encoding_format: 'base64'})});
  const b64 = (await raw.json()).data[0].embedding;
  assert.equal(typeof b64, 'string');
  const bytes = Buffer.from(b64, 'base64');
  const f32 = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  assert.deepEqual([...f32], n.embeddings[0]);
  const small = await openai.embeddings.create(
      {model, input: 'a cat', dimensions: 8, encoding_format: 'float'});
  const nSmall = await native('/api/embed', {model, input: 'a cat', dimensions: 8});
  assert.equal(small.data[0].embedding.length, 8);
  assert.deepEqual(small.data[0].embedding, nSmall.embeddings[0]);
  const empty = await openai.embeddings.create({model, input: '', encoding_format: 'float'});
  assert.equal(empty.data.length, 1, 'an empty string is one input');
  return `${n.embeddings[0].length} dimensions`;
});

await check('errors surface as openai.APIError subclasses', async () => {
  await assertApiError(
      () => openai.chat.completions.create({...chatReq, model: 'nope'}), OpenAI.NotFoundError, 404,
      'not_found_error', 'model \'nope\' not found');
  await assertApiError(
      () => openai.chat.completions.create({...chatReq, model: 'nope', stream: true}),
      OpenAI.NotFoundError, 404, 'not_found_error', 'model \'nope\' not found');
  await assertApiError(
      () => openai.completions.create({model: 'nope', prompt: 'x'}), OpenAI.NotFoundError, 404,
      'not_found_error', 'model \'nope\' not found');
  await assertApiError(
      () => openai.embeddings.create({model: 'nope', input: 'x'}), OpenAI.NotFoundError, 404,
      'not_found_error', 'model "nope" not found, try pulling it first');
  await assertApiError(
      () => openai.chat.completions.create({...chatReq, messages: []}), OpenAI.BadRequestError, 400,
      'invalid_request_error', '[] is too short - \'messages\'');
  await assertApiError(
      () => openai.chat.completions.create({...chatReq, n: 2}), OpenAI.BadRequestError, 400,
      'invalid_request_error', 'Invalid value for \'n\' = 2. Only 1 is supported by this server.');
  await assertApiError(
      () => openai.chat.completions.create({...chatReq, web_search_options: {}}),
      OpenAI.BadRequestError, 400, 'invalid_request_error',
      'Unsupported parameter: \'web_search_options\' is not supported by this server.');
  await assertApiError(
      () => openai.chat.completions.create({
        ...chatReq,
        messages: [{
          role: 'user',
          content: [{type: 'image_url', image_url: {url: 'https://example.com/cat.png'}}]
        }]
      }),
      OpenAI.BadRequestError, 400, 'invalid_request_error',
      'image URLs are not currently supported, please use base64 encoded data instead');
  // A data URL reaches the native path as an image (stories260K has no vision).
  await assertApiError(
      () => openai.chat.completions.create({
        ...chatReq,
        messages: [{
          role: 'user',
          content: [
            {type: 'text', text: 'What is this?'},
            {type: 'image_url', image_url: {url: 'data:image/png;base64,aGk='}}
          ]
        }]
      }),
      OpenAI.BadRequestError, 400, 'invalid_request_error',
      '"stories" does not support image input');
  await assertApiError(
      () => openai.chat.completions.create({...chatReq, reasoning_effort: 'lots'}),
      OpenAI.BadRequestError, 400, 'invalid_request_error',
      'invalid reasoning value: \'lots\' (must be "none", "minimal", "low", "medium", "high", ' +
          '"xhigh", "max", or "ultra")');
  await assertApiError(
      () => openai.chat.completions.create({...chatReq, reasoning_effort: 'high'}),
      OpenAI.BadRequestError, 400, 'invalid_request_error', '"stories" does not support thinking');
  await assertApiError(
      () => openai.embeddings.create({model, input: 'x', encoding_format: 'int8'}),
      OpenAI.BadRequestError, 400, 'invalid_request_error',
      'Invalid value for \'encoding_format\' = int8. Supported values: [\'float\', \'base64\'].');
  await assertApiError(
      () => openai.completions.create({model, prompt: 'x', stop: ['a', 1]}), OpenAI.BadRequestError,
      400, 'invalid_request_error', 'invalid type for \'stop\' field: float64');
  // Malformed JSON: Ollama's decoder message in the OpenAI shape.
  const res =
      await fetch(`${server.base}/v1/chat/completions`, {method: 'POST', body: '{"model":'});
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('content-type'), 'application/json');
  const body = await res.json();
  assert.equal(body.error.type, 'invalid_request_error');
  assert.equal(typeof body.error.message, 'string');
  assert.deepEqual(Object.keys(body.error), ['message', 'type', 'param', 'code']);
});

await server.stop();
checks.finish(suite.tmp);
