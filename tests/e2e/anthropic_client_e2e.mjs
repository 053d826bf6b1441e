// End-to-end suite of Anthropic's Messages API (POST /v1/messages) on `corral serve`, driven by
// the official `@anthropic-ai/sdk` client: replies streamed and not against the native
// /api/chat for the same conversation, usage, stop reasons, system prompts, a tool_use /
// tool_result round trip, thinking, and errors as the SDK's error classes.
//
// Usage: node anthropic_client_e2e.mjs CORRAL_BINARY TMP_DIR [MODEL.gguf]
//   MODEL.gguf defaults to stories260K.gguf under $CORRAL_TESTDATA or ../shared/testdata.
//   Exits 1 on any failure, 77 when nothing can run (the SDK or the test model is missing).
//   The SDK comes from tools/testclients/install.sh.
import assert from 'node:assert/strict';

import {callSchema, Checks, createModel, postNative, requireClient, Server, suiteSetup, toolTemplate} from './harness.mjs';

const Anthropic = requireClient('@anthropic-ai/sdk').default;
const suite = suiteSetup('anthropic_client_e2e.mjs', 'anthropic-e2e-');

const checks = new Checks([/^create the models/]);
const check = (name, fn) => checks.check(name, fn);

const model = 'stories';
const toolModel = 'stories-tools';
const thinkModel = 'stories-think';
const stopModel = 'stories-stop';
// Thinking tags inferred from the template: the prompt ends inside the thinking block, which
// closes at "was" (a word stories260K writes early on, so a reply has both parts).
const thinkTemplate = `{{- range .Messages }}{{ if eq .Role "user" }}User: {{ .Content }}
{{ else if eq .Role "assistant" }}Assistant: {{ if .Thinking }}<think>{{ .Thinking }} was{{ end }}{{ .Content }}
{{ end }}{{ end }}Assistant: <think>`;
const weatherTool = {
  name: 'get_weather',
  description: 'The weather in a city',
  input_schema: {type: 'object', properties: {city: {type: 'string'}}, required: ['city']}
};

const server = await Server.start(suite);
const client = new Anthropic({baseURL: server.base, apiKey: 'x', maxRetries: 0});

const native = (route, body) => postNative(server, route, body);

// The native /api/chat reply for the same conversation (temperature 0 from the model).
function nativeChat(messages, numPredict, extra = {}) {
  return native('/api/chat', {
    model,
    messages,
    stream: false,
    options: {num_predict: numPredict, ...(extra.options ?? {})},
    ...extra.body
  });
}

// The runner reuses the cached prefix of the previous prompt, and prompt_eval_count (and so
// input_tokens) counts only what it evaluated: a request whose counts are compared runs right
// after this one, so every such request finds the same cache.
async function freshCache(m = model) {
  await native('/api/chat', {
    model: m,
    messages: [{role: 'user', content: 'Zebras and kites'}],
    stream: false,
    options: {num_predict: 1}
  });
}

// Every event of a streamed create, and the text its text deltas make.
async function collect(params) {
  const events = [];
  for await (const e of await client.messages.create({...params, stream: true})) events.push(e);
  return events;
}

const textOf = (message) =>
    message.content.filter((b) => b.type === 'text').map((b) => b.text).join('');

// Checks the Anthropic event grammar: message_start, then blocks (start, deltas of the block's
// kind, stop) with increasing indexes, then one message_delta and message_stop.
function assertEventOrder(events) {
  assert.equal(events[0].type, 'message_start');
  assert.equal(events.at(-1).type, 'message_stop');
  assert.equal(events.at(-2).type, 'message_delta');
  let open = null;
  let next = 0;
  for (const e of events.slice(1, -2)) {
    if (e.type === 'ping') continue;
    if (e.type === 'content_block_start') {
      assert.equal(open, null, 'a block starts while another is open');
      assert.equal(e.index, next++);
      open = e.content_block.type;
    } else if (e.type === 'content_block_delta') {
      assert.equal(e.index, next - 1);
      const kind = {text_delta: 'text', thinking_delta: 'thinking', input_json_delta: 'tool_use'};
      assert.equal(kind[e.delta.type], open, `${e.delta.type} in a ${open} block`);
    } else if (e.type === 'content_block_stop') {
      assert.equal(e.index, next - 1);
      open = null;
    } else {
      assert.fail(`unexpected event ${e.type}`);
    }
  }
  assert.equal(open, null, 'a block was left open');
}

const userTurn = [{role: 'user', content: 'Once upon a time'}];

await check('create the models (stories, stories-tools, stories-think, stories-stop)', async () => {
  await createModel(server, model, suite.modelPath, {temperature: 0});
  for (const [name, template] of [[toolModel, toolTemplate], [thinkModel, thinkTemplate]]) {
    await native('/api/create', {model: name, from: model, template, stream: false});
  }
  await native(
      '/api/create', {model: stopModel, from: model, parameters: {stop: ['.']}, stream: false});
  const show = await native('/api/show', {model: toolModel});
  assert.ok(show.capabilities.includes('tools'), JSON.stringify(show.capabilities));
  const think = await native('/api/show', {model: thinkModel});
  assert.ok(think.capabilities.includes('thinking'), JSON.stringify(think.capabilities));
});

let reference;  // the non-streamed reply to userTurn, max_tokens 40

await check('non-streamed: the text and usage of the native /api/chat reply', async () => {
  await freshCache();
  const n = await nativeChat(userTurn, 40);
  await freshCache();
  const r = await client.messages.create({model, max_tokens: 40, messages: userTurn});
  assert.match(r.id, /^msg_[0-9a-f]{24}$/);
  assert.equal(r.type, 'message');
  assert.equal(r.role, 'assistant');
  assert.equal(r.model, model);
  assert.equal(r.content.length, 1);
  assert.equal(r.content[0].type, 'text');
  assert.equal(r.content[0].text, n.message.content);
  assert.ok(r.content[0].text.length > 0);
  assert.equal(r.stop_reason, 'max_tokens');
  assert.equal(r.stop_sequence, null);
  assert.equal(r.usage.output_tokens, n.eval_count);
  assert.equal(r.usage.output_tokens, 40);
  assert.equal(r.usage.input_tokens, n.prompt_eval_count);
  reference = r;
  return JSON.stringify(r.content[0].text.slice(0, 50));
});

await check('streamed: the same text in ordered events; usage in message_delta', async () => {
  await freshCache();
  const events = await collect({model, max_tokens: 40, messages: userTurn});
  assertEventOrder(events);
  const start = events[0].message;
  assert.equal(start.id.slice(0, 4), 'msg_');
  assert.deepEqual(start.content, []);
  assert.equal(start.stop_reason, null);
  const text =
      events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta.text).join('');
  assert.equal(text, reference.content[0].text);
  assert.ok(events.filter((e) => e.type === 'content_block_delta').length > 1, 'streamed');
  const delta = events.at(-2);
  assert.equal(delta.delta.stop_reason, 'max_tokens');
  assert.equal(delta.usage.output_tokens, reference.usage.output_tokens);
  assert.equal(delta.usage.input_tokens, reference.usage.input_tokens);

  // The SDK's stream helper accumulates the same message.
  await freshCache();
  const final =
      await client.messages.stream({model, max_tokens: 40, messages: userTurn}).finalMessage();
  assert.deepEqual(final.content, reference.content);
  assert.equal(final.stop_reason, 'max_tokens');
  assert.deepEqual(final.usage.output_tokens, reference.usage.output_tokens);
  assert.deepEqual(final.usage.input_tokens, reference.usage.input_tokens);
});

await check('max_tokens cuts the reply; end_turn when the model stops', async () => {
  const short = await client.messages.create({model, max_tokens: 5, messages: userTurn});
  assert.equal(short.stop_reason, 'max_tokens');
  assert.equal(short.usage.output_tokens, 5);
  assert.ok(reference.content[0].text.startsWith(short.content[0].text));
  // stories260K never writes an end-of-text token at temperature 0; the stop string of
  // stories-stop's Modelfile ends its turn instead, which is no stop_sequence of the request.
  const n = await native(
      '/api/chat',
      {model: stopModel, messages: userTurn, stream: false, options: {num_predict: 40}});
  assert.equal(n.done_reason, 'stop', 'the native reply ends on its own');
  const params = {model: stopModel, max_tokens: 40, messages: userTurn};
  const whole = await client.messages.create(params);
  assert.equal(whole.stop_reason, 'end_turn');
  assert.equal(whole.stop_sequence, null);
  assert.equal(textOf(whole), n.message.content);
  assert.ok(whole.usage.output_tokens < 40);
  const events = await collect(params);
  assert.deepEqual(events.at(-2).delta, {stop_reason: 'end_turn', stop_sequence: null});
  return JSON.stringify(textOf(whole));
});

await check('stop_sequences: stop_reason stop_sequence names the one that matched', async () => {
  const full = reference.content[0].text;
  // A word from the middle of the reference reply; the reply stops right before it.
  const words = full.split(' ').filter((w) => /^[a-z]{3,}$/.test(w));
  const word = words[Math.floor(words.length / 2)];
  const cut = full.slice(0, full.indexOf(' ' + word));
  const params = {model, max_tokens: 40, messages: userTurn, stop_sequences: ['zzzz', ' ' + word]};
  const r = await client.messages.create(params);
  assert.equal(r.stop_reason, 'stop_sequence');
  assert.equal(r.stop_sequence, ' ' + word);
  assert.equal(textOf(r), cut);
  const events = await collect(params);
  assertEventOrder(events);
  assert.deepEqual(events.at(-2).delta, {stop_reason: 'stop_sequence', stop_sequence: ' ' + word});
  // A sequence that never comes leaves the reason alone.
  const none = await client.messages.create({...params, stop_sequences: ['qqqq']});
  assert.equal(none.stop_reason, 'max_tokens');
  assert.equal(none.stop_sequence, null);
  return JSON.stringify(word);
});

await check('system: a string and text blocks reach the prompt as one system message', async () => {
  // stories' own template ({{ .Prompt }}) has no place for a system prompt; stories-tools'
  // renders it.
  const system = 'You tell stories about cats. ';
  const messages = [{role: 'system', content: system + 'Short ones.'}, ...userTurn];
  const rendered =
      await native('/api/chat', {model: toolModel, messages, _debug_render_only: true});
  assert.equal(
      rendered._debug_info.rendered_template,
      `System: ${system}Short ones.\nUser: Once upon a time\nAssistant: `);
  await freshCache(toolModel);
  const n = await native(
      '/api/chat', {model: toolModel, messages, stream: false, options: {num_predict: 20}});
  await freshCache(toolModel);
  const asString = await client.messages.create(
      {model: toolModel, max_tokens: 20, system: system + 'Short ones.', messages: userTurn});
  await freshCache(toolModel);
  const asBlocks = await client.messages.create({
    model: toolModel,
    max_tokens: 20,
    system: [
      {type: 'text', text: system},
      {type: 'text', text: 'Short ones.', cache_control: {type: 'ephemeral'}}
    ],
    messages: userTurn
  });
  assert.equal(textOf(asString), n.message.content);
  assert.equal(textOf(asBlocks), n.message.content);
  assert.equal(asString.usage.input_tokens, n.prompt_eval_count);
  assert.equal(asBlocks.usage.input_tokens, n.prompt_eval_count);
  await freshCache(toolModel);
  const plain =
      await client.messages.create({model: toolModel, max_tokens: 20, messages: userTurn});
  assert.ok(asString.usage.input_tokens > plain.usage.input_tokens + 5, 'the system prompt counts');
});

await check('tool_use: a forced call, streamed and not', async () => {
  const params = {
    model: toolModel,
    max_tokens: 200,
    tools: [weatherTool],
    messages: [{role: 'user', content: 'What is the weather in Paris?'}],
    output_config: {format: {type: 'json_schema', schema: callSchema}}
  };
  const r = await client.messages.create(params);
  assert.equal(r.stop_reason, 'tool_use');
  const uses = r.content.filter((b) => b.type === 'tool_use');
  assert.equal(uses.length, 1, JSON.stringify(r.content));
  assert.match(uses[0].id, /^call_[a-z0-9]{8}$/);
  assert.equal(uses[0].name, 'get_weather');
  assert.ok(['Paris', 'London'].includes(uses[0].input.city), JSON.stringify(uses[0].input));

  const events = await collect(params);
  assertEventOrder(events);
  const start = events.find((e) => e.type === 'content_block_start');
  assert.equal(start.content_block.type, 'tool_use');
  assert.deepEqual(start.content_block.input, {});
  const json = events.filter((e) => e.delta?.type === 'input_json_delta');
  assert.equal(json.length, 1, 'the arguments arrive whole');
  assert.deepEqual(JSON.parse(json[0].delta.partial_json), uses[0].input);
  assert.equal(events.at(-2).delta.stop_reason, 'tool_use');
  const final = await client.messages.stream(params).finalMessage();
  assert.deepEqual(
      final.content.map((b) => b.type === 'tool_use' ? b.input : b),
      r.content.map((b) => b.type === 'tool_use' ? b.input : b));
  return JSON.stringify(uses[0]);
});

await check(
    'tool_result: the round trip reaches the prompt as the native tool message', async () => {
      const call = {id: 'call_abcd1234', name: 'get_weather', input: {city: 'Paris'}};
      const conversation = (result) =>
          [{role: 'user', content: 'What is the weather in Paris?'}, {
            role: 'assistant',
            content: [{type: 'text', text: 'Let me look.'}, {type: 'tool_use', ...call}]
          },
           {
             role: 'user',
             content: [
               {type: 'tool_result', tool_use_id: call.id, content: [{type: 'text', text: result}]},
               {type: 'text', text: 'Thanks!'}
             ]
           }];
      // The native conversation it must equal: the tool message, named from the call, comes
      // before the user's text.
      const nativeMessages = (result) =>
          [{role: 'user', content: 'What is the weather in Paris?'}, {
            role: 'assistant',
            content: 'Let me look.',
            tool_calls: [{id: call.id, function: {name: call.name, arguments: call.input}}]
          },
           {role: 'tool', content: result, tool_call_id: call.id, tool_name: call.name},
           {role: 'user', content: 'Thanks!'}];
      const tools = [{
        type: 'function',
        function: {
          name: weatherTool.name,
          description: weatherTool.description,
          parameters: weatherTool.input_schema
        }
      }];
      const rendered = await native('/api/chat', {
        model: toolModel,
        messages: nativeMessages('Sunny, 21 C'),
        tools,
        _debug_render_only: true
      });
      const prompt = rendered._debug_info.rendered_template;
      assert.ok(
          prompt.includes(
              'Assistant: Let me look.{"name": "get_weather", "arguments": {"city":"Paris"}}\n' +
              'Tool (get_weather): Sunny, 21 C\nUser: Thanks!\n'),
          prompt);
      for (const result
               of ['Sunny, 21 C', 'Heavy rain all day long, with strong winds from the west']) {
        await freshCache(toolModel);
        const n = await native('/api/chat', {
          model: toolModel,
          messages: nativeMessages(result),
          tools,
          stream: false,
          options: {num_predict: 12}
        });
        await freshCache(toolModel);
        const r = await client.messages.create({
          model: toolModel,
          max_tokens: 12,
          tools: [weatherTool],
          messages: conversation(result)
        });
        assert.equal(textOf(r), n.message.content, result);
        assert.equal(r.usage.input_tokens, n.prompt_eval_count, result);
      }
      await freshCache(toolModel);
      const short = await client.messages.create(
          {model: toolModel, max_tokens: 1, tools: [weatherTool], messages: conversation('Sunny')});
      await freshCache(toolModel);
      const long = await client.messages.create({
        model: toolModel,
        max_tokens: 1,
        tools: [weatherTool],
        messages: conversation('Sunny with a light breeze from the sea and a few clouds')
      });
      assert.ok(
          long.usage.input_tokens > short.usage.input_tokens + 5, 'the result is in the prompt');
    });

await check('thinking: thinking and text blocks, streamed and not', async () => {
  const params = {
    model: thinkModel,
    max_tokens: 40,
    messages: userTurn,
    thinking: {type: 'enabled', budget_tokens: 1024}
  };
  const n = await native('/api/chat', {
    model: thinkModel,
    messages: userTurn,
    think: true,
    stream: false,
    options: {num_predict: 40}
  });
  assert.ok(n.message.thinking && n.message.content, JSON.stringify(n.message));
  const r = await client.messages.create(params);
  assert.equal(r.content[0].type, 'thinking');
  assert.equal(r.content[0].thinking, n.message.thinking);
  assert.equal(textOf(r), n.message.content);
  const events = await collect(params);
  assertEventOrder(events);
  const thinking = events.filter((e) => e.delta?.type === 'thinking_delta')
                       .map((e) => e.delta.thinking)
                       .join('');
  assert.equal(thinking, n.message.thinking);
  const final = await client.messages.stream(params).finalMessage();
  assert.equal(final.content[0].thinking, n.message.thinking);
  // Thinking off: the tags stay in the text, as on /api/chat with think false.
  const off = await client.messages.create({...params, thinking: {type: 'disabled'}});
  assert.equal(off.content.length, 1);
  assert.equal(off.content[0].type, 'text');
  // Asked of a model that cannot think, thinking is dropped rather than refused (Ollama's
  // relax_thinking on this route); /api/chat refuses it.
  const relaxed = await client.messages.create({...params, model});
  assert.deepEqual(relaxed.content.map((b) => b.type), ['text']);
  assert.equal(textOf(relaxed), reference.content[0].text);
  return JSON.stringify(n.message.thinking.slice(0, 40));
});

await check('errors: the SDK error classes with the status and message', async () => {
  const expectError = async (params, Class, status, type, message, options) => {
    try {
      const r = await client.messages.create(params, options);
      if (params.stream)
        for await (const e of r) void e;
      assert.fail('no error');
    } catch (e) {
      assert.ok(e instanceof Class, `${e.constructor.name}: ${e.message}`);
      assert.equal(e.status, status);
      assert.equal(e.error?.type, 'error', JSON.stringify(e.error));
      assert.equal(e.error.error.type, type);
      assert.equal(e.error.error.message, message);
    }
  };
  await expectError(
      {model: 'nosuch', max_tokens: 5, messages: userTurn}, Anthropic.NotFoundError, 404,
      'not_found_error', 'model \'nosuch\' not found');
  await expectError(
      {model: 'nosuch', max_tokens: 5, messages: userTurn, stream: true}, Anthropic.NotFoundError,
      404, 'not_found_error', 'model \'nosuch\' not found');
  await expectError(
      {model, messages: userTurn}, Anthropic.BadRequestError, 400, 'invalid_request_error',
      'max_tokens is required and must be positive');
  await expectError(
      {model, max_tokens: 5, messages: []}, Anthropic.BadRequestError, 400, 'invalid_request_error',
      'messages is required');
  await expectError(
      {model, max_tokens: 5, messages: userTurn, container: 'c'}, Anthropic.BadRequestError, 400,
      'invalid_request_error', 'unsupported field \'container\'');
  await expectError(
      {model, max_tokens: 5, messages: [{role: 'user', content: [{type: 'document', source: {}}]}]},
      Anthropic.BadRequestError, 400, 'invalid_request_error',
      'messages.0.content.0.type: content block type \'document\' is not supported');
  await expectError(
      {model, max_tokens: 5, messages: userTurn, tools: [weatherTool]}, Anthropic.BadRequestError,
      400, 'invalid_request_error',
      'registry.ollama.ai/library/stories:latest does not support tools');
  // Ignored fields and Anthropic's headers change nothing.
  const r = await client.messages.create(
      {model, max_tokens: 40, messages: userTurn, metadata: {user_id: 'u1'}, service_tier: 'auto'},
      {headers: {'anthropic-version': '2023-06-01', 'anthropic-beta': 'x'}});
  assert.equal(textOf(r), reference.content[0].text);
});

await server.stop();
checks.finish(suite.tmp);
