// `make bench` part 2: Corral's engine against llama.cpp on the same GGUF files, same thread
// count, same run. The models are random-weight files with the shapes of Llama-3.2-1B and
// Qwen2.5-0.5B, made by our own writer (corral-modelgen) and cached in the models folder.
// For each model it alternates `corral bench --json` and the reference harness's bench op
// (node-llama-cpp 3.21.1, llama.cpp's default settings), then prints pp512/tg128 tokens/s, the
// ratios, the weight bytes read per second in generation against the measured memory read
// bandwidth, and peak RSS against file size + KV cache.
//
// Usage: node tools/bench/engine_bench.mjs [--build build/release] [--models DIR]
//          [--threads 2] [--reps 3] [--only llama32-1b-q4_K_M,...] [--n-prompt 512] [--n-gen 128]
import {execFileSync, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  if (i + 1 >= args.length) {
    console.error(`engine_bench: ${name} needs a value`);
    process.exit(2);
  }
  return args[i + 1];
}
const buildDir = path.resolve(root, option('--build', 'build/release'));
const modelsDir = path.resolve(root, option('--models', path.join(buildDir, 'bench-models')));
const threads = Number(option('--threads', '2'));
const reps = Number(option('--reps', '3'));
const nPrompt = Number(option('--n-prompt', '512'));
const nGen = Number(option('--n-gen', '128'));
const only = option('--only', '');
if (!(threads > 0 && reps > 0 && nPrompt > 0 && nGen > 0)) {
  console.error('engine_bench: --threads, --reps, --n-prompt and --n-gen must be positive');
  process.exit(2);
}

const corral = path.join(buildDir, 'corral');
const modelgen = path.join(buildDir, 'corral-modelgen');
const benchmarks = path.join(buildDir, 'corral_benchmarks');
for (const exe of [corral, modelgen]) {
  if (!fs.existsSync(exe)) {
    console.error(`engine_bench: ${exe} is missing (build first: make build)`);
    process.exit(2);
  }
}

const kModels = [];
for (const preset of ['llama32-1b', 'qwen25-05b']) {
  for (const type of ['q4_K_M', 'q8_0', 'f16']) kModels.push({preset, type, name: `${preset}-${type}`});
}
const selected = only ? kModels.filter((m) => only.split(',').includes(m.name)) : kModels;
if (selected.length === 0) {
  console.error(`engine_bench: --only matched nothing; models: ${kModels.map((m) => m.name).join(', ')}`);
  process.exit(2);
}

function ensureModel(m) {
  const file = path.join(modelsDir, `${m.name}.gguf`);
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(modelsDir, {recursive: true});
  console.log(`making ${file} (random weights, our writer) ...`);
  execFileSync(modelgen, ['--preset', m.preset, '--type', m.type, file], {stdio: 'inherit'});
  return file;
}

function memoryBandwidth() {
  if (!fs.existsSync(benchmarks)) return null;
  // bench_main prints its own summary on stdout, so the JSON goes to a file.
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'corral-bw-')), 'bw.json');
  spawnSync(benchmarks, [`--benchmark_filter=BM_MemoryRead/MiB:512/threads:${threads}/`,
                         `--benchmark_out=${out}`, '--benchmark_out_format=json',
                         '--benchmark_repetitions=3'],
            {encoding: 'utf8'});
  try {
    const rates = JSON.parse(fs.readFileSync(out, 'utf8')).benchmarks
                      .filter((b) => b.run_type === 'iteration').map((b) => b.bytes_per_second);
    return Math.max(...rates) / 1e9;
  } catch {
    return null;
  } finally {
    fs.rmSync(path.dirname(out), {recursive: true, force: true});
  }
}

function ours(file) {
  const out = execFileSync(corral, ['bench', file, '-p', String(nPrompt), '-n', String(nGen),
                                    '-t', String(threads), '-r', String(reps), '--json'],
                           {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']});
  return JSON.parse(out);
}

function reference(file) {
  const harness = path.join(root, 'tools', 'reference', 'llama_reference.mjs');
  const request = JSON.stringify({op: 'bench', model: file, n_prompt: nPrompt, n_gen: nGen, reps, threads});
  const r = spawnSync(process.execPath, [harness], {input: request, encoding: 'utf8',
                                                    env: {...process.env, CORRAL_REFERENCE_THREADS: String(threads)}});
  const res = JSON.parse(r.stdout);
  if (res.error) throw new Error(`llama.cpp: ${res.error}`);
  return res;
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x, d = 1) => (x == null ? '-' : x.toFixed(d));

const bandwidth = memoryBandwidth();
console.log(`threads ${threads}, ${reps} reps, pp${nPrompt} / tg${nGen}; memory read bandwidth ` +
            `${bandwidth ? bandwidth.toFixed(1) + ' GB/s' : 'unknown (build corral_benchmarks)'}`);
const rows = [];
for (const m of selected) {
  const file = ensureModel(m);
  const a = ours(file);
  const b = reference(file);
  const row = {
    model: m.name,
    pp_ours: a.pp.median, pp_ref: median(b.pp),
    tg_ours: a.tg.median, tg_ref: median(b.tg),
    gbs: a.tg.gb_per_s,
    rss: a.peak_rss_bytes, budget: (a.file_bytes + a.kv_cache_bytes) * 1.1,
  };
  rows.push(row);
  console.log(`${m.name.padEnd(20)} pp ${fmt(row.pp_ours)} vs ${fmt(row.pp_ref)} t/s ` +
              `(${fmt(row.pp_ours / row.pp_ref, 2)}x)  tg ${fmt(row.tg_ours)} vs ${fmt(row.tg_ref)} t/s ` +
              `(${fmt(row.tg_ours / row.tg_ref, 2)}x)  ${fmt(row.gbs)} GB/s` +
              (bandwidth ? ` = ${fmt(100 * row.gbs / bandwidth, 0)}% of bandwidth` : '') +
              `  peak RSS ${fmt(row.rss / 2 ** 20, 0)} MiB (budget ${fmt(row.budget / 2 ** 20, 0)})`);
}
console.log(JSON.stringify({bandwidth_gb_s: bandwidth, threads, reps, results: rows}));
