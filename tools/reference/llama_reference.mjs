// llama.cpp reference harness: answers questions about a GGUF file with llama.cpp
// (through node-llama-cpp, CPU only) so our tests can compare against it.
//
// Usage: node llama_reference.mjs < request.json > response.json
//   request:  one object {"op": ..., "model": ..., ...} or {"requests": [ ... ]}
//   response: the matching object, or {"responses": [ ... ]}
// Ops (all take "model", a GGUF path):
//   info        -> {vocab_type, bos, eos, add_bos, train_context, embedding_size, metadata}
//   tokenize    {text, add_special=false, parse_special=false} -> {tokens}
//   detokenize  {tokens, special=false} -> {text}
//   greedy      {tokens | text, n_predict=16, context_size=256} -> {tokens, text}
//               (text is tokenized with BOS added when the model asks for it)
//   logprobs    {tokens, positions=[last], top_n=10, context_size=256, kv_type="F16",
//                flash_attention=false}
//               -> {positions: [{position, top: [[id, logprob], ...]}]}: the log-softmax
//               of the next-token logits after tokens[0..position]
//   embed       {text | tokens, context_size=256} -> {embedding, normalized}
//   bench       {n_prompt=512, n_gen=128, reps=3, threads=$CORRAL_REFERENCE_THREADS}
//               -> {pp: [tokens/s per rep], tg: [tokens/s per rep], threads, n_prompt, n_gen}
//               llama-bench's pp512/tg128: pp times one decode of n_prompt random token ids in a
//               single batch (batch size = n_prompt) on a fresh context; tg times n_gen greedy
//               tokens generated one at a time after a 4-token prompt, on a fresh context
//               (from the first sampled token to the n_gen-th after it, so the prompt is not
//               counted). One untimed warm-up of each comes first.
// Errors: {"error": "..."} for that request; the exit status is 0 unless stdin is unreadable.
//
// The node-llama-cpp package lives outside the source tree, in CORRAL_REFERENCE_DIR (default
// $XDG_CACHE_HOME/corral/reference/node-llama-cpp-3.21.1); tools/reference/install.sh puts it there.
import {homedir} from 'node:os';
import path from 'node:path';
import {pathToFileURL} from 'node:url';

const kVersion = '3.21.1';

function referenceDir() {
  if (process.env.CORRAL_REFERENCE_DIR) return process.env.CORRAL_REFERENCE_DIR;
  const cache = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(cache, 'corral', 'reference', `node-llama-cpp-${kVersion}`);
}

const entry = path.join(referenceDir(), 'node_modules', 'node-llama-cpp', 'dist', 'index.js');
let nlc;
try {
  nlc = await import(pathToFileURL(entry).href);
} catch (e) {
  process.stdout.write(JSON.stringify({
    error: `node-llama-cpp ${kVersion} is not installed at ${referenceDir()} ` +
        `(run tools/reference/install.sh): ${e.message}`
  }) + '\n');
  process.exit(3);
}

// Read stdin as a stream: readFileSync(0) fails with EAGAIN on a pipe once the request is
// larger than the pipe buffer.
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const requests = Array.isArray(input.requests) ? input.requests : [input];

const threads = Number(process.env.CORRAL_REFERENCE_THREADS || 2);
// A bench request may ask for more threads than the default; the runtime caps every context.
const maxThreads = Math.max(threads, ...requests.map((r) => Number(r?.threads) || 0));
const llama = await nlc.getLlama({
  gpu: false,
  build: 'never',
  maxThreads,
  logLevel: nlc.LlamaLogLevel.error,
  logger: () => {},
});

const models = new Map();  // "path|vocabOnly" -> LlamaModel
async function loadModel(modelPath, vocabOnly) {
  const key = `${modelPath}|${vocabOnly}`;
  if (!models.has(key)) {
    models.set(key, await llama.loadModel({modelPath, gpuLayers: 0, vocabOnly}));
  }
  return models.get(key);
}

function promptTokens(model, req) {
  if (Array.isArray(req.tokens)) return req.tokens;
  if (typeof req.text !== 'string') throw new Error('need "tokens" or "text"');
  const tokens = model.tokenize(req.text, false);
  if (model.tokens.shouldPrependBosToken && model.tokens.bos != null) tokens.unshift(model.tokens.bos);
  return tokens;
}

async function withSequence(model, req, fn) {
  const context = await model.createContext({
    contextSize: req.context_size ?? 256,
    threads,
    sequences: 1,
    // FA "auto" would pick flash attention, which accumulates V·softmax in F16 on the CPU;
    // the plain path keeps it in F32 (probabilities rounded to F16 once), closer to exact.
    flashAttention: req.flash_attention ?? false,
    // "F32", "F16" (llama.cpp's default), "Q8_0": the KV cache's type, keys and values alike.
    ...(req.kv_type ? {experimentalKvCacheKeyType: req.kv_type, experimentalKvCacheValueType: req.kv_type} : {}),
  });
  try {
    return await fn(context.getSequence());
  } finally {
    await context.dispose();
  }
}

const ops = {
  async info(req) {
    const model = await loadModel(req.model, true);
    return {
      vocab_type: model.vocabularyType,
      bos: model.tokens.bos,
      eos: model.tokens.eos,
      add_bos: model.tokens.shouldPrependBosToken,
      add_eos: model.tokens.shouldAppendEosToken,
      train_context: model.trainContextSize,
      metadata: model.fileInfo.metadata,
    };
  },
  async tokenize(req) {
    const model = await loadModel(req.model, true);
    const tokens = model.tokenize(req.text, Boolean(req.parse_special));
    if (req.add_special) {
      if (model.tokens.shouldPrependBosToken && model.tokens.bos != null) tokens.unshift(model.tokens.bos);
      if (model.tokens.shouldAppendEosToken && model.tokens.eos != null) tokens.push(model.tokens.eos);
    }
    return {tokens};
  },
  async detokenize(req) {
    const model = await loadModel(req.model, true);
    return {text: model.detokenize(req.tokens, Boolean(req.special))};
  },
  async greedy(req) {
    const model = await loadModel(req.model, false);
    const prompt = promptTokens(model, req);
    const limit = req.n_predict ?? 16;
    return withSequence(model, req, async (seq) => {
      const out = [];
      if (limit > 0) {
        for await (const t of seq.evaluate(prompt, {temperature: 0, yieldEogToken: true})) {
          out.push(t);
          if (out.length >= limit || model.isEogToken(t)) break;
        }
      }
      return {prompt: prompt, tokens: out, text: model.detokenize(out, false)};
    });
  },
  async logprobs(req) {
    const model = await loadModel(req.model, false);
    const tokens = req.tokens;
    if (!Array.isArray(tokens) || tokens.length === 0) throw new Error('need non-empty "tokens"');
    const positions = new Set(req.positions ?? [tokens.length - 1]);
    const topN = req.top_n ?? 10;
    return withSequence(model, req, async (seq) => {
      const input = tokens.map((t, i) => positions.has(i) ?
          [t, {generateNext: {probabilities: true, options: {temperature: 0}}}] : t);
      const res = await seq.controlledEvaluate(input);
      const out = [];
      for (let i = 0; i < tokens.length; i++) {
        if (!positions.has(i)) continue;
        const probs = res[i]?.next?.probabilities;
        if (!probs) throw new Error(`no probabilities at position ${i}`);
        const top = [];
        for (const [id, p] of probs) {
          if (top.length >= topN) break;
          top.push([id, p > 0 ? Math.log(p) : null]);
        }
        out.push({position: i, top});
      }
      return {positions: out};
    });
  },
  async embed(req) {
    const model = await loadModel(req.model, false);
    const ctx = await model.createEmbeddingContext({contextSize: req.context_size ?? 256, threads});
    try {
      const input = Array.isArray(req.tokens) ? req.tokens : req.text;
      const e = await ctx.getEmbeddingFor(input);
      const v = Array.from(e.vector);
      const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
      return {embedding: v, normalized: v.map((x) => (norm > 0 ? x / norm : 0))};
    } finally {
      await ctx.dispose();
    }
  },
};

function vocabSize(model) {
  const md = model.fileInfo.metadata;
  const n = md?.[md?.general?.architecture]?.vocab_size ?? md?.tokenizer?.ggml?.tokens?.length;
  return Number(n) > 0 ? Number(n) : 256;
}

// Prompt processing: tokens/s of one decode of `nPrompt` tokens on a fresh context.
async function benchPrompt(model, nPrompt, nVocab, benchThreads) {
  const context = await model.createContext({
    contextSize: nPrompt + 16,
    batchSize: nPrompt,
    threads: benchThreads,
    sequences: 1,
  });
  try {
    const tokens = Array.from({length: nPrompt}, () => Math.floor(Math.random() * nVocab));
    const seq = context.getSequence();
    const start = process.hrtime.bigint();
    await seq.evaluateWithoutGeneratingNewTokens(tokens);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return nPrompt / seconds;
  } finally {
    await context.dispose();
  }
}

// Generation: tokens/s of `nGen` greedy tokens decoded one at a time on a fresh context.
async function benchGenerate(model, nGen, nVocab, benchThreads) {
  const prompt = Array.from({length: 4}, () => Math.floor(Math.random() * nVocab));
  const context = await model.createContext({
    contextSize: prompt.length + nGen + 16,
    threads: benchThreads,
    sequences: 1,
  });
  try {
    const seq = context.getSequence();
    let start = null;
    let n = 0;
    for await (const _ of seq.evaluate(prompt, {temperature: 0, yieldEogToken: true})) {
      if (start === null) {
        start = process.hrtime.bigint();  // the first token came from the prompt's decode
        continue;
      }
      if (++n >= nGen) break;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return nGen / seconds;
  } finally {
    await context.dispose();
  }
}

ops.bench = async (req) => {
  const model = await loadModel(req.model, false);
  const nPrompt = req.n_prompt ?? 512;
  const nGen = req.n_gen ?? 128;
  const reps = req.reps ?? 3;
  const benchThreads = req.threads ?? threads;
  if (!(nPrompt > 0 && nGen > 0 && reps > 0)) throw new Error('n_prompt, n_gen, reps must be > 0');
  const nVocab = vocabSize(model);
  await benchPrompt(model, Math.min(nPrompt, 32), nVocab, benchThreads);  // warm-up
  await benchGenerate(model, Math.min(nGen, 4), nVocab, benchThreads);
  const pp = [];
  const tg = [];
  for (let i = 0; i < reps; i++) pp.push(await benchPrompt(model, nPrompt, nVocab, benchThreads));
  for (let i = 0; i < reps; i++) tg.push(await benchGenerate(model, nGen, nVocab, benchThreads));
  return {pp, tg, threads: benchThreads, n_prompt: nPrompt, n_gen: nGen};
};

async function answer(req) {
  try {
    if (!req || typeof req !== 'object') throw new Error('request must be an object');
    const op = ops[req.op];
    if (!op) throw new Error(`unknown op ${JSON.stringify(req.op)}`);
    if (typeof req.model !== 'string') throw new Error('need "model" (a GGUF path)');
    return await op(req);
  } catch (e) {
    return {error: String(e?.message ?? e)};
  }
}

let output;
if (Array.isArray(input.requests)) {
  output = {responses: []};
  for (const r of input.requests) output.responses.push(await answer(r));
} else {
  output = await answer(input);
}
process.stdout.write(JSON.stringify(output) + '\n');
for (const m of models.values()) await m.dispose();
await llama.dispose();
