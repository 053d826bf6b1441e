// Pull speed from a loopback registry (issue 10 asks for 500 MB/s or more on a 1 GB blob).
// Starts Debian's docker-registry on a free loopback port with a temporary storage folder,
// writes a model whose layer is SIZE random bytes straight into a temporary corral store, pushes
// it with `corral serve` (/api/push), then per run:
//   - the reference floor: `curl` downloading the same blob from the registry to a file, then
//     `sha256sum` of that file (corral verifies every blob, so the fair floor includes a hash),
//     then `sync -d` of the file (corral flushes a pulled blob to disk before it enters the store,
//     so on a slow disk that flush is the floor);
//   - corral: a fresh `corral serve` on an empty store, timed from POST /api/pull to its reply
//     (manifest, HEAD, the ranged parts, sha256 verification, rename, manifest write).
// MB are 10^6 bytes. The registry's blob file is in the page cache for both, and each timed
// transfer starts on a settled disk.
//
// Usage: node tools/bench/pull_bench.mjs [--build build/release] [--size 1000000000]
//          [--runs 2] [--tmp DIR] [--registry /usr/bin/docker-registry]
import {spawn, spawnSync} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}
const buildDir = path.resolve(root, option('--build', 'build/release'));
const size = Number(option('--size', '1000000000'));
const runs = Number(option('--runs', '2'));
const registryBinary = option('--registry', '/usr/bin/docker-registry');
const corral = path.join(buildDir, 'corral');
for (const f of [corral, registryBinary]) {
  if (!fs.existsSync(f)) {
    console.error(`pull_bench: ${f} is missing`);
    process.exit(2);
  }
}
for (const tool of ['curl', 'sha256sum']) {
  if (spawnSync(tool, ['--version']).status !== 0) {
    console.error(`pull_bench: ${tool} is missing`);
    process.exit(2);
  }
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url, child, what) {
  for (let i = 0; i < 300; ++i) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not start`);
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function startCorral(models, logFile) {
  const port = await freePort();
  const log = fs.openSync(logFile, 'w');
  const child = spawn(corral, ['serve'], {
    env: {...process.env, OLLAMA_HOST: `127.0.0.1:${port}`, OLLAMA_MODELS: models, OLLAMA_DEBUG: '1'},
    stdio: ['ignore', 'ignore', log],
  });
  fs.closeSync(log);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(base, child, 'corral serve');
  return {child, base};
}

async function post(base, route, body) {
  const res = await fetch(base + route, {method: 'POST', body: JSON.stringify(body)});
  const text = await res.text();
  if (!res.ok) throw new Error(`${route}: ${res.status} ${text}`);
  return JSON.parse(text);
}

// Writes `bytes` random bytes to `file` in 16 MB pieces; returns the sha256 hex.
function writeRandomFile(file, bytes) {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'w');
  const piece = 16 << 20;
  for (let done = 0; done < bytes;) {
    const chunk = crypto.randomBytes(Math.min(piece, bytes - done));
    fs.writeSync(fd, chunk);
    hash.update(chunk);
    done += chunk.length;
  }
  fs.closeSync(fd);
  return hash.digest('hex');
}

function writeBlob(models, content) {
  const hex = crypto.createHash('sha256').update(content).digest('hex');
  fs.writeFileSync(path.join(models, 'blobs', `sha256-${hex}`), content);
  return hex;
}

const mb = (bytes, seconds) => bytes / 1e6 / seconds;
const fmt = (x) => x.toFixed(0).padStart(6);

// Before each timed transfer: the writeback and discards (the filesystem may be mounted with
// `discard`) left by the previous step are flushed and given a moment, so no measurement pays
// for the one before it.
async function settle() {
  spawnSync('sync');
  await new Promise((r) => setTimeout(r, 1000));
}

const tmp = fs.mkdtempSync(path.join(option('--tmp', os.tmpdir()), 'corral-pull-bench-'));
let registry = null;
const servers = [];
try {
  // The registry: filesystem storage in the temp folder, loopback only, no auth.
  const regPort = await freePort();
  fs.mkdirSync(path.join(tmp, 'registry'));
  fs.writeFileSync(
      path.join(tmp, 'registry.yml'),
      `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n` +
          `    rootdirectory: ${path.join(tmp, 'registry')}\n` +
          `http:\n  addr: 127.0.0.1:${regPort}\n`);
  const regLog = fs.openSync(path.join(tmp, 'registry.log'), 'w');
  registry = spawn(
      registryBinary, ['serve', path.join(tmp, 'registry.yml')],
      {stdio: ['ignore', regLog, regLog]});
  fs.closeSync(regLog);
  const regBase = `http://127.0.0.1:${regPort}`;
  await waitFor(`${regBase}/v2/`, registry, 'docker-registry');

  // The model, written straight into a store: a random layer, a small config, the manifest.
  const source = path.join(tmp, 'source');
  fs.mkdirSync(path.join(source, 'blobs'), {recursive: true});
  let t = performance.now();
  const layerHex = writeRandomFile(path.join(tmp, 'layer'), size);
  fs.renameSync(path.join(tmp, 'layer'), path.join(source, 'blobs', `sha256-${layerHex}`));
  const config = Buffer.from('{"model_format":"gguf","model_family":"llama","file_type":"F32"}');
  const configHex = writeBlob(source, config);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      digest: `sha256:${configHex}`,
      size: config.length,
    },
    layers: [{
      mediaType: 'application/vnd.ollama.image.model',
      digest: `sha256:${layerHex}`,
      size,
    }],
  };
  const host = `127.0.0.1:${regPort}`;
  const manifestDir = path.join(source, 'manifests', host, 'bench', 'big');
  fs.mkdirSync(manifestDir, {recursive: true});
  fs.writeFileSync(path.join(manifestDir, 'latest'), JSON.stringify(manifest));
  console.log(`pull_bench: ${size} byte layer made in ${
      ((performance.now() - t) / 1000).toFixed(1)} s; load ${
      os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  const model = `${host}/bench/big:latest`;
  {
    const s = await startCorral(source, path.join(tmp, 'push.log'));
    servers.push(s);
    t = performance.now();
    await post(s.base, '/api/push', {model, insecure: true, stream: false});
    const seconds = (performance.now() - t) / 1000;
    console.log(`push: ${fmt(mb(size, seconds))} MB/s (${seconds.toFixed(2)} s)`);
    await stop(s.child);
    servers.pop();
    fs.rmSync(source, {recursive: true, force: true});
  }

  const blobUrl = `${regBase}/v2/bench/big/blobs/sha256:${layerHex}`;
  const results = [];
  for (let run = 1; run <= runs; ++run) {
    // The floor: curl to a file, then sha256sum.
    const out = path.join(tmp, 'curl.blob');
    await settle();
    t = performance.now();
    const curl = spawnSync('curl', ['-sS', '-f', '-o', out, blobUrl], {encoding: 'utf8'});
    const curlSeconds = (performance.now() - t) / 1000;
    if (curl.status !== 0) throw new Error(`curl: ${curl.stderr}`);
    const sum = spawnSync('sha256sum', [out], {encoding: 'utf8'});
    const curlHashSeconds = (performance.now() - t) / 1000;
    if (!sum.stdout.startsWith(layerHex)) throw new Error(`sha256sum: ${sum.stdout}${sum.stderr}`);
    spawnSync('sync', ['-d', out]);
    const curlSyncSeconds = (performance.now() - t) / 1000;
    fs.rmSync(out);

    // corral: a fresh server on an empty store.
    const models = path.join(tmp, `pulled-${run}`);
    fs.mkdirSync(models);
    const s = await startCorral(models, path.join(tmp, `pull-${run}.log`));
    servers.push(s);
    await settle();
    const loadBefore = os.loadavg()[0];
    t = performance.now();
    const reply = await post(s.base, '/api/pull', {model, insecure: true, stream: false});
    const corralSeconds = (performance.now() - t) / 1000;
    if (reply.status !== 'success') throw new Error(`pull: ${JSON.stringify(reply)}`);
    const pulled = path.join(models, 'blobs', `sha256-${layerHex}`);
    if (fs.statSync(pulled).size !== size) throw new Error(`pull: ${pulled} has the wrong size`);
    await stop(s.child);
    servers.pop();
    fs.rmSync(models, {recursive: true, force: true});
    // corral's own account of the big blob: streams, download, hash and fsync times.
    const phases = fs.readFileSync(path.join(tmp, `pull-${run}.log`), 'utf8')
                       .split('\n')
                       .find((line) => line.includes(layerHex) && line.includes('downloaded in'));

    const r = {
      corral: mb(size, corralSeconds),
      curl: mb(size, curlSeconds),
      curlHash: mb(size, curlHashSeconds),
      curlSync: mb(size, curlSyncSeconds),
    };
    results.push(r);
    if (phases) console.log(`run ${run}: corral: ${phases.replace(/^.*pull: sha256:\w+: /, '')}`);
    console.log(
        `run ${run}: corral pull ${fmt(r.corral)} MB/s (${corralSeconds.toFixed(2)} s) | ` +
        `curl ${fmt(r.curl)} MB/s (${curlSeconds.toFixed(2)} s), curl+sha256sum ${
            fmt(r.curlHash)} MB/s (${curlHashSeconds.toFixed(2)} s), +sync ${
            fmt(r.curlSync)} MB/s (${curlSyncSeconds.toFixed(2)} s) | corral/curl ${
            (r.corral / r.curl).toFixed(2)}, corral/(curl+sha256sum) ${
            (r.corral / r.curlHash).toFixed(2)}, corral/(curl+sha256sum+sync) ${
            (r.corral / r.curlSync).toFixed(2)} | load ${loadBefore.toFixed(2)}`);
  }
  const best = results.reduce((a, b) => (b.corral > a.corral ? b : a));
  console.log(
      `best corral pull: ${fmt(best.corral)} MB/s (target: 500 MB/s) on ${os.cpus().length} CPUs`);
} finally {
  for (const s of servers) await stop(s.child).catch(() => {});
  if (registry) await stop(registry).catch(() => {});
  fs.rmSync(tmp, {recursive: true, force: true});
}
