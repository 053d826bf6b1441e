// Validates texts against JSON schemas with ajv (JSON Schema 2020-12 dialect, ajv-formats' full
// formats, strict mode off), as an independent check of the GBNF the schemas compile to.
//
// Usage: node validate_json.mjs < lines.jsonl
//   in:  one JSON object per line: {"schema": <schema>, "output": "<text>"}
//   out: one JSON object per input line, in order: {"ok": true} or {"ok": false, "error": "..."}
//        (the text is not JSON, the schema does not compile, or ajv's errors)
//
// ajv and ajv-formats live outside the source tree, in CORRAL_TESTCLIENTS_DIR (default
// $XDG_CACHE_HOME/corral/testclients); tools/testclients/install.sh puts them there.
import {createRequire} from 'node:module';
import {homedir} from 'node:os';
import path from 'node:path';

function clientsDir() {
  if (process.env.CORRAL_TESTCLIENTS_DIR) return process.env.CORRAL_TESTCLIENTS_DIR;
  const cache = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(cache, 'corral', 'testclients');
}

let Ajv2020, addFormats;
try {
  const require = createRequire(path.join(clientsDir(), 'package.json'));
  Ajv2020 = require('ajv/dist/2020').default;
  addFormats = require('ajv-formats').default;
} catch (e) {
  process.stdout.write(JSON.stringify({
    ok: false,
    error: `ajv is not installed at ${clientsDir()} (run tools/testclients/install.sh): ` +
        e.message
  }) + '\n');
  process.exit(3);
}

const ajv = new Ajv2020({strict: false, allErrors: true});
addFormats(ajv);
const compiled = new Map();  // schema text -> validate function (or the compile error)

function check(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch (e) {
    return {ok: false, error: `bad request line: ${e.message}`};
  }
  const key = JSON.stringify(request.schema);
  if (!compiled.has(key)) {
    try {
      compiled.set(key, ajv.compile(request.schema));
    } catch (e) {
      compiled.set(key, e);
    }
  }
  const validate = compiled.get(key);
  if (validate instanceof Error) return {ok: false, error: `schema: ${validate.message}`};
  let data;
  try {
    data = JSON.parse(request.output);
  } catch (e) {
    return {ok: false, error: `output is not JSON: ${e.message}`};
  }
  if (validate(data)) return {ok: true};
  return {ok: false, error: ajv.errorsText(validate.errors)};
}

// Read stdin as a stream: readFileSync(0) fails with EAGAIN on a pipe once the input is larger
// than the pipe buffer.
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const out = [];
for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
  if (line.trim() === '') continue;
  out.push(JSON.stringify(check(line)));
}
process.stdout.write(out.length ? out.join('\n') + '\n' : '');
