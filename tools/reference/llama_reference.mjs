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
//   logprobs    {tokens, positions=[last], top_n=10, context_size=256}
//               -> {positions: [{position, top: [[id, logprob], ...]}]}: the log-softmax
//               of the next-token logits after tokens[0..position]
//   embed       {text | tokens, context_size=256} -> {embedding, normalized}
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

const threads = Number(process.env.CORRAL_REFERENCE_THREADS || 2);
const llama = await nlc.getLlama({
  gpu: false,
  build: 'never',
  maxThreads: threads,
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

// Read stdin as a stream: readFileSync(0) fails with EAGAIN on a pipe once the request is
// larger than the pipe buffer.
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
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
