// End-to-end suite of `corral serve` driven by the official `ollama` JavaScript client (0.6.x)
// and by raw HTTP: model management, generate, chat, structured output, logprobs, embeddings,
// errors, concurrency and the queue limit, memory over many requests, and a crash mid-upload.
//
// Usage: node ollama_client_e2e.mjs CORRAL_BINARY TMP_DIR [MODEL.gguf]
//   MODEL.gguf defaults to stories260K.gguf under $CORRAL_TESTDATA or ../shared/testdata (beside
//   the repository). Prints one line per check; exits 1 on any failure, 77 when nothing can run
//   (the ollama package or the test model is missing).
//
// The ollama package lives outside the source tree, in CORRAL_TESTCLIENTS_DIR (default
// $XDG_CACHE_HOME/corral/testclients); tools/testclients/install.sh puts it there.
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {createHash, randomBytes} from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import {Checks, rawRequest, repoRoot, requireClient, Server as CorralServer, sleep, suiteSetup} from './harness.mjs';

const {Ollama} = requireClient('ollama');
const suite = suiteSetup('ollama_client_e2e.mjs', 'ollama-e2e-');
const {binary, tmp, modelPath, modelsDir} = suite;

// Two checks upload and create the model the rest need: CORRAL_E2E_ONLY always runs them.
const checks = new Checks([/^(upload the GGUF blob|create stories)/]);
const check = (name, fn) => checks.check(name, fn);

// `corral serve` with the ollama client on it.
const Server = {
  async start(env = {}) {
    const s = await CorralServer.start(suite, env);
    s.client = new Ollama({host: s.base});
    return s;
  }
};

async function postJson(server, route, body) {
  const res = await fetch(
      server.base + route,
      {method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body)});
  return {status: res.status, type: res.headers.get('content-type'), text: await res.text()};
}

// Asserts a native error: the status and {"error": text} exactly.
function assertError(r, status, text, what) {
  assert.equal(r.status, status, `${what}: status ${r.status} body ${r.text}`);
  assert.deepEqual(JSON.parse(r.text), {error: text}, what);
}

const rfc3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;
const hex64 = /^[0-9a-f]{64}$/;
const isCount = (v) => Number.isInteger(v) && v > 0;

function assertDetails(d) {
  assert.equal(d.format, 'gguf');
  assert.equal(d.family, 'llama');
  assert.deepEqual(d.families, ['llama']);
  assert.equal(typeof d.parent_model, 'string');
  // 292,992 parameters (llama.cpp's count), formatted as Ollama's HumanNumber does.
  assert.equal(d.parameter_size, '293K');
  // The file has no general.file_type: Ollama's FileType() is then "unknown".
  assert.equal(d.quantization_level, 'unknown');
}

// The final chunk / non-streamed reply of a generation that stopped on num_predict.
function assertFinal(r, model, nPredict) {
  assert.equal(r.model, model);
  assert.match(r.created_at, rfc3339);
  assert.match(r.created_at, /Z$/, 'created_at is UTC');
  assert.equal(r.done, true);
  assert.equal(r.done_reason, 'length');
  assert.equal(r.eval_count, nPredict);
  for (const k of ['total_duration', 'load_duration', 'prompt_eval_count', 'eval_duration']) {
    assert.ok(isCount(r[k]), `${k} = ${r[k]}`);
  }
  assert.ok(r.total_duration >= r.eval_duration);
}

// ---- the reference text ----

function referenceGreedy(text, nPredict) {
  const r = spawnSync('node', [path.join(repoRoot, 'tools', 'reference', 'llama_reference.mjs')], {
    input: JSON.stringify({op: 'greedy', model: modelPath, text, n_predict: nPredict}),
    encoding: 'utf8',
    timeout: 120000
  });
  let out;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    return {error: `no answer (status ${r.status}): ${r.stderr}`};
  }
  return out;
}

// ---- scenarios ----

const model = 'stories';
const modelBytes = fs.readFileSync(modelPath);
const modelDigest = 'sha256:' + createHash('sha256').update(modelBytes).digest('hex');
// Before any server: the harness blocks the event loop (spawnSync) for seconds.
const reference = referenceGreedy('Once upon a time', 30);
let server = await Server.start();
let ollama = server.client;

await check('upload the GGUF blob (201, then 200 when present; HEAD 200)', async () => {
  let r =
      await fetch(`${server.base}/api/blobs/${modelDigest}`, {method: 'POST', body: modelBytes});
  assert.equal(r.status, 201, await r.text());
  r = await fetch(`${server.base}/api/blobs/${modelDigest}`, {method: 'POST', body: modelBytes});
  assert.equal(r.status, 200);
  r = await fetch(`${server.base}/api/blobs/${modelDigest}`, {method: 'HEAD'});
  assert.equal(r.status, 200);
  const onDisk = path.join(modelsDir, 'blobs', modelDigest.replace(':', '-'));
  assert.ok(fs.readFileSync(onDisk).equals(modelBytes), 'blob bytes on disk');
});

await check('create stories with the client (files, parameters)', async () => {
  const r = await ollama.create(
      {model, files: {'stories260K.gguf': modelDigest}, parameters: {temperature: 0}});
  assert.equal(r.status, 'success');
  const stream = await ollama.create(
      {model: 'stories-streamed', files: {'stories260K.gguf': modelDigest}, stream: true});
  const statuses = [];
  for await (const part of stream) statuses.push(part.status);
  assert.equal(statuses.at(-1), 'success', statuses.join(' | '));
  await ollama.delete({model: 'stories-streamed'});
});

await check('version', async () => {
  const v = await ollama.version();
  assert.deepEqual(Object.keys(v), ['version']);
  assert.match(v.version, /^\d+\.\d+\.\d+/);
});

let manifestDigest;
await check('list: the created model with its fields', async () => {
  const {models} = await ollama.list();
  assert.equal(models.length, 1, JSON.stringify(models));
  const m = models[0];
  assert.equal(m.name, 'stories:latest');
  assert.equal(m.model, 'stories:latest');
  assert.match(m.modified_at, rfc3339);
  assert.ok(Math.abs(Date.parse(m.modified_at) - Date.now()) < 600000, m.modified_at);
  assert.ok(m.size > modelBytes.length && m.size < modelBytes.length + 100000, `size ${m.size}`);
  assert.match(m.digest, hex64);
  const manifest = fs.readFileSync(
      path.join(modelsDir, 'manifests', 'registry.ollama.ai', 'library', 'stories', 'latest'));
  assert.equal(m.digest, createHash('sha256').update(manifest).digest('hex'), 'manifest digest');
  manifestDigest = m.digest;
  assertDetails(m.details);
  assert.equal(m.expires_at, undefined);
});

let embeddingLength;
await check('show: details, model_info, template, parameters, capabilities', async () => {
  const s = await ollama.show({model});
  embeddingLength = s.model_info['llama.embedding_length'];
  assert.equal(embeddingLength, 64);
  assert.equal(s.model_info['llama.context_length'], 2048);
  assert.equal(s.model_info['general.architecture'], 'llama');
  assertDetails(s.details);
  assert.equal(s.details.context_length, 2048);
  assert.equal(s.details.embedding_length, 64);
  assert.equal(s.model_info['general.name'], undefined, 'general.name is left out');
  assert.equal(typeof s.template, 'string');
  assert.ok(s.template.length > 0);
  assert.match(s.parameters, /^temperature\s+0$/m, s.parameters);
  assert.ok(s.capabilities.includes('completion'), JSON.stringify(s.capabilities));
  assert.ok(!s.capabilities.includes('embedding'));
  assert.match(s.modified_at, rfc3339);
  assert.equal(s.tensors.length, 48);
  assert.deepEqual(
      s.tensors.find((t) => t.name === 'token_embd.weight'),
      {name: 'token_embd.weight', type: 'F32', shape: [64, 512]});
  // Long arrays are left out unless verbose.
  assert.ok(
      !Array.isArray(s.model_info['tokenizer.ggml.tokens']) ||
      s.model_info['tokenizer.ggml.tokens'].length === 0);
  const verbose = await ollama.show({model, verbose: true});
  assert.equal(verbose.model_info['tokenizer.ggml.tokens'].length, 512);
  assert.equal(typeof s.modelfile, 'string', 'show has a modelfile');
  assert.match(s.modelfile, /^# Modelfile generated by "ollama show"/);
  assert.match(s.modelfile, /^PARAMETER temperature 0$/m);
});

// Clients keep idle connections (node's undici for 4 s) and send the next request on them; the
// server must not have closed them by then (a large POST on a closed connection fails: EPIPE).
await check('a POST on a connection idle for 4.5 s still works', async () => {
  assert.equal((await fetch(server.base + '/')).status, 200);
  await new Promise((r) => setTimeout(r, 4500));
  const r = await fetch(`${server.base}/api/show`, {
    method: 'POST',
    body: JSON.stringify({model, padding: 'x'.repeat(4 << 20)}),
  });
  assert.equal(r.status, 200);
});

await check('copy, then delete the copy', async () => {
  assert.deepEqual(
      await ollama.copy({source: model, destination: 'copy/stories:v1'}), {status: 'success'});
  let {models} = await ollama.list();
  const copy = models.find((m) => m.name === 'copy/stories:v1');
  assert.ok(copy, JSON.stringify(models.map((m) => m.name)));
  assert.equal(copy.digest, manifestDigest);
  assert.deepEqual(await ollama.delete({model: 'copy/stories:v1'}), {status: 'success'});
  ({models} = await ollama.list());
  assert.deepEqual(models.map((m) => m.name), ['stories:latest']);
  assert.ok(
      fs.existsSync(path.join(modelsDir, 'blobs', modelDigest.replace(':', '-'))),
      'the shared blob stays');
});

await check('generate: streamed chunks equal the non-streamed reply (temperature 0)', async () => {
  const req = {model, prompt: 'Once upon a time', options: {num_predict: 24}};
  const whole = await ollama.generate({...req, stream: false});
  assertFinal(whole, model, 24);
  assert.ok(whole.response.length > 0);
  assert.ok(
      Array.isArray(whole.context) && whole.context.length > 24 &&
          whole.context.every(Number.isInteger),
      'context');
  const stream = await ollama.generate({...req, stream: true});
  let text = '';
  let last;
  let n = 0;
  for await (const part of stream) {
    ++n;
    assert.equal(part.model, model);
    assert.equal(typeof part.response, 'string');
    if (!part.done) assert.equal(part.context, undefined);
    text += part.response;
    last = part;
  }
  assert.ok(n > 2, `${n} chunks`);
  assertFinal(last, model, 24);
  assert.deepEqual(last.context, whole.context);
  assert.equal(text, whole.response);
});

await check('ps after a generate', async () => {
  const {models} = await ollama.ps();
  assert.equal(models.length, 1, JSON.stringify(models));
  const m = models[0];
  assert.equal(m.name, 'stories:latest');
  assert.equal(m.model, 'stories:latest');
  assert.ok(isCount(m.size), `size ${m.size}`);
  assert.equal(m.size_vram, 0);
  assert.equal(m.digest, manifestDigest);
  assertDetails(m.details);
  assert.ok(isCount(m.context_length), `context_length ${m.context_length}`);
  assert.match(m.expires_at, rfc3339);
  const left = Date.parse(m.expires_at) - Date.now();
  assert.ok(left > 200000 && left <= 301000, `expires in ${left} ms (keep_alive 5m)`);
});

await check('ps after keep_alive -1: expires_at is Go\'s forever (now + 292 years)', async () => {
  await ollama.generate({model, prompt: '', keep_alive: -1});
  const {models} = await ollama.ps();
  assert.equal(models.length, 1);
  assert.match(models[0].expires_at, rfc3339);
  const year = Number(models[0].expires_at.slice(0, 4));
  const now = new Date().getUTCFullYear();
  assert.ok(year >= now + 292 && year <= now + 293, models[0].expires_at);
});

await check('unload with keep_alive 0: ps is empty after', async () => {
  const r = await ollama.generate({model, prompt: '', keep_alive: 0});
  assert.equal(r.done, true);
  assert.equal(r.done_reason, 'unload');
  assert.equal(r.response, '');
  assert.deepEqual((await ollama.ps()).models, []);
  const c = await ollama.chat({model, messages: [], keep_alive: 0});
  assert.equal(c.done_reason, 'unload');
  assert.deepEqual(c.message, {role: 'assistant', content: ''});
});

await check('raw generate equals llama.cpp greedy continuation', async () => {
  if (reference.error) return `SKIPPED (no llama.cpp reference: ${reference.error})`;
  const r = await ollama.generate(
      {model, prompt: 'Once upon a time', raw: true, stream: false, options: {num_predict: 30}});
  assert.equal(r.response, reference.text);
  assert.equal(r.eval_count, 30);
  assert.equal(r.context, undefined, 'raw replies carry no context');
  assert.equal(r.prompt_eval_count, reference.prompt.length);
  return JSON.stringify(r.response);
});

await check('stop strings end the text before the stop', async () => {
  const base = {model, prompt: 'Once upon a time', raw: true, stream: false};
  const full = await ollama.generate({...base, options: {num_predict: 30}});
  const cut = full.response.indexOf(' girl');
  assert.ok(cut > 0, full.response);
  for (const stream of [false, true]) {
    const req = {...base, stream, options: {num_predict: 30, stop: [' girl', 'zzz']}};
    let text = '';
    let last;
    if (stream) {
      for await (const part of await ollama.generate(req)) {
        text += part.response;
        last = part;
      }
    } else {
      last = await ollama.generate(req);
      text = last.response;
    }
    assert.equal(text, full.response.slice(0, cut), `stream ${stream}`);
    assert.equal(last.done_reason, 'stop');
  }
});

await check('options.num_predict gives exactly that many tokens', async () => {
  for (const n of [1, 7]) {
    const r = await ollama.generate({model, prompt: 'Tom had a dog', options: {num_predict: n}});
    assert.equal(r.eval_count, n);
    assert.equal(r.done_reason, 'length');
    assert.equal(r.logprobs, undefined);
  }
});

await check('chat: streamed chunks equal the non-streamed reply', async () => {
  const req = {
    model,
    messages: [{role: 'user', content: 'Tell me about a cat.'}],
    options: {num_predict: 20}
  };
  const whole = await ollama.chat({...req, stream: false});
  assertFinal(whole, model, 20);
  assert.equal(whole.message.role, 'assistant');
  assert.ok(whole.message.content.length > 0);
  assert.equal(whole.context, undefined);
  let text = '';
  let last;
  for await (const part of await ollama.chat({...req, stream: true})) {
    assert.equal(part.message.role, 'assistant');
    text += part.message.content;
    last = part;
  }
  assertFinal(last, model, 20);
  assert.equal(last.message.content, '', 'the final chunk carries no content');
  assert.equal(text, whole.message.content);
});

// Throws a SyntaxError unless `text` is JSON or a prefix of some JSON text (a generation cut by
// num_predict): a recursive-descent parser for which running out of input is not an error.
function assertJsonOrPrefix(text) {
  let i = 0;
  const end = () => i >= text.length;
  const ws = () => {
    while (!end() && ' \t\r\n'.includes(text[i])) ++i;
    return !end();
  };
  const fail = () => {
    throw new SyntaxError(
        `not JSON at ${i}: ${JSON.stringify(text.slice(Math.max(0, i - 20), i + 20))}`);
  };
  const literal = (word) => {
    for (const c of word) {
      if (end()) return false;
      if (text[i++] !== c) fail();
    }
    return true;
  };
  const string = () => {
    ++i;  // the opening quote
    while (!end()) {
      const c = text[i++];
      if (c === '"') return true;
      if (c.charCodeAt(0) < 0x20) fail();
      if (c === '\\') {
        if (end()) return false;
        const e = text[i++];
        if (e === 'u') {
          for (let k = 0; k < 4; ++k) {
            if (end()) return false;
            if (!/[0-9a-fA-F]/.test(text[i++])) fail();
          }
        } else if (!'"\\/bfnrt'.includes(e)) {
          fail();
        }
      }
    }
    return false;
  };
  const value = () => {
    if (!ws()) return false;
    const c = text[i];
    if (c === '"') return string();
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      ++i;
      if (!ws()) return false;
      if (text[i] === close) return ++i, true;
      for (;;) {
        if (close === '}') {
          if (text[i] !== '"') fail();
          if (!string() || !ws()) return false;
          if (text[i++] !== ':') fail();
        }
        if (!value() || !ws()) return false;
        const sep = text[i++];
        if (sep === close) return true;
        if (sep !== ',') fail();
        if (!ws()) return false;
      }
    }
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    const m = /^-?(0|[1-9]\d*)?(\.\d*)?([eE][+-]?\d*)?/.exec(text.slice(i));
    if (!m[0]) fail();
    i += m[0].length;
    if (end()) return false;
    JSON.parse(m[0]);  // not at the end, so the number must be complete
    return true;
  };
  if (value() && ws()) fail();  // trailing text after a complete value
}

await check('format json: the output is JSON (or its prefix when cut by num_predict)', async () => {
  // The prefix checker rejects broken JSON.
  for (const bad of ['{"a" 1', '{"a":1}}', '[1,,2]', '{a:1}', '"\\q"']) {
    assert.throws(() => assertJsonOrPrefix(bad), SyntaxError, bad);
  }
  for (const good of ['{"a": [1, -2.5e3, "x\\n", {}], "b": nu', '{ "x" : "abc']) {
    assertJsonOrPrefix(good);
  }
  const r = await ollama.chat({
    model,
    messages: [{role: 'user', content: 'A dog as JSON.'}],
    format: 'json',
    options: {num_predict: 300}
  });
  const text = r.message.content;
  if (r.done_reason === 'stop') {
    JSON.parse(text);
  } else {
    // stories260K never closes its JSON strings within the budget; check what came out.
    assert.equal(r.done_reason, 'length');
    assert.equal(r.eval_count, 300);
    assertJsonOrPrefix(text);
  }
  const g =
      await ollama.generate({model, prompt: 'Hi', format: 'json', options: {num_predict: 200}});
  assertJsonOrPrefix(g.response);
  assert.match(g.response, /^\s*[{\[]/);
  return `${r.done_reason}: ${JSON.stringify(text.slice(0, 60))}...`;
});

await check('chat format schema: the output validates', async () => {
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
  const r = await ollama.chat({
    model,
    messages: [{role: 'user', content: 'A pet.'}],
    format: schema,
    options: {num_predict: 200}
  });
  assert.equal(r.done_reason, 'stop', r.message.content);
  const v = JSON.parse(r.message.content);
  assert.deepEqual(Object.keys(v).sort(), ['age', 'kind', 'name']);
  assert.equal(typeof v.name, 'string');
  assert.ok([...v.name].length <= 12, v.name);
  assert.ok(Number.isInteger(v.age) && v.age >= 1 && v.age <= 99, String(v.age));
  assert.ok(['cat', 'dog', 'bird'].includes(v.kind), v.kind);
  return r.message.content;
});

await check('logprobs with top_logprobs 3 (generate and chat)', async () => {
  const r = await ollama.generate({
    model,
    prompt: 'Once upon a time',
    raw: true,
    logprobs: true,
    top_logprobs: 3,
    options: {num_predict: 6}
  });
  assert.equal(r.logprobs.length, 6);
  assert.equal(r.logprobs.map((l) => l.token).join(''), r.response);
  for (const l of r.logprobs) {
    assert.equal(typeof l.token, 'string');
    assert.ok(l.logprob <= 0 && Number.isFinite(l.logprob), String(l.logprob));
    assert.deepEqual(l.bytes, [...Buffer.from(l.token, 'utf8')]);
    assert.equal(l.top_logprobs.length, 3);
    for (let i = 0; i < 3; ++i) {
      const t = l.top_logprobs[i];
      assert.equal(typeof t.token, 'string');
      assert.deepEqual(t.bytes, [...Buffer.from(t.token, 'utf8')]);
      if (i > 0) assert.ok(t.logprob <= l.top_logprobs[i - 1].logprob, 'sorted descending');
    }
    // Greedy: the chosen token is the most likely one.
    assert.equal(l.top_logprobs[0].token, l.token);
    assert.ok(Math.abs(l.top_logprobs[0].logprob - l.logprob) < 1e-5);
  }
  const c = await ollama.chat({
    model,
    messages: [{role: 'user', content: 'Hi'}],
    logprobs: true,
    options: {num_predict: 4}
  });
  assert.equal(c.logprobs.length, 4);
  assert.equal(c.logprobs.map((l) => l.token).join(''), c.message.content);
  assert.equal(c.logprobs[0].top_logprobs, undefined, 'no top_logprobs unless asked');
});

await check('embed: normalized vectors; legacy embeddings', async () => {
  const r = await ollama.embed({model, input: ['Once upon a time', 'a cat']});
  assert.equal(r.model, model);
  assert.equal(r.embeddings.length, 2);
  for (const v of r.embeddings) {
    assert.equal(v.length, embeddingLength);
    const norm = Math.hypot(...v);
    assert.ok(Math.abs(norm - 1) < 1e-3, `norm ${norm}`);
  }
  assert.notDeepEqual(r.embeddings[0], r.embeddings[1]);
  assert.ok(isCount(r.prompt_eval_count) && isCount(r.total_duration));
  const single = await ollama.embed({model, input: 'Once upon a time'});
  assert.equal(single.embeddings.length, 1);
  single.embeddings[0].forEach((x, i) => assert.ok(Math.abs(x - r.embeddings[0][i]) < 1e-4));
  const legacy = await ollama.embeddings({model, prompt: 'Once upon a time'});
  assert.deepEqual(Object.keys(legacy), ['embedding']);
  assert.equal(legacy.embedding.length, embeddingLength);
  // Not normalized, but the same direction as /api/embed's vector.
  const norm = Math.hypot(...legacy.embedding);
  const cos = legacy.embedding.reduce((s, x, i) => s + x * r.embeddings[0][i], 0) / norm;
  assert.ok(cos > 0.999, `cosine ${cos}`);
  assert.deepEqual(await ollama.embed({model, input: []}).then((e) => e.embeddings), []);
});

await check('errors: unknown model, per endpoint', async () => {
  const nope = {model: 'nope'};
  assertError(
      await postJson(server, '/api/generate', {...nope, prompt: 'x'}), 404,
      'model \'nope\' not found', 'generate');
  assertError(
      await postJson(server, '/api/chat', {...nope, messages: []}), 404, 'model \'nope\' not found',
      'chat');
  assertError(
      await postJson(server, '/api/embed', {...nope, input: 'x'}), 404,
      'model "nope" not found, try pulling it first', 'embed');
  assertError(
      await postJson(server, '/api/embeddings', {...nope, prompt: 'x'}), 404,
      'model "nope" not found, try pulling it first', 'embeddings');
  assertError(
      await postJson(server, '/api/show', nope), 404, 'model \'nope:latest\' not found', 'show');
  assertError(
      await postJson(server, '/api/copy', {source: 'nope', destination: 'x'}), 404,
      'model "nope" not found', 'copy');
  const del =
      await fetch(server.base + '/api/delete', {method: 'DELETE', body: '{"model":"nope"}'});
  assertError(
      {status: del.status, text: await del.text()}, 404, 'model \'nope\' not found', 'delete');
  assertError(
      await postJson(server, '/api/generate', {prompt: 'x'}), 404, 'model \'\' not found',
      'generate without model');
  assertError(await postJson(server, '/api/chat', {}), 400, 'model is required', 'chat no model');
});

await check('errors: malformed JSON, wrong types, empty body', async () => {
  for (const route of ['/api/generate', '/api/chat', '/api/embed', '/api/show', '/api/create']) {
    let r = await postJson(server, route, '{"model": "stories",');
    assert.equal(r.status, 400, `${route} malformed: ${r.text}`);
    assert.equal(typeof JSON.parse(r.text).error, 'string');
    r = await postJson(server, route, '{"model": 5}');
    assert.equal(r.status, 400, `${route} wrong type: ${r.text}`);
    assert.match(JSON.parse(r.text).error, /json: cannot unmarshal number into Go struct field/);
    r = await rawRequest(server.base, 'POST', route, '');
    assertError(r, 400, 'missing request body', `${route} empty body`);
  }
  const r =
      await postJson(server, '/api/generate', {model, prompt: 'x', options: {num_predict: 'many'}});
  assert.equal(r.status, 400, r.text);
  const t = await postJson(server, '/api/generate', {model, prompt: 'x', top_logprobs: 21});
  assertError(t, 400, 'top_logprobs must be between 0 and 20', 'top_logprobs');
});

await check('errors: bad names never reach the file system', async () => {
  for (const bad of ['../x', 'a/../../b', '/etc/passwd', 'a:b:c', '']) {
    if (bad !== '') {
      assertError(
          await postJson(server, '/api/generate', {model: bad, prompt: 'x'}), 400,
          'invalid model name', `generate ${bad}`);
      assertError(
          await postJson(server, '/api/chat', {model: bad, messages: []}), 400,
          'invalid model name', `chat ${bad}`);
    }
    assertError(
        await postJson(server, '/api/create', {model: bad, files: {'m.gguf': modelDigest}}), 400,
        'invalid model name', `create ${JSON.stringify(bad)}`);
    assertError(
        await postJson(server, '/api/copy', {source: model, destination: bad}), 400,
        `destination "${bad}" is invalid`, `copy to ${bad}`);
    const del = await fetch(
        server.base + '/api/delete', {method: 'DELETE', body: JSON.stringify({model: bad})});
    if (bad !== '') {
      assertError(
          {status: del.status, text: await del.text()}, 400, `name "${bad}" is invalid`,
          `delete ${bad}`);
    }
  }
  assertError(
      await postJson(server, '/api/create', {model: 'x', files: {'../m.gguf': modelDigest}}), 400,
      'file path must be relative', 'create with ../ file name');
  assert.ok(!fs.existsSync(path.join(tmp, 'x')) && !fs.existsSync(path.join(modelsDir, 'x')));
  assert.deepEqual((await ollama.list()).models.map((m) => m.name), ['stories:latest']);
});

await check('errors: digests with traversal or the wrong form', async () => {
  for (const p
           of ['/api/blobs/sha256:../../x', '/api/blobs/sha256:..%2F..%2Fx',
               '/api/blobs/sha256:' +
                   'a'.repeat(63),
               '/api/blobs/md5:' +
                   'a'.repeat(64)]) {
    const r = await rawRequest(server.base, 'POST', p, 'data');
    assert.ok(r.status === 400 || r.status === 404, `${p}: ${r.status} ${r.text}`);
    if (r.status === 400) assert.deepEqual(JSON.parse(r.text), {error: 'invalid digest format'}, p);
    const h = await rawRequest(server.base, 'HEAD', p);
    assert.ok(h.status === 400 || h.status === 404, `HEAD ${p}: ${h.status}`);
  }
  const body = Buffer.from('some bytes');
  const hex = createHash('sha256').update(body).digest('hex');
  const r = await rawRequest(server.base, 'POST', `/api/blobs/sha256-${hex}`, body);
  assertError(
      r, 400, `digest mismatch, expected "sha256-${hex}", got "sha256:${hex}"`, 'sha256- form');
  const wrong = await rawRequest(server.base, 'POST', `/api/blobs/sha256:${'0'.repeat(64)}`, body);
  assertError(
      wrong, 400, `digest mismatch, expected "sha256:${'0'.repeat(64)}", got "sha256:${hex}"`,
      'wrong digest');
  const names = fs.readdirSync(path.join(modelsDir, 'blobs'));
  assert.ok(
      !names.includes(`sha256-${hex}`) && !names.some((n) => n.includes('tmp')), names.join(' '));
  assert.equal(fs.readdirSync(tmp).filter((n) => n === 'x').length, 0);
});

await check('errors: a body over 64 MiB gets 413', async () => {
  const big = Buffer.alloc(65 * 1024 * 1024, 0x20);
  Buffer.from(`{"model":"${model}","messages":[],"x":"`).copy(big);
  big.write('"}', big.length - 2);
  let r;
  try {
    r = await rawRequest(
        server.base, 'POST', '/api/chat', big,
        {'Content-Type': 'application/json', 'Content-Length': big.length});
  } catch (e) {
    throw new Error(`no response to the oversized body: ${e.message}`);
  }
  assertError(r, 413, 'request body too large', 'oversized chat');
  assert.equal((await fetch(server.base + '/')).status, 200, 'still serving');
});

await check('errors through the client: the rejected promise carries the server text', async () => {
  await assert.rejects(
      ollama.generate({model: 'nope', prompt: 'x'}),
      (e) => e.message === 'model \'nope\' not found' && e.status_code === 404);
  await assert.rejects(
      ollama.chat({model: 'a/../../b', messages: [{role: 'user', content: 'x'}]}),
      (e) => e.message === 'invalid model name' && e.status_code === 400);
  await assert.rejects(
      ollama.show({model: 'nope'}), (e) => e.message === 'model \'nope:latest\' not found');
  await assert.rejects(
      ollama.embed({model, input: 5}),
      (e) => e.message === 'invalid input type' && e.status_code === 400);
  await assert.rejects(
      ollama.create({model: 'z'}),
      (e) => e.message === 'neither \'from\' or \'files\' was specified');
  const stream = await ollama.chat({model: 'nope', messages: [], stream: true}).catch((e) => e);
  assert.equal(stream.message, 'model \'nope\' not found');
});

await server.stop();

// ---- concurrency ----

server = await Server.start({OLLAMA_NUM_PARALLEL: '4'});
ollama = server.client;
await check('32 concurrent streaming chats with OLLAMA_NUM_PARALLEL=4', async () => {
  const start = Date.now();
  const one = async (i) => {
    let text = '';
    let last;
    const stream = await ollama.chat({
      model,
      stream: true,
      options: {num_predict: 16},
      messages: [{role: 'user', content: `Story number ${i}`}]
    });
    for await (const part of stream) {
      text += part.message.content;
      last = part;
    }
    assert.equal(last.done, true);
    assert.ok(['length', 'stop'].includes(last.done_reason), last.done_reason);
    assert.ok(text.length > 0, `chat ${i} is empty`);
    return text;
  };
  const texts = await Promise.all(Array.from({length: 32}, (_, i) => one(i)));
  // Greedy and batched: the same prompt alone gives the same text.
  const alone = await ollama.chat(
      {model, options: {num_predict: 16}, messages: [{role: 'user', content: 'Story number 5'}]});
  assert.equal(texts[5], alone.message.content);
  return `${Date.now() - start} ms for 32`;
});
await server.stop();

// Admission control without timing assumptions: `parallel` endless streamed generations (a
// grammar that never completes, so no end of text) hold every slot; then `queue + refused`
// short requests fire at once. Exactly `refused` of them must get 503 while the others wait;
// once the streams are cancelled (the client goes away), the waiting ones are served.
async function checkAdmission(parallel, queue, refused) {
  await ollama.generate({model, prompt: ''});  // loaded
  const endless = JSON.stringify({
    model,
    prompt: 'Once',
    raw: true,
    stream: true,
    grammar: 'root ::= [a-z] root',
    options: {num_predict: -1}
  });
  const streams = [];
  for (let i = 0; i < parallel; ++i) {
    const abort = new AbortController();
    const res = await fetch(
        server.base + '/api/generate', {method: 'POST', body: endless, signal: abort.signal});
    assert.equal(res.status, 200, `endless stream ${i}`);
    const reader = res.body.getReader();
    const first = await reader.read();  // it is generating: its slot is taken
    assert.ok(!first.done && first.value.length > 0, `stream ${i} sent nothing`);
    streams.push({abort, reader});
  }
  const quick =
      JSON.stringify({model, prompt: 'Once', raw: true, stream: false, options: {num_predict: 4}});
  const settled = [];
  const requests = Array.from({length: queue + refused}, async (_, i) => {
    const res = await fetch(
        server.base + '/api/generate',
        {method: 'POST', body: quick, signal: AbortSignal.timeout(120000)});
    const result = {i, status: res.status, text: await res.text()};
    settled.push(result);
    return result;
  });
  // The refused ones answer at once; wait for them (and a little longer, for any extra).
  const deadline = Date.now() + 60000;
  while (settled.length < refused && Date.now() < deadline) await sleep(20);
  await sleep(300);
  const early = settled.slice();
  for (const r of early) {
    assert.equal(r.status, 503, `while every slot is held: ${JSON.stringify(r)}`);
    assert.deepEqual(
        JSON.parse(r.text),
        {error: 'server busy, please try again.  maximum pending requests exceeded'});
  }
  assert.equal(
      early.length, refused,
      `${early.length} answered while the slots were held, expected ${refused} 503s`);
  for (const s of streams) {
    s.abort.abort();
    await s.reader.cancel().catch(() => {});
  }
  const results = await Promise.all(requests);
  const served = results.filter((r) => r.status === 200);
  assert.equal(served.length, queue, JSON.stringify(results.map((r) => r.status)));
  for (const r of served) assert.equal(JSON.parse(r.text).eval_count, 4);
  return `${parallel} held, ${queue} waited then served, ${refused} x 503`;
}

server = await Server.start({OLLAMA_NUM_PARALLEL: '4', OLLAMA_MAX_QUEUE: '2'});
ollama = server.client;
await check(
    'OLLAMA_MAX_QUEUE=2, 4 slots held: 2 more wait, 6 more get 503, none hang',
    () => checkAdmission(4, 2, 6));
await server.stop();

server = await Server.start({OLLAMA_NUM_PARALLEL: '4', OLLAMA_MAX_QUEUE: '8'});
ollama = server.client;
await check(
    'OLLAMA_MAX_QUEUE=8, 4 slots held: 8 more wait, 20 more get 503, none hang',
    () => checkAdmission(4, 8, 20));
await server.stop();

// ---- memory over many requests ----

server = await Server.start();
ollama = server.client;
// Under AddressSanitizer freed memory sits in its quarantine (hundreds of MiB), so RSS says
// nothing there: the requests still run (for ASan's checks), the bound is checked in Release.
const sanitized = Boolean(process.env.CORRAL_SANITIZED);
await check(
    '1000 sequential num_predict 1 generates: RSS grows < 10 MiB after the first 100', async () => {
      const start = Date.now();
      const total = sanitized ? 200 : 1000;
      let after100 = 0;
      for (let i = 1; i <= total; ++i) {
        const r =
            await ollama.generate({model, prompt: `Request ${i % 37}`, options: {num_predict: 1}});
        assert.equal(r.eval_count, 1);
        if (i === 100) after100 = server.rssKiB();
      }
      const after = server.rssKiB();
      if (sanitized) {
        return `${total} requests; RSS bound not checked under ASan (${after100} -> ${after} KiB)`;
      }
      const growth = after - after100;
      assert.ok(growth < 10 * 1024, `RSS ${after100} KiB -> ${after} KiB`);
      return `VmRSS ${after100} KiB after 100, ${after} KiB after 1000 (${growth} KiB), ` +
          `${((Date.now() - start) / 1000).toFixed(1)} s`;
    });

// ---- crash during an upload ----

await check('kill -9 during a blob upload leaves no blob of that digest', async () => {
  const data = randomBytes(48 * 1024 * 1024);
  const hex = createHash('sha256').update(data).digest('hex');
  const url = new URL(server.base);
  const req = http.request({
    host: url.hostname,
    port: url.port,
    method: 'POST',
    path: `/api/blobs/sha256:${hex}`,
    headers: {'Content-Length': data.length}
  });
  const settled = new Promise((resolve) => {
    req.on('error', resolve);
    req.on('response', (res) => resolve(new Error(`answered ${res.statusCode} before the end`)));
  });
  const blobs = path.join(modelsDir, 'blobs');
  const chunk = 1024 * 1024;
  let sent = 0;
  let tempSeen = false;
  while (sent < 12 * chunk) {
    req.write(data.subarray(sent, sent + chunk));
    sent += chunk;
    await sleep(40);
    tempSeen ||= fs.readdirSync(blobs).some((n) => n.startsWith('sha256-tmp-'));
  }
  assert.ok(tempSeen, 'the upload is being written to a temp file');
  server.proc.kill('SIGKILL');
  const exit = await server.exited;
  assert.equal(exit.signal, 'SIGKILL');
  await settled;
  req.destroy();
  const before = fs.readdirSync(blobs);
  assert.ok(!before.includes(`sha256-${hex}`), before.join(' '));

  server = await Server.start();
  ollama = server.client;
  const head = await fetch(`${server.base}/api/blobs/sha256:${hex}`, {method: 'HEAD'});
  assert.equal(head.status, 404);
  const tags = await ollama.list();
  assert.deepEqual(tags.models.map((m) => m.name), ['stories:latest']);
  const after = fs.readdirSync(blobs);
  assert.ok(!after.includes(`sha256-${hex}`));
  const leftovers = after.filter((n) => !hex64.test(n.replace(/^sha256-/, '')));
  assert.ok(leftovers.every((n) => /^sha256-tmp-/.test(n)), `unexpected files: ${leftovers}`);
  const r = await ollama.generate({model, prompt: 'Once', options: {num_predict: 2}});
  assert.equal(r.eval_count, 2);
  return `left after restart: ${
      leftovers.length ? leftovers.join(' ') + ' (temp, removed by ' +
              'a later start once old)' :
                         'nothing'}`;
});
// ---- crash during a create ----

// The store as files, checked with no server running: every manifest parses and names blobs
// that exist with the bytes their digest says; every blob's name is its content's digest;
// anything else is a temp file of an interrupted write. Returns the model names present.
function assertStoreConsistent() {
  const blobs = path.join(modelsDir, 'blobs');
  const hashOk = new Map();
  const verify = (hex) => {
    if (!hashOk.has(hex)) {
      const file = path.join(blobs, `sha256-${hex}`);
      hashOk.set(
          hex,
          fs.existsSync(file) &&
              createHash('sha256').update(fs.readFileSync(file)).digest('hex') === hex);
    }
    return hashOk.get(hex);
  };
  for (const n of fs.readdirSync(blobs)) {
    const m = /^sha256-([0-9a-f]{64})$/.exec(n);
    if (m) {
      assert.ok(verify(m[1]), `blob ${n} does not hold the bytes of its digest`);
    } else {
      assert.match(n, /^(sha256-tmp-|\.?create-quantize-)/, `unexpected file in blobs: ${n}`);
    }
  }
  const names = [];
  const walk = (dir, parts) => {
    for (const e of fs.readdirSync(dir, {withFileTypes: true})) {
      if (e.isDirectory()) {
        walk(path.join(dir, e.name), [...parts, e.name]);
      } else if (/^\..*\.tmp-/.test(e.name)) {
        continue;  // a manifest write that never reached its rename
      } else {
        const text = fs.readFileSync(path.join(dir, e.name), 'utf8');
        let manifest;
        assert.doesNotThrow(() => manifest = JSON.parse(text), `manifest ${e.name}: ${text}`);
        for (const layer of [manifest.config, ...manifest.layers]) {
          const hex = layer.digest.replace(/^sha256:/, '');
          assert.ok(
              verify(hex), `${parts.join('/')}/${e.name} names ${layer.digest}, missing or bad`);
        }
        names.push(`${parts.at(-1)}:${e.name}`);
      }
    }
  };
  walk(path.join(modelsDir, 'manifests'), []);
  return names;
}

await check(
    'kill -9 at each stage of a quantizing create leaves the store consistent', async () => {
      // Quantizing needs an F32/F16 model (stories260K has no file type): a tiny one by our writer.
      const modelgen = path.join(path.dirname(binary), 'corral-modelgen');
      const f32 = path.join(tmp, 'tiny-llama-f32.gguf');
      const gen =
          spawnSync(modelgen, ['--preset', 'tiny-llama', '--type', 'f32', f32], {encoding: 'utf8'});
      assert.equal(gen.status, 0, `${modelgen}: ${gen.stderr}`);
      const f32Bytes = fs.readFileSync(f32);
      const f32Digest = 'sha256:' + createHash('sha256').update(f32Bytes).digest('hex');
      const up =
          await fetch(`${server.base}/api/blobs/${f32Digest}`, {method: 'POST', body: f32Bytes});
      assert.equal(up.status, 201);
      // A whole run first, to learn how many progress lines a create sends.
      const request = {
        model: 'crashq',
        files: {'tiny-llama-f32.gguf': f32Digest},
        quantize: 'q8_0',
        template: '{{ .Prompt }}',
        system: 'Be brief.',
        parameters: {top_k: 7},
        stream: true
      };
      const lines = async (srv, killAt) => {
        const res =
            await fetch(srv.base + '/api/create', {method: 'POST', body: JSON.stringify(request)});
        assert.equal(res.status, 200);
        const decoder = new TextDecoder();
        let buf = '';
        let n = 0;
        let last;
        let killed = false;
        try {
          for await (const chunk of res.body) {
            buf += decoder.decode(chunk, {stream: true});
            let nl;
            while (!killed && (nl = buf.indexOf('\n')) >= 0) {
              last = JSON.parse(buf.slice(0, nl)).status;
              buf = buf.slice(nl + 1);
              if (++n === killAt) {
                srv.proc.kill('SIGKILL');
                await srv.exited;
                killed = true;
              }
            }
            if (killed) break;  // leaving the loop cancels the body, which may throw
          }
        } catch (e) {
          if (killAt === undefined) throw e;
        }
        return {n, last, killed};
      };
      const whole = await lines(server);
      assert.equal(whole.last, 'success');
      await ollama.delete({model: 'crashq'});
      const total = whole.n;
      const points = [...new Set([
                       1, 2, 3, Math.floor(total / 3), Math.floor(total / 2), total - 3, total - 2,
                       total - 1, total
                     ])].filter((k) => k >= 1);
      const outcomes = [];
      for (const k of points) {
        const r = await lines(server, k);
        assert.ok(r.killed, `the create ended after ${r.n} lines, before line ${k}`);
        const names = assertStoreConsistent();
        const present = names.includes('crashq:latest');
        outcomes.push(`${k}/${total} "${r.last}": ${present ? 'model written' : 'no model'}`);
        server = await Server.start();
        ollama = server.client;
        const tags = (await ollama.list()).models.map((m) => m.name);
        assert.equal(tags.includes('crashq:latest'), present, tags.join(' '));
        if (present) {
          const shown = await ollama.show({model: 'crashq'});
          assert.equal(shown.details.quantization_level, 'Q8_0');
          assert.equal(shown.system, 'Be brief.');
          const g =
              await ollama.generate({model: 'crashq', prompt: 'Once', options: {num_predict: 2}});
          assert.equal(g.eval_count, 2);
          await ollama.delete({model: 'crashq'});
        }
        // The same create succeeds after the crash.
        if (k === points.at(-1)) {
          const again = await lines(server);
          assert.equal(again.last, 'success');
          await ollama.delete({model: 'crashq'});
        }
      }
      assert.ok(outcomes.some((o) => o.endsWith('no model')), outcomes.join('; '));
      return outcomes.join('; ');
    });
await server.stop();

checks.finish(tmp);
