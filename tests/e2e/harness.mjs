// What the node end-to-end suites share: the npm clients (outside the source tree, from
// tools/testclients/install.sh), the stories260K test model, a tiny check runner, and
// `corral serve` on a free loopback port with its own models folder.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {createHash} from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import {createRequire} from 'node:module';
import net from 'node:net';
import {homedir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

export const kSkip = 77;
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Where tools/testclients/install.sh put the npm packages: CORRAL_TESTCLIENTS_DIR, else
// $XDG_CACHE_HOME/corral/testclients.
export function clientsDir() {
  if (process.env.CORRAL_TESTCLIENTS_DIR) return process.env.CORRAL_TESTCLIENTS_DIR;
  const cache = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(cache, 'corral', 'testclients');
}

// The npm package `name` from the clients folder; exits 77 (skip) when it is not installed.
export function requireClient(name) {
  try {
    const require = createRequire(path.join(clientsDir(), 'package.json'));
    return require(name);
  } catch (e) {
    console.log(
        `SKIP: the ${name} npm package is not installed at ${clientsDir()} ` +
        `(run tools/testclients/install.sh): ${e.message}`);
    process.exit(kSkip);
  }
}

// The suite's arguments (CORRAL_BINARY TMP_DIR [MODEL.gguf]) and a fresh temp folder under
// TMP_DIR; exits 2 on bad usage, 77 when the model (stories260K by default) is absent.
export function suiteSetup(script, prefix) {
  const [binary, tmpArg, modelArg] = process.argv.slice(2);
  if (!binary || !tmpArg) {
    console.error(`usage: node ${script} CORRAL_BINARY TMP_DIR [MODEL.gguf]`);
    process.exit(2);
  }
  const testdata = process.env.CORRAL_TESTDATA || path.join(repoRoot, '..', 'shared', 'testdata');
  const modelPath = modelArg || path.join(testdata, 'models', 'stories260K.gguf');
  if (!fs.existsSync(modelPath)) {
    console.log(`SKIP: ${modelPath} is absent (set CORRAL_TESTDATA); every scenario needs a model`);
    process.exit(kSkip);
  }
  const tmp = fs.mkdtempSync(path.join(path.resolve(tmpArg), prefix));
  return {binary, tmp, modelPath, modelsDir: path.join(tmp, 'models')};
}

// Runs named checks, prints one line each ("ok   name (ms): note" or "FAIL name: stack"), and
// ends the process with 1 when any failed. CORRAL_E2E_ONLY=regex runs only the checks it
// matches, plus those named in `always` (setup the rest needs).
export class Checks {
  constructor(always = []) {
    this.passes = 0;
    this.failures = 0;
    this.start = Date.now();
    this.always = always;
    this.only = process.env.CORRAL_E2E_ONLY ? new RegExp(process.env.CORRAL_E2E_ONLY) : null;
  }
  async check(name, fn) {
    if (this.only && !this.only.test(name) && !this.always.some((p) => p.test(name))) return;
    const start = Date.now();
    try {
      const note = await fn();
      ++this.passes;
      console.log(`ok   ${name} (${Date.now() - start} ms)${note ? ': ' + note : ''}`);
    } catch (e) {
      ++this.failures;
      console.log(`FAIL ${name}: ${e.stack || e}`);
    }
  }
  // Prints the summary and exits; `tmp` is removed when everything passed, else kept for logs.
  finish(tmp) {
    const seconds = ((Date.now() - this.start) / 1000).toFixed(1);
    console.log(`${this.passes} passed, ${this.failures} failed in ${seconds} s`);
    if (this.failures === 0) {
      fs.rmSync(tmp, {recursive: true, force: true});
    } else {
      console.log(`server logs kept in ${tmp}`);
    }
    process.exit(this.failures ? 1 : 0);
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address();
      s.close(() => resolve(port));
    });
  });
}

let serverCount = 0;

// `corral serve` on a free loopback port, serving `modelsDir`, its output in TMP/server-N.log.
export class Server {
  static async start({binary, tmp, modelsDir}, env = {}) {
    const s = new Server();
    s.port = await freePort();
    s.base = `http://127.0.0.1:${s.port}`;
    s.log = path.join(tmp, `server-${++serverCount}.log`);
    const fd = fs.openSync(s.log, 'w');
    s.proc = spawn(binary, ['serve'], {
      env: {...process.env, OLLAMA_HOST: `127.0.0.1:${s.port}`, OLLAMA_MODELS: modelsDir, ...env},
      stdio: ['ignore', fd, fd]
    });
    fs.closeSync(fd);
    s.exited = new Promise((r) => s.proc.once('exit', (code, signal) => r({code, signal})));
    for (let i = 0; i < 300; ++i) {
      try {
        const res = await fetch(s.base + '/');
        if (res.status === 200 && (await res.text()) === 'Ollama is running') return s;
      } catch {
      }
      if (s.proc.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(`corral serve did not answer GET /: ${s.logTail()}`);
  }
  logTail() {
    return fs.readFileSync(this.log, 'utf8').slice(-3000);
  }
  rssKiB() {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${this.proc.pid}/status`, 'utf8'));
    return Number(m[1]);
  }
  async stop() {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 15000);
    const r = await this.exited;
    clearTimeout(t);
    assert.equal(r.code, 0, `serve exited with ${JSON.stringify(r)}: ${this.logTail()}`);
  }
}

// Raw HTTP without URL normalization (fetch would resolve "..") and with a full body we choose.
export function rawRequest(base, method, rawPath, body, headers = {}) {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
        {host: url.hostname, port: url.port, method, path: rawPath, headers}, (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({
                          status: res.statusCode,
                          headers: res.headers,
                          text: Buffer.concat(chunks).toString('utf8')
                        }));
          res.on('error', reject);
        });
    req.on('error', reject);
    req.end(body);
  });
}

// Uploads the GGUF at `modelPath` as a blob and creates `name` from it with `parameters`
// (/api/blobs, then /api/create with `files`), as `ollama create` does.
export async function createModel(server, name, modelPath, parameters = {}) {
  const bytes = fs.readFileSync(modelPath);
  const digest = 'sha256:' + createHash('sha256').update(bytes).digest('hex');
  const up = await fetch(`${server.base}/api/blobs/${digest}`, {method: 'POST', body: bytes});
  assert.ok([200, 201].includes(up.status), `blob upload: ${up.status} ${await up.text()}`);
  const res = await fetch(`${server.base}/api/create`, {
    method: 'POST',
    body: JSON.stringify(
        {model: name, files: {[path.basename(modelPath)]: digest}, parameters, stream: false})
  });
  const text = await res.text();
  assert.equal(res.status, 200, `create ${name}: ${text}`);
  assert.equal(JSON.parse(text).status, 'success', text);
}

// POSTs `body` as JSON to the native `route` and returns the parsed reply, asserting 200.
export async function postNative(server, route, body) {
  const res = await fetch(server.base + route, {method: 'POST', body: JSON.stringify(body)});
  const text = await res.text();
  assert.equal(res.status, 200, `${route}: ${text}`);
  return JSON.parse(text);
}

// ---- fixtures of the compatibility suites (openai, responses, anthropic) ----

// stories260K cannot decide to call a tool; a schema that only admits a call makes it.
export const callSchema = {
  type: 'object',
  properties: {
    name: {enum: ['get_weather']},
    arguments: {
      type: 'object',
      properties: {city: {enum: ['Paris', 'London']}},
      required: ['city'],
      additionalProperties: false
    }
  },
  required: ['name', 'arguments'],
  additionalProperties: false
};

// A Go template that offers tools and renders system messages, tool calls and results; its
// {{ if .ToolCalls }} block makes the output parser read a bare JSON object {"name",
// "arguments"} as a call.
export const toolTemplate = `{{- range .Messages }}{{ if eq .Role "system" }}System: {{ .Content }}
{{ else if eq .Role "user" }}User: {{ .Content }}
{{ else if eq .Role "assistant" }}Assistant: {{ .Content }}{{ if .ToolCalls }}{{ range .ToolCalls }}{"name": "{{ .Function.Name }}", "arguments": {{ .Function.Arguments }}}{{ end }}{{ end }}
{{ else if eq .Role "tool" }}Tool ({{ .ToolName }}): {{ .Content }}
{{ end }}{{ end }}{{ if .Tools }}Tools:{{ range .Tools }} {{ .Function.Name }}{{ end }}
{{ end }}Assistant: `;
