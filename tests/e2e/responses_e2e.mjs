// End-to-end suite of OpenAI's Responses API (POST /v1/responses, stateless) on `corral serve`,
// driven by the official `openai` client: string and item-list input, instructions, the
// streamed event order, function_call output items and their round trip, and errors.
//
// Usage: node responses_e2e.mjs CORRAL_BINARY TMP_DIR [MODEL.gguf]
//   MODEL.gguf defaults to stories260K.gguf under $CORRAL_TESTDATA or ../shared/testdata.
//   Exits 1 on any failure, 77 when nothing can run (the openai package or the test model is
//   missing). The client comes from tools/testclients/install.sh.
import assert from 'node:assert/strict';

import {callSchema, Checks, createModel, postNative, requireClient, Server, suiteSetup, toolTemplate} from './harness.mjs';

const OpenAI = requireClient('openai').default;
const suite = suiteSetup('responses_e2e.mjs', 'responses-e2e-');

const checks = new Checks([/^create the models/]);
const check = (name, fn) => checks.check(name, fn);

const model = 'stories';
const toolModel = 'stories-tools';
const weatherTool = {
  type: 'function',
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: {type: 'object', properties: {city: {type: 'string'}}, required: ['city']},
  strict: false
};

const server = await Server.start(suite);
const openai = new OpenAI({baseURL: `${server.base}/v1`, apiKey: 'x', maxRetries: 0});

const native = (route, body) => postNative(server, route, body);

function nativeChat(messages, numPredict, m = model) {
  return native(
      '/api/chat',
      {model: m, messages, stream: false, options: {num_predict: numPredict, temperature: 0}});
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

// Every event of a streamed create.
async function collect(params) {
  const events = [];
  for await (const e of await openai.responses.create({...params, stream: true})) events.push(e);
  return events;
}

// The Responses event grammar: created, in_progress, then per output item added ... done with
// its own events between, then completed; sequence numbers count from 0.
function assertEventOrder(events) {
  events.forEach((e, i) => assert.equal(e.sequence_number, i, `${e.type} #${i}`));
  assert.equal(events[0].type, 'response.created');
  assert.equal(events[1].type, 'response.in_progress');
  assert.equal(events.at(-1).type, 'response.completed');
  let open = null;
  let index = 0;
  for (const e of events.slice(2, -1)) {
    if (e.type === 'response.output_item.added') {
      assert.equal(open, null);
      assert.equal(e.output_index, index);
      open = e.item;
    } else if (e.type === 'response.output_item.done') {
      assert.equal(e.item.id, open.id);
      assert.equal(e.output_index, index++);
      open = null;
    } else {
      assert.ok(open, `${e.type} outside an item`);
      assert.equal(e.item_id, open.id, e.type);
      assert.equal(e.output_index, index, e.type);
      const allowed = {
        message: /^response\.(content_part\.(added|done)|output_text\.(delta|done))$/,
        reasoning: /^response\.reasoning_summary_(part|text)\.(added|delta|done)$/,
        function_call: /^response\.function_call_arguments\.(delta|done)$/
      };
      assert.match(e.type, allowed[open.type], `${e.type} in a ${open.type} item`);
    }
  }
  assert.equal(open, null, 'an item was left open');
}

const input = 'Once upon a time';

await check('create the models (stories, stories-tools)', async () => {
  await createModel(server, model, suite.modelPath, {temperature: 0});
  await native(
      '/api/create', {model: toolModel, from: model, template: toolTemplate, stream: false});
});

let reference;

await check('string input: the text and usage of the native /api/chat reply', async () => {
  await freshCache();
  const n = await nativeChat([{role: 'user', content: input}], 30);
  await freshCache();
  const r = await openai.responses.create({model, input, temperature: 0, max_output_tokens: 30});
  assert.match(r.id, /^resp_[0-9a-f]{24}$/);
  assert.equal(r.object, 'response');
  assert.equal(r.status, 'completed');
  assert.equal(r.model, model);
  assert.equal(r.output.length, 1);
  assert.equal(r.output[0].type, 'message');
  assert.equal(r.output[0].role, 'assistant');
  assert.equal(r.output[0].content[0].type, 'output_text');
  assert.equal(r.output_text, n.message.content);
  assert.ok(r.output_text.length > 0);
  assert.equal(r.usage.output_tokens, n.eval_count);
  assert.equal(r.usage.input_tokens, n.prompt_eval_count);
  assert.equal(r.usage.total_tokens, n.eval_count + n.prompt_eval_count);
  assert.equal(r.max_output_tokens, 30);
  assert.equal(r.temperature, 0);
  reference = r;
  return JSON.stringify(r.output_text.slice(0, 50));
});

await check('instructions and an item list equal the native conversation', async () => {
  const messages = [
    {role: 'system', content: 'Tell stories about cats.'}, {role: 'user', content: 'Hello'},
    {role: 'assistant', content: 'Hi there.'}, {role: 'user', content: input}
  ];
  // stories' own template ({{ .Prompt }}) renders only the last user message;
  // stories-tools' renders them all.
  const rendered =
      await native('/api/chat', {model: toolModel, messages, _debug_render_only: true});
  assert.equal(
      rendered._debug_info.rendered_template,
      'System: Tell stories about cats.\nUser: Hello\nAssistant: Hi there.\n' +
          `User: ${input}\nAssistant: `);
  await freshCache(toolModel);
  const n = await nativeChat(messages, 20, toolModel);
  await freshCache(toolModel);
  const r = await openai.responses.create({
    model: toolModel,
    temperature: 0,
    max_output_tokens: 20,
    instructions: 'Tell stories about cats.',
    input: [
      {role: 'user', content: 'Hello'}, {
        type: 'message',
        role: 'assistant',
        content: [{type: 'output_text', text: 'Hi there.', annotations: []}]
      },
      {type: 'message', role: 'user', content: [{type: 'input_text', text: input}]}
    ]
  });
  assert.equal(r.output_text, n.message.content);
  assert.equal(r.usage.input_tokens, n.prompt_eval_count);
  assert.equal(r.instructions, 'Tell stories about cats.');
});

await check('streamed: the event order, sequence numbers and the same text', async () => {
  const params = {model, input, temperature: 0, max_output_tokens: 30};
  await freshCache();
  const events = await collect(params);
  assertEventOrder(events);
  const types = events.map((e) => e.type);
  assert.deepEqual(types.slice(0, 4), [
    'response.created', 'response.in_progress', 'response.output_item.added',
    'response.content_part.added'
  ]);
  assert.deepEqual(types.slice(-4), [
    'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
    'response.completed'
  ]);
  const text = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta);
  assert.ok(text.length > 1, 'streamed');
  assert.equal(text.join(''), reference.output_text);
  assert.equal(
      events.find((e) => e.type === 'response.output_text.done').text, reference.output_text);
  const done = events.at(-1).response;
  assert.equal(done.status, 'completed');
  assert.deepEqual(done.usage, reference.usage);
  assert.equal(done.id, events[0].response.id);
  // The SDK's stream helper accumulates the same response.
  const final = await openai.responses.stream(params).finalResponse();
  assert.equal(final.output_text, reference.output_text);
});

await check('function_call: an output item, streamed and not, and its round trip', async () => {
  const params = {
    model: toolModel,
    temperature: 0,
    max_output_tokens: 200,
    tools: [weatherTool],
    input: 'What is the weather in Paris?',
    text: {format: {type: 'json_schema', name: 'call', schema: callSchema}}
  };
  const r = await openai.responses.create(params);
  assert.equal(r.output.length, 1, JSON.stringify(r.output));
  const call = r.output[0];
  assert.equal(call.type, 'function_call');
  assert.equal(call.status, 'completed');
  assert.equal(call.name, 'get_weather');
  assert.match(call.call_id, /^call_[a-z0-9]{8}$/);
  const args = JSON.parse(call.arguments);
  assert.ok(['Paris', 'London'].includes(args.city), call.arguments);
  assert.equal(r.tools[0].name, 'get_weather');

  const events = await collect(params);
  assertEventOrder(events);
  const deltas = events.filter((e) => e.type === 'response.function_call_arguments.delta');
  assert.equal(deltas.length, 1, 'the arguments arrive whole');
  assert.deepEqual(JSON.parse(deltas[0].delta), args);
  const done = events.find((e) => e.type === 'response.function_call_arguments.done');
  assert.equal(done.arguments, deltas[0].delta);
  assert.equal(events.at(-1).response.output[0].type, 'function_call');

  // The round trip: the call and its output go back as items; the native conversation they
  // must equal has the tool message named after the call.
  const followUp = (result) => ({
    model: toolModel,
    temperature: 0,
    max_output_tokens: 12,
    tools: [weatherTool],
    input: [
      {role: 'user', content: 'What is the weather in Paris?'},
      {type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments},
      {type: 'function_call_output', call_id: call.call_id, output: result},
      {role: 'user', content: 'Thanks!'}
    ]
  });
  for (const result
           of ['Sunny, 21 C', 'Heavy rain all day long, with strong winds from the west']) {
    await freshCache(toolModel);
    const n = await native('/api/chat', {
      model: toolModel,
      stream: false,
      options: {num_predict: 12, temperature: 0},
      tools: [{
        type: 'function',
        function: {
          name: weatherTool.name,
          description: weatherTool.description,
          parameters: weatherTool.parameters
        }
      }],
      messages: [
        {role: 'user', content: 'What is the weather in Paris?'}, {
          role: 'assistant',
          content: '',
          tool_calls: [{id: call.call_id, function: {name: call.name, arguments: args}}]
        },
        {role: 'tool', content: result, tool_call_id: call.call_id, tool_name: call.name},
        {role: 'user', content: 'Thanks!'}
      ]
    });
    await freshCache(toolModel);
    const answer = await openai.responses.create(followUp(result));
    assert.equal(answer.output_text, n.message.content, result);
    assert.equal(answer.usage.input_tokens, n.prompt_eval_count, result);
  }
  return call.arguments;
});

await check('errors: OpenAI error objects with the status and message', async () => {
  const expectError = async (params, Class, status, type, message) => {
    try {
      const r = await openai.responses.create(params);
      if (params.stream)
        for await (const e of r) void e;
      assert.fail('no error');
    } catch (e) {
      assert.ok(e instanceof Class, `${e.constructor.name}: ${e.message}`);
      assert.equal(e.status, status);
      assert.equal(e.type, type);
      assert.equal(e.error.message, message);
      assert.equal(e.param, null);
    }
  };
  await expectError(
      {model: 'nosuch', input}, OpenAI.NotFoundError, 404, 'not_found_error',
      'model \'nosuch\' not found');
  await expectError(
      {model: 'nosuch', input, stream: true}, OpenAI.NotFoundError, 404, 'not_found_error',
      'model \'nosuch\' not found');
  await expectError(
      {model, input, previous_response_id: reference.id}, OpenAI.BadRequestError, 400,
      'invalid_request_error',
      'previous_response_id is not supported: responses are not stored here, send ' +
          'the whole conversation as input');
  await expectError(
      {model, input, top_logprobs: 2}, OpenAI.BadRequestError, 400, 'invalid_request_error',
      'unsupported field \'top_logprobs\'');
  await expectError(
      {model, input, tools: [{type: 'web_search'}]}, OpenAI.BadRequestError, 400,
      'invalid_request_error',
      'tools.0.type: tool type \'web_search\' is not supported, only function tools are');
  await expectError(
      {model, input, tools: [weatherTool]}, OpenAI.BadRequestError, 400, 'invalid_request_error',
      'registry.ollama.ai/library/stories:latest does not support tools');
  // Ignored fields change nothing.
  const r = await openai.responses.create({
    model,
    input,
    temperature: 0,
    max_output_tokens: 30,
    metadata: {k: 'v'},
    store: false,
    user: 'u1'
  });
  assert.equal(r.output_text, reference.output_text);
  assert.deepEqual(r.metadata, {k: 'v'});
});

await server.stop();
checks.finish(suite.tmp);
