#!/usr/bin/env node
// test/bench/run.mjs - what `npm run bench` runs.
//
//   node test/bench/run.mjs [--quick] [--repeat N] [--json FILE] [--only PREFIX] [--no-build] [--report]
//   node test/bench/run.mjs --report --from FILE.json...
//
// Every row compares ferry with a baseline measured in the same run, batch
// by batch: ratio = the median of the per-pair ratios ferry / baseline (so
// below 1 is better) unless the row says otherwise, with a 90 % bootstrap
// interval; `met` is yes, no, or unsure when the interval straddles the
// row's goal (stats.mjs). --repeat N runs the table N times and reports
// each row's spread; --report writes docs/performance.md's results, the
// chart and README's figures from the JSON (report.mjs). See
// docs/performance.md for what each row measures and why.
//
// Rows come from providers. A provider lists the rows it can produce and
// runs only the ones asked for, so `--only PREFIX` skips the work of every
// other row. To add rows, add a provider to PROVIDERS (or a row to an
// existing one): nothing else needs to change.
//
// Progress goes to stderr; the table (and nothing else) to stdout.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runtimeProviders } from './runtime.mjs';
import { cacheProviders } from './cache.mjs';
import { median, pairRatios, rowStats, sig, combineRuns } from './stats.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// How to make missing build artifacts; printed when one is not there.
const HOW_TO_BUILD = 'run `./configure`, which sets up and builds build/bench, build/native and ' +
  'build/wasm (`npm run bench` and `npm test` run it first)';

// ------------------------------------------------------------------ helpers

function log(msg) {
  process.stderr.write(`bench: ${msg}\n`);
}

class BenchError extends Error {}

function usage(code) {
  const text = `usage: node test/bench/run.mjs [--quick] [--repeat N] [--json FILE] [--only PREFIX] [--no-build]
       node test/bench/run.mjs --report [--from FILE.json...]

  --quick        fewer, shorter batches (a few minutes in all)
  --repeat N     run the whole table N times; each row then also reports the
                 spread (min / median / max) of its N ratios
  --json FILE    also write {"env": {...}, "rows": [...]} to FILE
  --only PREFIX  run only the rows whose id starts with PREFIX
  --no-build     do not run ninja on the bench targets before running them
  --list         print the row ids and exit
  --report       write docs/performance.md's results tables, docs/perf-chart.svg
                 and README's figures block from this run (its JSON is saved
                 under docs/runs/ unless --json says where)
  --from FILE... with --report: no run; the rows of these JSON files (rows
                 that several files share are combined like --repeat)
`;
  (code ? process.stderr : process.stdout).write(text);
  process.exit(code);
}

function parseArgs(argv) {
  const opts = { quick: false, json: null, only: '', build: true, list: false, repeat: 1, report: false, from: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (a.includes('=')) return a.slice(a.indexOf('=') + 1);
      if (i + 1 >= argv.length) usage(2);
      return argv[++i];
    };
    if (a === '--quick') opts.quick = true;
    else if (a === '--json' || a.startsWith('--json=')) opts.json = value();
    else if (a === '--only' || a.startsWith('--only=')) opts.only = value();
    else if (a === '--repeat' || a.startsWith('--repeat=')) {
      const v = value();
      opts.repeat = Number(v);
      if (!Number.isInteger(opts.repeat) || opts.repeat < 1 || opts.repeat > 20) {
        process.stderr.write(`bench: --repeat needs a whole number from 1 to 20, not ${JSON.stringify(v)}\n`);
        process.exit(2);
      }
    } else if (a === '--report') opts.report = true;
    else if (a === '--from') {
      while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) opts.from.push(argv[++i]);
      if (!opts.from.length) usage(2);
    } else if (a === '--no-build') opts.build = false;
    else if (a === '--list') opts.list = true;
    else if (a === '--help' || a === '-h') usage(0);
    else usage(2);
  }
  if (opts.from.length && !opts.report) {
    process.stderr.write('bench: --from goes with --report\n');
    process.exit(2);
  }
  return opts;
}

function exists(rel) {
  return fs.existsSync(path.join(ROOT, rel));
}

// Runs a command, passing its stderr through and returning its stdout lines
// that are JSON objects (the bench programs' protocol: one object a line).
function runJsonLines(cmd, args, { timeoutMs }) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new BenchError(`${[cmd, ...args].join(' ')} did not finish within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => { out += d; });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const records = [];
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          records.push(JSON.parse(line));
        } catch {
          return reject(new BenchError(`unparsable output line from ${cmd}: ${line}`));
        }
      }
      const err = records.find((r) => r.id === 'bench.error');
      if (err) return reject(new BenchError(`${[cmd, ...args].join(' ')}: ${err.error}`));
      if (code !== 0) {
        return reject(new BenchError(`${[cmd, ...args].join(' ')} exited with ${signal ?? code}`));
      }
      resolve(records);
    });
  });
}

// Rebuilds one ninja target if its build directory exists, so that a bench
// never times a stale binary. Missing directories are reported by the caller.
function ninjaBuild(buildDir, target) {
  if (!exists(path.join(buildDir, 'build.ninja'))) return;
  log(`building ${buildDir}/${target}`);
  try {
    execFileSync('ninja', ['-C', path.join(ROOT, buildDir), target], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      // emscripten 3.1.6's optimizer needs Debian's acorn (design.md).
      env: { ...process.env, NODE_PATH: process.env.NODE_PATH || '/usr/share/nodejs' },
    });
  } catch (e) {
    throw new BenchError(`ninja -C ${buildDir} ${target} failed (${e.message.split('\n')[0]})`);
  }
}

function fmt(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  if (typeof x !== 'number') return String(x);
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}

function goalText(goal) {
  return `${goal.op} ${goal.value.toFixed(goal.value % 1 ? 2 : 1)}`;
}

// Makes a result row in the shape of design.md's performance contract.
// `samples` ({ferry: [...], baseline: [...]}, batch times in the order they
// ran, one of each per round) gives the pair ratios: the row's ratio is
// their median and `ci` its 90 % bootstrap interval (stats.mjs). Without
// samples (a row measured once) the ratio comes from the two values and
// there is no interval. `met` is 'yes', 'no' or 'unsure' (the interval
// straddles the goal). `detail` (optional, free-form) says what was
// measured and how noisy it was.
function makeRow(def, ferry, baseline, detail, samples) {
  const inverse = def.inverse ?? false;
  const fallback = ferry === null || baseline === null ? NaN
    : def.ratio ? def.ratio(ferry, baseline) : ferry / baseline;
  let pairs = null;
  let pairsError = null;
  if (samples && samples.ferry?.length && !def.ratio) {
    try {
      pairs = pairRatios(samples.ferry, samples.baseline, { inverse });
    } catch (e) {
      // e.g. a batch shorter than a coarse browser clock's tick: no pairs,
      // the row falls back to the ratio of the medians, and says so.
      pairsError = e.message;
      log(`${def.id}: no pair ratios (${e.message}); ratio of the medians instead`);
    }
  }
  const st = rowStats(def.id, pairs, def.goal, fallback);
  return {
    id: def.id,
    ferry,
    baseline,
    unit: def.unit,
    ratio: Number.isFinite(st.ratio) ? sig(st.ratio) : null,
    ci: st.ci ? st.ci.map((x) => sig(x)) : null,
    goal: goalText(def.goal),
    met: st.met,
    ...(def.placement ? { placement: def.placement } : {}),
    ...(pairs ? { pair_ratios: pairs.map((x) => sig(x)) } : {}),
    ...(detail || pairsError ? { detail: { ...detail, ...(pairsError ? { pairs_error: pairsError } : {}) } } : {}),
  };
}

// ------------------------------------------------------------------ cbor

// The C codec benchmark (test/bench/bench_cbor.c). The native binary is
// looked up in an optimized, unsanitized bench build first: the default
// native build runs under ASan/UBSan, which says nothing about speed.
const CBOR_NATIVE = [
  { dir: 'build/bench', target: 'bench_cbor' },
  { dir: 'build/native', target: 'bench_cbor' },
];
const CBOR_WASM = { dir: 'build/wasm', target: 'bench_cbor.js' };

// Each row names the measurements (bench_cbor ids) it compares. All values
// are the median ns per data item over the whole mixed item set.
const CBOR_ROWS = [
  {
    id: 'cbor.encode_vs_libcbor.native',
    unit: 'ns/item',
    goal: { op: '<=', value: 1.0 },
    ferry: ['native', 'cbor.encode.ferry'],
    baseline: ['native', 'cbor.encode.libcbor'],
    note: 'libcbor: cbor_build_* tree + cbor_serialize + cbor_decref',
  },
  {
    id: 'cbor.decode_vs_libcbor.native',
    unit: 'ns/item',
    goal: { op: '<=', value: 1.0 },
    ferry: ['native', 'cbor.decode.ferry'],
    baseline: ['native', 'cbor.decode.libcbor'],
    note: 'libcbor: cbor_load (allocates a tree) + walk + cbor_decref',
  },
  {
    id: 'cbor.encode.wasm_vs_native',
    unit: 'ns/item',
    goal: { op: '<=', value: 2.0 },
    ferry: ['wasm', 'cbor.encode.ferry'],
    baseline: ['native', 'cbor.encode.ferry'],
    note: 'ferry in wasm (node) vs ferry native',
  },
  {
    id: 'cbor.decode.wasm_vs_native',
    unit: 'ns/item',
    goal: { op: '<=', value: 2.0 },
    ferry: ['wasm', 'cbor.decode.ferry'],
    baseline: ['native', 'cbor.decode.ferry'],
    note: 'ferry in wasm (node) vs ferry native',
  },
  // The two strictest baselines libcbor has: no tree at all. Its streaming
  // encoder is handed the float width and a fixed buffer; its streaming
  // decoder checks neither nesting, nor UTF-8, nor trailing bytes.
  {
    id: 'cbor.encode_vs_libcbor_stream.native',
    unit: 'ns/item',
    goal: { op: '<=', value: 1.25 },
    ferry: ['native', 'cbor.encode.ferry'],
    baseline: ['native', 'cbor.encode.libcbor_stream'],
    note: 'libcbor: cbor_encode_* heads into a fixed buffer',
  },
  {
    id: 'cbor.decode_vs_libcbor_stream.native',
    unit: 'ns/item',
    goal: { op: '<=', value: 2.0 },
    ferry: ['native', 'cbor.decode.ferry'],
    baseline: ['native', 'cbor.decode.libcbor_stream'],
    note: 'libcbor: cbor_stream_decode callbacks, no validation',
  },
];

function findNativeCbor() {
  for (const c of CBOR_NATIVE) {
    if (exists(path.join(c.dir, 'build.ninja')) || exists(path.join(c.dir, c.target))) return c;
  }
  return null;
}

const cborProvider = {
  name: 'cbor',
  rows: CBOR_ROWS.map((r) => r.id),
  async run(wanted, ctx) {
    const defs = CBOR_ROWS.filter((r) => wanted.includes(r.id));
    // Which measurements of which platform the wanted rows need.
    const need = { native: new Set(), wasm: new Set() };
    for (const d of defs) for (const [plat, id] of [d.ferry, d.baseline]) need[plat].add(id);

    const targets = {};
    if (need.native.size) {
      const c = findNativeCbor();
      if (!c) {
        throw new BenchError(`no native bench build (looked for ${CBOR_NATIVE.map((x) => x.dir).join(', ')}): ${HOW_TO_BUILD}`);
      }
      targets.native = { ...c, cmd: path.join(ROOT, c.dir, c.target), pre: [] };
    }
    if (need.wasm.size) {
      const c = CBOR_WASM;
      targets.wasm = {
        ...c,
        cmd: process.execPath,
        // emscripten 3.1.6's loader breaks on Node's global fetch (design.md).
        pre: ['--no-experimental-fetch', path.join(ROOT, c.dir, c.target)],
      };
    }

    // Full runs repeat the native and the wasm program alternately, so that a
    // burst of load from elsewhere hits one round, not one platform; each
    // value is then the median of the rounds' medians. Within one program the
    // measurements' batches are already interleaved (bench_cbor.c).
    const rounds = ctx.opts.quick ? 1 : 3;
    const perRound = { native: {}, wasm: {} };
    for (const [plat, t] of Object.entries(targets)) {
      if (ctx.opts.build) ninjaBuild(t.dir, t.target);
      if (!exists(path.join(t.dir, t.target))) {
        throw new BenchError(`missing ${t.dir}/${t.target}: ${HOW_TO_BUILD}`);
      }
    }
    for (let round = 1; round <= rounds; round++) {
      for (const [plat, t] of Object.entries(targets)) {
        const args = [...t.pre, ...(ctx.opts.quick ? ['--quick'] : [])];
        for (const id of need[plat]) args.push('--id', id);
        log(`cbor: round ${round}/${rounds}: ${plat} ${t.dir}/${t.target}`);
        const records = await runJsonLines(t.cmd, args, { timeoutMs: ctx.opts.quick ? 60_000 : 600_000 });
        const env = records.find((r) => r.id === 'bench.env') ?? {};
        if (round === 1) {
          ctx.env.builds[`cbor.${plat}`] = {
            path: `${t.dir}/${t.target}`,
            compiler: env.compiler,
            optimized: env.optimized,
            asan: env.asan,
            items: env.items,
            bytes: env.bytes,
          };
          if (env.asan || env.optimized === false) {
            log(`WARNING: ${t.dir}/${t.target} is ${env.asan ? 'sanitized' : 'unoptimized'}; ` +
                'its numbers say little about speed (see docs/performance.md)');
          }
        }
        for (const r of records) {
          if (r.id === 'bench.env') continue;
          (perRound[plat][r.id] ??= []).push(r);
          log(`cbor:   ${r.id}: ${fmt(r.ns_per_item)} ns/item, ${fmt(r.mbps)} MB/s` +
              ` (batches q1-q3 ${fmt(r.ns_per_item_q1)}-${fmt(r.ns_per_item_q3)})`);
        }
      }
    }
    // One measurement's value: the median over rounds, with the numbers that
    // tell how far to trust it.
    const pick = ([plat, id]) => {
      const rs = perRound[plat][id];
      if (!rs) return null;
      const ns = median(rs.map((r) => r.ns_per_item));
      return {
        ns,
        rounds: rs.map((r) => r.ns_per_item),
        detail: {
          measurement: `${plat} ${id}`,
          mbps: median(rs.map((r) => r.mbps)),
          rounds_ns_per_item: rs.map((r) => r.ns_per_item),
          batch_q1_q3: rs.map((r) => [r.ns_per_item_q1, r.ns_per_item_q3]),
          allocates: rs[0].allocates,
        },
      };
    };

    return defs.map((d) => {
      const f = pick(d.ferry);
      const b = pick(d.baseline);
      if (f === null || b === null) {
        throw new BenchError(`${d.id}: bench_cbor did not report ${f === null ? d.ferry[1] : d.baseline[1]}`);
      }
      // Pairs: the two measurements of one round (the same program run, or
      // the native and wasm programs run back to back).
      return makeRow(d, f.ns, b.ns, { note: d.note, ferry: f.detail, baseline: b.detail },
        { ferry: f.rounds, baseline: b.rounds });
    });
  },
};

// ------------------------------------------------------------------ struct

// The struct codec (test/bench/bench_struct.c): one 10-field struct encoded
// and decoded per iteration. The wasm build is an ES module that
// test/bench/struct.mjs loads into the Node process that also times cbor-x
// (the contract's baseline), batches interleaved; the native build times
// ferry and libcbor.
const STRUCT_NATIVE = [
  { dir: 'build/bench', target: 'bench_struct' },
  { dir: 'build/native', target: 'bench_struct' },
];
const STRUCT_WASM = { dir: 'build/wasm', target: 'bench-struct.mjs' };
const STRUCT_SCRIPT = 'test/bench/struct.mjs';

// Measurements are [platform, id]: 'node' ids come from struct.mjs (wasm
// ferry and cbor-x in one process), 'native' ids from bench_struct. All are
// median ns per iteration (one encode + one decode + the same check).
const STRUCT_ROWS = [
  {
    id: 'struct.codec_vs_cborx',
    unit: 'ns/iter',
    goal: { op: '<=', value: 1.0 },
    ferry: ['node', 'struct.ferry.wasm'],
    baseline: ['node', 'struct.cborx.glue'],
    note: 'ferry in wasm vs cbor-x through glue/serializer.mjs, same Node process, same value',
  },
  {
    id: 'struct.codec.wasm_vs_cborx_raw',
    unit: 'ns/iter',
    goal: { op: '<=', value: 1.0 },
    ferry: ['node', 'struct.ferry.wasm'],
    baseline: ['node', 'struct.cborx.raw'],
    note: 'ferry in wasm vs a bare cbor-x Encoder with the glue\'s options (no wrapper)',
  },
  {
    id: 'struct.codec.native_vs_cborx',
    unit: 'ns/iter',
    goal: { op: '<=', value: 1.0 },
    ferry: ['native', 'struct.ferry'],
    baseline: ['node', 'struct.cborx.glue'],
    note: 'ferry native (separate process) vs cbor-x through glue/serializer.mjs',
  },
  {
    id: 'struct.codec_vs_libcbor.native',
    unit: 'ns/iter',
    goal: { op: '<=', value: 1.0 },
    ferry: ['native', 'struct.ferry'],
    baseline: ['native', 'struct.libcbor'],
    note: 'libcbor: cbor_build_* map + cbor_serialize; cbor_load + extract fields',
  },
  {
    id: 'struct.codec.wasm_vs_native',
    unit: 'ns/iter',
    goal: { op: '<=', value: 2.0 },
    ferry: ['node', 'struct.ferry.wasm'],
    baseline: ['native', 'struct.ferry'],
    note: 'ferry in wasm (Node) vs ferry native',
  },
];

const structProvider = {
  name: 'struct',
  rows: STRUCT_ROWS.map((r) => r.id),
  async run(wanted, ctx) {
    const defs = STRUCT_ROWS.filter((r) => wanted.includes(r.id));
    const need = { native: new Set(), node: new Set() };
    for (const d of defs) for (const [plat, id] of [d.ferry, d.baseline]) need[plat].add(id);

    const targets = {};
    if (need.native.size) {
      const c = STRUCT_NATIVE.find((x) => exists(path.join(x.dir, 'build.ninja')) || exists(path.join(x.dir, x.target)));
      if (!c) {
        throw new BenchError(`no native bench build (looked for ${STRUCT_NATIVE.map((x) => x.dir).join(', ')}): ${HOW_TO_BUILD}`);
      }
      targets.native = { ...c, cmd: path.join(ROOT, c.dir, c.target), pre: [] };
    }
    if (need.node.size) {
      const c = STRUCT_WASM;
      targets.node = {
        ...c,
        cmd: process.execPath,
        pre: [path.join(ROOT, STRUCT_SCRIPT), '--wasm', path.join(ROOT, c.dir, c.target)],
      };
    }
    for (const t of Object.values(targets)) {
      if (ctx.opts.build) ninjaBuild(t.dir, t.target);
      if (!exists(path.join(t.dir, t.target))) throw new BenchError(`missing ${t.dir}/${t.target}: ${HOW_TO_BUILD}`);
    }

    // As for the cbor rows: full runs alternate the two programs 3 times
    // (quick: once) and take the median of the rounds' medians; inside each
    // program the measurements' batches are interleaved.
    const rounds = ctx.opts.quick ? 1 : 3;
    const perRound = { native: {}, node: {} };
    for (let round = 1; round <= rounds; round++) {
      for (const [plat, t] of Object.entries(targets)) {
        const args = [...t.pre, ...(ctx.opts.quick ? ['--quick'] : [])];
        for (const id of need[plat]) args.push('--id', id);
        log(`struct: round ${round}/${rounds}: ${plat} ${t.dir}/${t.target}`);
        const records = await runJsonLines(t.cmd, args, { timeoutMs: ctx.opts.quick ? 60_000 : 600_000 });
        const env = records.find((r) => r.id === 'bench.env') ?? {};
        if (round === 1) {
          const { id: _id, ...rest } = env;
          ctx.env.builds[`struct.${plat}`] = { path: `${t.dir}/${t.target}`, ...rest };
          if (env.asan || env.optimized === false) {
            log(`WARNING: ${t.dir}/${t.target} is ${env.asan ? 'sanitized' : 'unoptimized'}; ` +
                'its numbers say little about speed (see docs/performance.md)');
          }
        }
        for (const r of records) {
          if (r.id === 'bench.env') continue;
          (perRound[plat][r.id] ??= []).push(r);
          log(`struct:   ${r.id}: ${fmt(r.ns_per_iter)} ns/iter` +
              ` (batches q1-q3 ${fmt(r.ns_per_iter_q1)}-${fmt(r.ns_per_iter_q3)})`);
        }
      }
    }
    const pick = ([plat, id]) => {
      const rs = perRound[plat][id];
      if (!rs) return null;
      return {
        ns: median(rs.map((r) => r.ns_per_iter)),
        rounds: rs.map((r) => r.ns_per_iter),
        detail: {
          measurement: `${plat} ${id}`,
          bytes: rs[0].bytes,
          rounds_ns_per_iter: rs.map((r) => r.ns_per_iter),
          batch_q1_q3: rs.map((r) => [r.ns_per_iter_q1, r.ns_per_iter_q3]),
        },
      };
    };
    return defs.map((d) => {
      const f = pick(d.ferry);
      const b = pick(d.baseline);
      if (f === null || b === null) {
        throw new BenchError(`${d.id}: no result for ${f === null ? d.ferry.join(' ') : d.baseline.join(' ')}`);
      }
      return makeRow(d, f.ns, b.ns, { note: d.note, ferry: f.detail, baseline: b.detail },
        { ferry: f.rounds, baseline: b.rounds });
    });
  },
};

// ------------------------------------------------------------------ main

// Each provider is { name, rows: [ids], async run(wantedIds, ctx) }. The
// runtime rows (round trips, streams, spawn; .node and .chromium) are in
// test/bench/runtime.mjs and test/bench/rt-cases.mjs; the cache demo's in
// test/bench/cache.mjs.
const PROVIDERS = [cborProvider, structProvider, ...runtimeProviders, ...cacheProviders];

function gitInfo() {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString().trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}

function environment(opts) {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    os: `${os.type()} ${os.release()}`,
    cpus: cpus.length,
    cpu_model: cpus[0]?.model?.trim() ?? null,
    // A shared machine's load says how much to trust the numbers.
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    date: new Date().toISOString(),
    ...gitInfo(),
    quick: opts.quick,
    only: opts.only || null,
    builds: {},
  };
}

const ciText = (ci) => (ci ? `${fmt(ci[0])}-${fmt(ci[1])}` : '-');
const spreadText = (sp) => (sp && sp.n > 1 ? `${fmt(sp.min)} / ${fmt(sp.median)} / ${fmt(sp.max)}` : '-');

function printTable(rows, { repeat }) {
  const head = ['id', 'ferry', 'baseline', 'unit', 'ratio', '90% CI', 'goal', 'met'];
  if (repeat > 1) head.push(`min / med / max of ${repeat}`);
  const body = rows.map((r) => {
    const cells = [r.id, fmt(r.ferry), fmt(r.baseline), r.unit, fmt(r.ratio), ciText(r.ci), r.goal,
      r.met === 'yes' ? 'yes' : r.met === 'no' ? 'NO' : 'unsure'];
    if (repeat > 1) cells.push(spreadText(r.spread));
    return cells;
  });
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const right = [false, true, true, false, true, true, false, false, true];
  const line = (cells) => cells.map((c, i) => (right[i] ? c.padStart(width[i]) : c.padEnd(width[i])))
    .join(' | ').trimEnd();
  process.stdout.write(`${line(head)}\n${width.map((w) => '-'.repeat(w)).join('-|-')}\n`);
  for (const b of body) process.stdout.write(`${line(b)}\n`);
  const unpinned = rows.filter((r) => r.placement === 'unpinned');
  if (unpinned.length) {
    process.stdout.write(`\nnote: ${unpinned.length} placement row(s) ran unpinned: ${unpinned[0].detail?.placement?.note ?? 'see the JSON'} (detail.placement.note)\n`);
  }
}

// Runs every selected row once; returns the rows in provider order.
async function runOnce(selected, ctx) {
  const rows = [];
  for (const p of PROVIDERS) {
    const wanted = p.rows.filter((id) => selected.includes(id));
    if (wanted.length === 0) continue;
    log(`${p.name}: ${wanted.length} row(s)${ctx.opts.quick ? ' (quick)' : ''}`);
    rows.push(...await p.run(wanted, ctx));
  }
  return rows;
}

function defaultRunPath(env) {
  const stamp = env.date.replace(/[:]/g, '').replace(/\..*$/, '');
  return path.join('docs', 'runs', `${stamp}${env.quick ? '-quick' : ''}.json`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const all = PROVIDERS.flatMap((p) => p.rows);
  if (opts.list) {
    process.stdout.write(`${all.join('\n')}\n`);
    return 0;
  }
  if (opts.from.length) {
    const { reportFromFiles } = await import('./report.mjs');
    let written;
    try {
      written = reportFromFiles(opts.from.map((f) => path.resolve(f)), { root: ROOT });
    } catch (e) {
      throw new BenchError(`--report: ${e.message}`);
    }
    for (const w of written) log(`wrote ${path.relative(ROOT, w)}`);
    return 0;
  }
  const selected = all.filter((id) => id.startsWith(opts.only));
  if (selected.length === 0) {
    log(`no row id starts with '${opts.only}'; rows are:\n  ${all.join('\n  ')}`);
    return 1;
  }

  const started = Date.now();
  // Helpers for providers that live in other files (runtime.mjs).
  const ctx = { opts, env: environment(opts), makeRow, log, BenchError, ninjaBuild, HOW_TO_BUILD };
  ctx.env.repeat = opts.repeat;
  const runs = [];
  for (let k = 1; k <= opts.repeat; k++) {
    if (opts.repeat > 1) log(`== repeat ${k} of ${opts.repeat} ==`);
    runs.push(await runOnce(selected, ctx));
    if (k > 1) ctx.opts.build = false; // built once is enough
  }
  const rows = combineRuns(runs);
  ctx.env.seconds = Math.round((Date.now() - started) / 100) / 10;

  printTable(rows, opts);
  const doc = { env: ctx.env, rows };
  let jsonPath = opts.json;
  if (!jsonPath && opts.report) jsonPath = defaultRunPath(ctx.env);
  if (jsonPath) {
    fs.mkdirSync(path.dirname(path.resolve(jsonPath)), { recursive: true });
    fs.writeFileSync(path.resolve(jsonPath), `${JSON.stringify(doc, null, 2)}\n`);
    log(`wrote ${jsonPath}`);
  }
  if (opts.report) {
    const { writeReport } = await import('./report.mjs');
    const written = writeReport([{ file: path.relative(ROOT, path.resolve(jsonPath)), doc }], { root: ROOT });
    for (const w of written) log(`wrote ${path.relative(ROOT, w)}`);
  }
  const count = (m) => rows.filter((r) => r.met === m).length;
  log(`done in ${ctx.env.seconds} s; of ${rows.length} rows ${count('yes')} meet their goal, ` +
      `${count('no')} miss it, ${count('unsure')} are unsure`);
  return 0;
}

main().then((code) => process.exit(code), (e) => {
  log(e instanceof BenchError ? e.message : (e.stack ?? String(e)));
  process.exit(1);
});
