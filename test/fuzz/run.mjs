#!/usr/bin/env node
// run.mjs - `npm run fuzz`: runs every fuzz target for a while and reports.
//
//   npm run fuzz -- [--minutes N | --seconds N] [--target NAME[,NAME...]]
//                   [--json FILE] [--no-merge] [--logs NAME=FILE...]
//
// Targets (one at a time, under nice):
//   fuzz_cbor      C CBOR reader, diag and recode   libFuzzer, ASan+UBSan
//   fuzz_schema    C schema decoder                 libFuzzer, ASan+UBSan
//   fuzz_envelope  C envelope parser                libFuzzer, ASan+UBSan
//   js_envelope    JS envelope readers, framing, host decoding   (test/fuzz/js)
//   js_port        an actor worker's ports, fed garbage          (test/fuzz/js)
// The C targets are the binaries of build/native (./configure builds them
// with clang and the sanitizers); the JS ones use test/fuzz/js/engine.mjs.
//
// Corpora: each target works in build/fuzz/NAME/corpus (kept between runs)
// and starts from its committed corpus under test/fuzz/corpus*. After the
// run, inputs that add coverage to the committed corpus are merged into it
// (libFuzzer -merge=1; for JS, fuzz.mjs --merge), so it grows by what is
// new, not by megabytes. --no-merge leaves test/ alone.
//
// Per target it prints executions, exec/s, coverage (libFuzzer cov/ft; JS:
// V8 blocks and functions covered), corpus size and findings (crash files
// in build/fuzz/NAME/artifacts); --json writes all of it to FILE. Exit
// status 1 if any target found something.
//
// --logs NAME=FILE reports a libFuzzer run made by hand with the same flags
// (its log) instead of running the target again.
import { spawnSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const buildDir = process.env.FERRY_BUILD_DIR || path.join(root, 'build');
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

const TARGETS = {
  fuzz_cbor: { kind: 'c', seeds: 'test/fuzz/corpus', what: 'C CBOR reader, diag, recode' },
  fuzz_schema: { kind: 'c', seeds: 'test/fuzz/corpus-schema', what: 'C schema decoder' },
  fuzz_envelope: { kind: 'c', seeds: 'test/fuzz/corpus-envelope', what: 'C envelope parser' },
  js_envelope: { kind: 'js', seeds: 'test/fuzz/corpus-js-envelope', what: 'JS envelope readers, framing, host decoding' },
  js_port: { kind: 'js', seeds: 'test/fuzz/corpus-js-port', what: 'an actor worker\'s ports (rogue thread, host port)' },
};

const seconds = opt('seconds') !== undefined ? Number(opt('seconds')) : Number(opt('minutes') ?? 1) * 60;
const names = opt('target') ? opt('target').split(',') : Object.keys(TARGETS);
for (const n of names) {
  if (!TARGETS[n]) {
    console.error(`fuzz: no target ${n} (have: ${Object.keys(TARGETS).join(', ')})`);
    process.exit(2);
  }
}
if (!(seconds > 0)) {
  console.error('fuzz: --minutes/--seconds must be a positive number');
  process.exit(2);
}
const merge = !args.includes('--no-merge');
const logs = new Map();
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--logs') {
    const [n, f] = args[i + 1].split('=');
    logs.set(n, f);
  }
}

const countFiles = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => !f.startsWith('.')).length : 0);
const dirBytes = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0) : 0);

/** The totals of a libFuzzer run, from its output. */
export function parseLibFuzzer(text) {
  const stat = (k) => {
    const m = text.match(new RegExp(`^stat::${k}:\\s+(\\d+)`, 'm'));
    return m ? Number(m[1]) : null;
  };
  const covLines = text.match(/^#\d+\s+\w+\s+cov: \d+ ft: \d+.*$/gm) || [];
  const last = covLines[covLines.length - 1] || '';
  const done = text.match(/^Done (\d+) runs in (\d+) second/m);
  const crash = text.match(/^(==\d+==ERROR: .*|SUMMARY: .*|.*property violated.*|.*deadly signal.*)$/m);
  return {
    executions: stat('number_of_executed_units') ?? (done ? Number(done[1]) : null),
    execPerSec: stat('average_exec_per_sec'),
    seconds: done ? Number(done[2]) : null,
    coverage: { cov: Number(last.match(/cov: (\d+)/)?.[1] ?? 0), ft: Number(last.match(/ft: (\d+)/)?.[1] ?? 0) },
    corpusInRun: Number(last.match(/corp: (\d+)/)?.[1] ?? 0),
    newUnits: stat('new_units_added'),
    peakRssMb: stat('peak_rss_mb'),
    crashLine: crash ? crash[1] : null,
  };
}

function runC(name, t) {
  const bin = path.join(buildDir, 'native', name);
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: ./configure builds it (clang)`);
  const work = path.join(buildDir, 'fuzz', name);
  const corpus = path.join(work, 'corpus');
  const artifacts = path.join(work, 'artifacts');
  fs.mkdirSync(corpus, { recursive: true });
  fs.mkdirSync(artifacts, { recursive: true });
  const seeds = path.join(root, t.seeds);
  let text;
  let status = 0;
  if (logs.has(name)) text = fs.readFileSync(logs.get(name), 'utf8');
  else {
    const r = spawnSync('nice', ['-n', '10', bin, `-max_total_time=${seconds}`, '-print_final_stats=1',
      '-rss_limit_mb=2048', '-timeout=10', `-artifact_prefix=${artifacts}/`, corpus, seeds], { encoding: 'utf8', maxBuffer: 1 << 30 });
    text = `${r.stdout}${r.stderr}`;
    status = r.status ?? 1;
    fs.writeFileSync(path.join(work, 'last.log'), text);
  }
  const res = parseLibFuzzer(text);
  const crashes = fs.readdirSync(artifacts).filter((f) => /^(crash|leak|timeout|oom|slow-unit)-/.test(f));
  let merged = 0;
  if (merge && !logs.has(name)) {
    const before = countFiles(seeds);
    spawnSync('nice', ['-n', '10', bin, '-merge=1', `-artifact_prefix=${artifacts}/`, seeds, corpus], { encoding: 'utf8' });
    merged = countFiles(seeds) - before;
  }
  return {
    target: name, what: t.what, engine: 'libFuzzer, ASan+UBSan (clang)', ...res,
    corpus: logs.has(name) ? res.corpusInRun : countFiles(corpus), ...(logs.has(name) ? { log: path.relative(root, logs.get(name)) } : {}),
    committedCorpus: countFiles(seeds), committedCorpusBytes: dirBytes(seeds), merged,
    findings: crashes.map((f) => ({ file: path.relative(root, path.join(artifacts, f)) })),
    exitStatus: status, ...(res.crashLine ? { crash: res.crashLine } : {}),
  };
}

function runJs(name, t) {
  const work = path.join(buildDir, 'fuzz', name);
  const corpus = path.join(work, 'corpus');
  const artifacts = path.join(work, 'artifacts');
  const seeds = path.join(root, t.seeds);
  fs.mkdirSync(corpus, { recursive: true });
  fs.mkdirSync(seeds, { recursive: true });
  const fuzzJs = path.join(root, 'test/fuzz/js/fuzz.mjs');
  return new Promise((resolve, reject) => {
    const child = spawn('nice', ['-n', '10', process.execPath, fuzzJs, '--target', name, '--seconds', String(seconds),
      '--corpus', corpus, '--seeds', seeds, '--artifacts', artifacts], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err += d;
      if (err.length > 1 << 20) err = err.slice(-(1 << 19));
    });
    child.on('exit', (code) => {
      fs.mkdirSync(work, { recursive: true });
      fs.writeFileSync(path.join(work, 'last.log'), err);
      const line = out.trim().split('\n').pop();
      let res;
      try {
        res = JSON.parse(line);
      } catch {
        reject(new Error(`${name}: fuzz.mjs exited ${code} without totals:\n${err.slice(-2000)}`));
        return;
      }
      let merged = 0;
      if (merge) {
        const before = countFiles(seeds);
        spawnSync('nice', ['-n', '10', process.execPath, fuzzJs, '--target', name, '--merge', seeds, corpus], { encoding: 'utf8' });
        merged = countFiles(seeds) - before;
      }
      for (const f of res.findings) if (f.file) f.file = path.relative(root, f.file);
      resolve({ ...res, what: t.what, corpus: countFiles(corpus), committedCorpus: countFiles(seeds), committedCorpusBytes: dirBytes(seeds), merged });
    });
  });
}

const fmt = (n) => (n === null || n === undefined ? '-' : Number(n).toLocaleString('en-US'));
const results = [];
for (const name of names) {
  const t = TARGETS[name];
  const started = new Date().toISOString();
  process.stderr.write(`fuzz: ${name} (${t.what}) for ${seconds} s ...\n`);
  const r = t.kind === 'c' ? runC(name, t) : await runJs(name, t);
  r.started = started;
  results.push(r);
  const cov = t.kind === 'c' ? `cov ${fmt(r.coverage.cov)} ft ${fmt(r.coverage.ft)}`
    : `blocks ${fmt(r.coverage.blocks)} fns ${fmt(r.coverage.functions)}`;
  console.log(`${name.padEnd(14)} ${fmt(r.seconds).padStart(5)} s  ${fmt(r.executions).padStart(12)} execs  ${fmt(r.execPerSec).padStart(7)}/s  ${cov}  corpus ${fmt(r.committedCorpus)} (+${r.merged})  findings ${r.findings.length}`);
  for (const f of r.findings) console.log(`  finding: ${f.file ?? ''} ${f.kind ?? ''}`);
}

const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim();
const summary = { date: new Date().toISOString(), commit, secondsPerTarget: seconds, node: process.version, targets: results };
if (opt('json')) {
  fs.mkdirSync(path.dirname(path.resolve(opt('json'))), { recursive: true });
  fs.writeFileSync(opt('json'), `${JSON.stringify(summary, null, 2)}\n`);
}
process.exit(results.some((r) => r.findings.length) ? 1 : 0);
