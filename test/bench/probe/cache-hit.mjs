// cache-hit.mjs - where a loan-mode cache hit's time goes, against a raw
// transfer round trip of 20 MiB: wall time and CPU time of all threads per
// hit (from /proc/self/task/*/schedstat), batches alternated. Run it with
// the whole process on one CPU to take thread placement out:
//
//   taskset -c 0 node test/bench/probe/cache-hit.mjs [--json FILE] [--threads]
//
// It also splits the CPU time by thread: the host (main thread), the
// busiest other thread (the cache's worker, or the echo worker), and the
// rest (V8's platform threads: GC and compiler helpers; the origin).
//
// Needs build/wasm/cache.wasm (./configure). Linux only (schedstat).
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { System, release } from '../../../glue/index.mjs';
import { key20 } from '../../../examples/cache/bench-cases.mjs';

const args = process.argv.slice(2);
const jsonFile = args.includes('--json') ? args[args.indexOf('--json') + 1] : null;

/** CPU time of each thread of this process, in µs, by thread id. */
function cpuByThread() {
  const out = {};
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      out[tid] = Number(fs.readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** CPU time of every thread of this process, in µs. */
function cpuUs() {
  let t = 0;
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      t += Number(fs.readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return t / 1000;
}

const sys = await System.start({ module: new URL('../../../build/wasm/cache.wasm', import.meta.url) });
const origin = await sys.spawn('origin', { init: { latency_ms: 0 } });
const cache = await sys.spawn('cache', { init: { budget: 64 * 2 ** 20, origins: [origin.id] } });
const key = key20();
const hit = async () => {
  const r = await cache.call('get', { key });
  release(r.data);
};
const echo = new Worker(
  "const { parentPort } = require('node:worker_threads');" +
    'parentPort.on("message", (b) => parentPort.postMessage(b, [b]));',
  { eval: true },
);
let back;
echo.on('message', (b) => back(b));
let buf = new ArrayBuffer(20 * 2 ** 20);
const raw = () =>
  new Promise((resolve) => {
    back = (b) => {
      buf = b;
      resolve();
    };
    echo.postMessage(buf, [buf]);
  });

// Warm-up: V8 tiers up the glue over the first few thousand messages.
for (let i = 0; i < 3000; i++) await hit();
for (let i = 0; i < 3000; i++) await raw();
const N = 2000;
const rows = { ferry: [], raw: [] };
// Per thread too: which thread's CPU time a hit costs (the main thread is
// the host; the busiest other thread of the ferry batches is the cache's
// worker, of the raw batches the echo worker).
const byThread = { ferry: [], raw: [] };
for (let k = 0; k < 6; k++) {
  for (const [name, f] of [['ferry', hit], ['raw', raw]]) {
    const c0 = cpuUs();
    const t0s = cpuByThread();
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await f();
    rows[name].push({ wallUs: ((performance.now() - t0) / N) * 1000, cpuUs: (cpuUs() - c0) / N });
    const t1s = cpuByThread();
    const per = Object.keys(t1s).map((tid) => ({ tid: Number(tid), us: (t1s[tid] - (t0s[tid] ?? 0)) / N }));
    const main = per.find((p) => p.tid === process.pid)?.us ?? 0;
    const others = per.filter((p) => p.tid !== process.pid).sort((a, b) => b.us - a.us);
    byThread[name].push({ host: main, busiest: others[0]?.us ?? 0, rest: others.slice(1).reduce((a, p) => a + p.us, 0) });
    // --threads: the last round's busiest threads (Node names them all
    // "node"; the low ids are V8's platform threads: GC and compiler help).
    if (args.includes('--threads') && k === 5) {
      for (const p of others.slice(0, 6)) console.log(`${name}: thread ${p.tid} ${p.us.toFixed(2)} µs per hit`);
    }
  }
}
echo.terminate();
await sys.shutdown();

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const summary = {};
for (const name of ['ferry', 'raw']) {
  summary[name] = {
    wallUs: median(rows[name].map((r) => r.wallUs)),
    cpuUs: median(rows[name].map((r) => r.cpuUs)),
  };
}
for (const name of ['ferry', 'raw']) {
  summary[name].threadsUs = {
    host: median(byThread[name].map((r) => r.host)),
    worker: median(byThread[name].map((r) => r.busiest)),
    rest: median(byThread[name].map((r) => r.rest)),
  };
}
const out = { date: new Date().toISOString(), hitsPerBatch: N, summary, batches: rows };
console.log(`per hit: ferry ${summary.ferry.wallUs.toFixed(1)} µs wall, ${summary.ferry.cpuUs.toFixed(1)} µs CPU; ` +
  `raw ${summary.raw.wallUs.toFixed(1)} µs wall, ${summary.raw.cpuUs.toFixed(1)} µs CPU`);
const t = (x) => `host ${x.host.toFixed(1)}, worker ${x.worker.toFixed(1)}, other threads ${x.rest.toFixed(1)}`;
console.log(`CPU µs per hit by thread: ferry ${t(summary.ferry.threadsUs)}; raw ${t(summary.raw.threadsUs)}`);
if (jsonFile) fs.writeFileSync(jsonFile, JSON.stringify(out, null, 1) + '\n');
