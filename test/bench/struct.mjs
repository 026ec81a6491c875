#!/usr/bin/env node
// test/bench/struct.mjs - the struct codec in wasm against cbor-x, timed in
// one Node process (the struct.* rows of `npm run bench`).
//
//   node test/bench/struct.mjs [--quick] [--only PREFIX]... [--id ID]...
//                              [--list] [--wasm build/wasm/bench-struct.mjs]
//
// It loads build/wasm/bench-struct.mjs (test/bench/bench_struct.c built as an
// ES module), builds the same 10-field value as a plain JS object (payload a
// Uint8Array of the module's 1024 bytes, samples an array of 8 numbers), and
// times, with batches interleaved so that noise from elsewhere hits all of
// them alike:
//
//   struct.ferry.wasm         fy_sb_run(0, n): n x (ferry_encode into a reused
//                             buffer, arena reset, ferry_decode, check), all
//                             inside wasm; one JS->wasm call per batch.
//   struct.cborx.glue         n x (encode, decode, check) with glue/serializer.mjs,
//                             i.e. ferry's own cbor-x configuration and wrapper.
//   struct.cborx.raw          the same with a bare cbor-x Encoder built with
//                             the same options (the wrapper's overhead is the
//                             difference; the bytes are checked to be equal).
//   ...encode / ...decode     the halves of each, for analysis (not in rows).
//
// "check" is the same on both sides: every scalar, the name, the payload's
// length and first, middle and last byte, all 8 samples. An iteration that
// does not match fails the run. Before timing, cbor-x's bytes are decoded by
// the C side and compared with the C value field by field and byte by byte,
// and ferry's bytes are decoded by the glue and compared with the JS value,
// so both sides provably work on the same value.
//
// Output: JSON lines like the native bench programs: first bench.env, then
// one {"id", "ns_per_iter", "ns_per_iter_q1", "ns_per_iter_q3", "bytes",
// "batches", "iters_per_batch", "note"} per measurement; on failure
// {"id": "bench.error", "error"} and exit status 1.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Encoder } from 'cbor-x';
import { encode, decode } from '../../glue/serializer.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// The options of glue/serializer.mjs, repeated for the bare Encoder. That they
// still match is checked below: both must write the same bytes.
const RAW_OPTIONS = {
  useRecords: false,
  mapsAsObjects: true,
  useTag259ForMaps: false,
  tagUint8Array: false,
  variableMapSize: true,
  largeBigIntToFloat: false,
  pack: false,
  structuredClone: false,
  bundleStrings: false,
};

function fail(msg) {
  process.stdout.write(`${JSON.stringify({ id: 'bench.error', error: msg })}\n`);
  process.stderr.write(`struct.mjs: ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const o = { quick: false, list: false, only: [], ids: [], wasm: path.join(ROOT, 'build/wasm/bench-struct.mjs') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--list') o.list = true;
    else if (a === '--only') o.only.push(next());
    else if (a === '--id') o.ids.push(next());
    else if (a === '--wasm') o.wasm = path.resolve(next());
    else fail(`unknown argument ${a}; usage: struct.mjs [--quick] [--list] [--only PREFIX]... [--id ID]... [--wasm FILE]`);
  }
  return o;
}

async function loadModule(file) {
  if (!fs.existsSync(file)) fail(`${path.relative(ROOT, file)} is missing: run ./configure (or ninja -C build/wasm bench-struct.mjs)`);
  const { default: factory } = await import(pathToFileURL(file).href);
  const compiled = await WebAssembly.compile(fs.readFileSync(file.replace(/\.mjs$/, '.wasm')));
  return factory({
    instantiateWasm(imports, done) {
      WebAssembly.instantiate(compiled, imports).then((inst) => done(inst, compiled));
      return {};
    },
  });
}

const opts = parseArgs(process.argv.slice(2));

// ------------------------------------------------------------ the value

const m = opts.list ? null : await loadModule(opts.wasm);
const cstr = (ptr) => {
  let end = ptr;
  while (m.HEAPU8[end]) end++;
  return Buffer.from(m.HEAPU8.subarray(ptr, end)).toString('utf8');
};
if (m && m._fy_sb_init() !== 0) fail(`wasm setup: ${cstr(m._fy_sb_error())}`);

// The C value (bench_struct.c, fy_setup) as a plain JS object. The payload
// is copied out of wasm memory: a JS value of its own, not a view.
const PAYLOAD = m ? m.HEAPU8.slice(m._fy_sb_payload(), m._fy_sb_payload() + m._fy_sb_payload_len()) : new Uint8Array(1024);
const VALUE = {
  id: 5124095577148911,
  seq: 48213,
  kind: 3,
  temp: Math.fround(21.37),
  ratio: 0.6180339887498949,
  ok: true,
  name: 'kitchen-temp',
  payload: PAYLOAD,
  samples: [-3, 17, 250, -1000, 65536, -70000, 123456789, -2147483648],
  owner: 0x00020005,
};
const PLEN = PAYLOAD.length;
const P0 = PAYLOAD[0];
const PMID = PAYLOAD[PLEN >> 1];
const PLAST = PAYLOAD[PLEN - 1];
const S = VALUE.samples;

// The per-iteration check; the C side's fy_same checks the same things.
function same(v) {
  const p = v.payload;
  const s = v.samples;
  return v.id === 5124095577148911 && v.seq === 48213 && v.kind === 3 && v.temp === VALUE.temp &&
    v.ratio === 0.6180339887498949 && v.ok === true && v.owner === 0x00020005 && v.name === 'kitchen-temp' &&
    p.length === PLEN && p[0] === P0 && p[PLEN >> 1] === PMID && p[PLEN - 1] === PLAST &&
    s.length === 8 && s[0] === S[0] && s[1] === S[1] && s[2] === S[2] && s[3] === S[3] &&
    s[4] === S[4] && s[5] === S[5] && s[6] === S[6] && s[7] === S[7];
}

// Everything, every payload byte: outside the timed loops only.
function sameFull(v) {
  return same(v) && Object.keys(v).length === 10 && Buffer.compare(Buffer.from(v.payload), Buffer.from(PAYLOAD)) === 0;
}

const raw = new Encoder(RAW_OPTIONS);

// Bytes to hand to C: copied into wasm memory, checked there.
function checkInC(bytes, what) {
  const p = m._fy_sb_alloc(bytes.length);
  m.HEAPU8.set(bytes, p);
  const rc = m._fy_sb_check(p, bytes.length);
  m._fy_sb_free(p);
  if (rc !== 0) fail(`${what}: C decodes it to a different value (${rc < 0 ? cstr(m._fy_sb_error()) : 'fields differ'})`);
}

function sanity(when) {
  const glueBytes = encode(VALUE);
  const rawBytes = raw.encode(VALUE);
  if (Buffer.compare(Buffer.from(glueBytes), Buffer.from(rawBytes)) !== 0) {
    fail('the bare cbor-x Encoder writes other bytes than glue/serializer.mjs: RAW_OPTIONS no longer match its options');
  }
  checkInC(glueBytes, `${when}: cbor-x's encoding of the JS value`);
  if (!sameFull(decode(glueBytes))) fail(`${when}: glue decode(encode(value)) differs from the value`);
  if (!sameFull(raw.decode(rawBytes))) fail(`${when}: cbor-x decode(encode(value)) differs from the value`);
  const wire = m.HEAPU8.slice(m._fy_sb_wire(), m._fy_sb_wire() + m._fy_sb_wire_len());
  if (!sameFull(decode(wire))) fail(`${when}: glue decode of ferry's encoding differs from the value`);
  if (m._fy_sb_run(0, 1) !== 0) fail(`${when}: wasm round trip differs from the value`);
  return { ferry: wire.length, cborx: glueBytes.length };
}

// ------------------------------------------------------------ measurements
// Each returns how many of its n iterations did NOT match. They are separate
// functions (not one parametrized loop) so that V8 optimizes each for its
// own call targets.

const GLUE_BYTES = encode(VALUE).slice();
const RAW_BYTES = raw.encode(VALUE).slice();
const GLUE_LEN = GLUE_BYTES.length;

function glueRound(n) {
  let bad = 0;
  for (let i = 0; i < n; i++) if (!same(decode(encode(VALUE)))) bad++;
  return bad;
}
function glueEncode(n) {
  let bad = 0;
  for (let i = 0; i < n; i++) if (encode(VALUE).length !== GLUE_LEN) bad++;
  return bad;
}
function glueDecode(n) {
  let bad = 0;
  for (let i = 0; i < n; i++) if (!same(decode(GLUE_BYTES))) bad++;
  return bad;
}
function rawRound(n) {
  let bad = 0;
  for (let i = 0; i < n; i++) if (!same(raw.decode(raw.encode(VALUE)))) bad++;
  return bad;
}
function rawEncode(n) {
  let bad = 0;
  for (let i = 0; i < n; i++) if (raw.encode(VALUE).length !== GLUE_LEN) bad++;
  return bad;
}
function rawDecode(n) {
  let bad = 0;
  for (let i = 0; i < n; i++) if (!same(raw.decode(RAW_BYTES))) bad++;
  return bad;
}

const BENCHES = [
  { id: 'struct.ferry.wasm', fn: (n) => m._fy_sb_run(0, n) >>> 0, codec: 'ferry',
    note: 'wasm: ferry_encode (reused buf) + arena reset + ferry_decode + check, n per call' },
  { id: 'struct.cborx.glue', fn: glueRound, codec: 'cborx',
    note: 'glue/serializer.mjs encode + decode + check' },
  { id: 'struct.cborx.raw', fn: rawRound, codec: 'cborx',
    note: 'cbor-x Encoder (same options) encode + decode + check' },
  { id: 'struct.ferry.wasm.encode', fn: (n) => m._fy_sb_run(1, n) >>> 0, codec: 'ferry',
    note: 'wasm: ferry_encode into the reused buf, length checked' },
  { id: 'struct.ferry.wasm.decode', fn: (n) => m._fy_sb_run(2, n) >>> 0, codec: 'ferry',
    note: 'wasm: arena reset + ferry_decode of the reference bytes + check' },
  { id: 'struct.cborx.glue.encode', fn: glueEncode, codec: 'cborx',
    note: 'glue/serializer.mjs encode, length checked' },
  { id: 'struct.cborx.glue.decode', fn: glueDecode, codec: 'cborx',
    note: "glue/serializer.mjs decode of cbor-x's bytes + check" },
  { id: 'struct.cborx.raw.encode', fn: rawEncode, codec: 'cborx',
    note: 'cbor-x Encoder encode, length checked' },
  { id: 'struct.cborx.raw.decode', fn: rawDecode, codec: 'cborx',
    note: "cbor-x Encoder decode of its bytes + check" },
];

if (opts.list) {
  process.stdout.write(`${BENCHES.map((b) => b.id).join('\n')}\n`);
  process.exit(0);
}

const selected = BENCHES.filter((b) => (opts.only.length === 0 && opts.ids.length === 0) ||
  opts.only.some((p) => b.id.startsWith(p)) || opts.ids.includes(b.id));
if (selected.length === 0) fail('no measurement selected (see --list)');

// ------------------------------------------------------------ timing

const now = () => process.hrtime.bigint();

function loop(b, n) {
  const bad = b.fn(n);
  if (bad !== 0) fail(`${b.id}: ${bad} of ${n} iterations gave a wrong result`);
}

// Warms b up (V8 tiers up both the JS and the wasm code) and returns how
// many iterations make one batch.
function warm(b) {
  const warmNs = opts.quick ? 100e6 : 300e6;
  const batchNs = opts.quick ? 10e6 : 50e6;
  let t0 = now();
  let n = 0;
  do {
    loop(b, 100);
    n += 100;
  } while (Number(now() - t0) < warmNs);
  const k = Math.floor(n / 8) + 1;
  t0 = now();
  loop(b, k);
  const one = Number(now() - t0) / k;
  return Math.max(1, Math.floor(batchNs / one));
}

const sizes = sanity('before timing');
const cborxVersion = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/cbor-x/package.json'), 'utf8')).version;
process.stdout.write(`${JSON.stringify({
  id: 'bench.env',
  platform: 'wasm',
  node: process.version,
  module: path.relative(ROOT, opts.wasm),
  cborx: cborxVersion,
  bytes_ferry: sizes.ferry,
  bytes_cborx: sizes.cborx,
  quick: opts.quick,
})}\n`);

const nbatch = opts.quick ? 9 : 21;
const iters = selected.map(warm);
const perIter = selected.map(() => []);
for (let i = 0; i < nbatch; i++) {
  selected.forEach((b, k) => {
    const t0 = now();
    loop(b, iters[k]);
    perIter[k].push(Number(now() - t0) / iters[k]);
  });
}
sanity('after timing');

selected.forEach((b, k) => {
  const v = [...perIter[k]].sort((x, y) => x - y);
  const r2 = (x) => Math.round(x * 100) / 100;
  process.stdout.write(`${JSON.stringify({
    id: b.id,
    ns_per_iter: r2(v[nbatch >> 1]),
    ns_per_iter_q1: r2(v[nbatch >> 2]),
    ns_per_iter_q3: r2(v[(3 * nbatch) >> 2]),
    bytes: b.codec === 'ferry' ? sizes.ferry : sizes.cborx,
    batches: nbatch,
    iters_per_batch: iters[k],
    note: b.note,
  })}\n`);
});
