#!/usr/bin/env node
// run-all.mjs - every test suite of ferry, one totals line at the end.
//
// Runs the C tests natively (sanitizers, the libcbor differential test and
// the fuzz run) and as wasm under node, then the jest suites, and prints
// "N passed, N failed" over all of them, which is what CI reads. C test
// binaries report their own case counts; a binary that dies before its
// summary (a crash, a sanitizer report) counts as one failure.
//
// Options: --no-fuzz (skip the C fuzz runs, 40 s each), --only c|wasm|js. The C
// suites run twice natively: clang with sanitizers, and gcc.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
const noFuzz = args.includes('--no-fuzz') || process.env.FERRY_NO_FUZZ === '1';

const totals = [];
const log = (s) => process.stdout.write(s + '\n');

function run(cmd, argv, opts = {}) {
  log(`\n$ ${[cmd, ...argv].join(' ')}`);
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit', ...opts });
  if (r.error) throw r.error;
  return r.status;
}

// Counts cases from meson's testlog.json (one JSON object per line).
function mesonCounts(buildDir, suiteName) {
  const file = path.join(root, buildDir, 'meson-logs', 'testlog.json');
  let passed = 0;
  let failed = 0;
  if (!fs.existsSync(file)) return { name: suiteName, passed, failed: 1 };
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const t = JSON.parse(line);
    const m = [...String(t.stdout || '').matchAll(/^(\d+) passed, (\d+) failed$/gm)].pop();
    if (m && t.result === 'OK') {
      passed += Number(m[1]);
      failed += Number(m[2]);
    } else if (m) {
      passed += Number(m[1]);
      failed += Math.max(1, Number(m[2]));
    } else if (t.result === 'OK') {
      passed += 1;
    } else {
      failed += 1;
    }
  }
  return { name: suiteName, passed, failed };
}

function meson(buildDir, suiteName, extra = []) {
  const build = run('ninja', ['-C', buildDir]);
  if (build !== 0) {
    totals.push({ name: `${suiteName} (build)`, passed: 0, failed: 1 });
    return;
  }
  run('meson', ['test', '-C', buildDir, '--print-errorlogs', ...extra]);
  totals.push(mesonCounts(buildDir, suiteName));
}

if (!only || only === 'c') {
  meson('build/native', 'C native (ASan+UBSan, libcbor diff' + (noFuzz ? ')' : ', fuzz)'),
    noFuzz ? ['--no-suite', 'fuzz'] : []);
}
if (!only || only === 'c') meson('build/gcc', 'C native (gcc)', ['--no-suite', 'fuzz']);
if (!only || only === 'wasm') meson('build/wasm', 'C wasm (node)');
if (!only || only === 'js') {
  const out = path.join(root, 'build', 'jest-results.json');
  fs.rmSync(out, { force: true });
  run(process.execPath, ['--experimental-vm-modules', '--no-warnings',
    'node_modules/jest/bin/jest.js', '--json', `--outputFile=${out}`]);
  if (fs.existsSync(out)) {
    const j = JSON.parse(fs.readFileSync(out, 'utf8'));
    // A suite that fails to load has no test results but must still count.
    const broken = j.testResults.filter((s) => s.status === 'failed' && s.assertionResults.length === 0).length;
    totals.push({ name: 'jest', passed: j.numPassedTests, failed: j.numFailedTests + broken + j.numPendingTests });
  } else {
    totals.push({ name: 'jest', passed: 0, failed: 1 });
  }
}

log('\nSummary');
for (const t of totals) log(`  ${t.name.padEnd(48)} ${t.passed} passed, ${t.failed} failed`);
const passed = totals.reduce((a, t) => a + t.passed, 0);
const failed = totals.reduce((a, t) => a + t.failed, 0);
log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
