// speed.mjs - an A/B probe for the speed work of issue 11 (not part of
// `npm run bench`): the same cases as the rt16/rt20m rows, for two copies
// of the glue side by side in one process (a saved "base" tree and this
// one), with raw postMessage as the baseline, batches interleaved, and
// thread placement held fixed with taskset:
//
//   one  every thread of the process on CPU 0
//   two  the host thread on CPU 0, each worker thread that does the work
//        on CPU 1 (ping-pong: ping on 0, pong on 1)
//   free no pinning
//
// Besides wall time per round trip it reports CPU time per round trip,
// summed over every thread of the process (/proc/self/task/*/schedstat,
// nanoseconds on CPU): a count the machine's load hardly changes.
//
//   node test/bench/probe/speed.mjs --base /tmp/speed-base --case rt16 --place one
//
// --base DIR holds glue/ and build/wasm/test-actors.wasm of the version to
// compare with (e.g. `git archive HEAD glue | tar -x -C DIR` and a copy of
// the wasm). Without it only this tree and raw run. --json FILE appends a
// line of results.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..', '..');
const JS_WORKER = new URL('../js-echo-worker.mjs', import.meta.url);

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const CASE = opt('case', 'rt16');
const PLACE = opt('place', 'free');
const BASE = opt('base', null);
const BATCHES = Number(opt('batches', 9));
const JSON_OUT = opt('json', null);
const N = Number(opt('n', { rt16: 1000, ping: 2000, blob: 300, bytes: 4 }[CASE]));

// ------------------------------------------------------------ threads

// Per thread: ns waiting on a run queue, and times scheduled in (fields 2
// and 3 of schedstat), from the last threadTimes() call.
let waits = new Map();
let slices = new Map();
function threadTimes() {
  const out = new Map();
  waits = new Map();
  slices = new Map();
  for (const t of fs.readdirSync('/proc/self/task')) {
    try {
      const f = fs.readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ');
      out.set(Number(t), Number(f[0]));
      waits.set(Number(t), Number(f[1]));
      slices.set(Number(t), Number(f[2]));
    } catch {
      // the thread ended
    }
  }
  return out;
}

function cpuNs(before, after) {
  let s = 0;
  for (const [t, ns] of after) s += ns - (before.get(t) ?? 0);
  return s;
}

const tids = () => fs.readdirSync('/proc/self/task').map(Number);

// The k threads among `among` (threads the case's workers started) that
// used the most CPU while fn ran, busiest first.
async function busiestWorkerThreads(fn, k, among) {
  const b = threadTimes();
  await fn();
  const a = threadTimes();
  const used = [];
  for (const [t, ns] of a) if (t !== process.pid && among.has(t)) used.push([t, ns - (b.get(t) ?? 0)]);
  used.sort((x, y) => y[1] - x[1]);
  return used.slice(0, k).map((u) => u[0]);
}

function pin(tid, cpus, all = false) {
  execFileSync('taskset', all ? ['-a', '-pc', cpus, String(tid)] : ['-pc', cpus, String(tid)], { stdio: 'ignore' });
}

// -------------------------------------------------------------- workers

function jsWorker() {
  const w = new Worker(JS_WORKER, { type: 'module' });
  let waiter = null;
  w.on('message', (m) => {
    const r = waiter;
    waiter = null;
    r(m);
  });
  return {
    w,
    request(msg, xfer) {
      return new Promise((resolve) => {
        waiter = resolve;
        w.postMessage(msg, xfer || []);
      });
    },
  };
}

async function ferryVersion(dir, label) {
  const { System, transfer } = await import(path.join(dir, 'glue', 'index.mjs'));
  const sys = await System.start({ module: path.join(dir, 'build', 'wasm', 'test-actors.wasm') });
  return { label, sys, transfer };
}

const MiB20 = 20 * 1024 * 1024;

// Each case: setup() -> { run(): Promise<units done>, workers: [fn to warm alone] }
async function makeCases(versions) {
  // Each case remembers the threads started since the previous one (its
  // workers), so that only those are pinned and reported as "worker".
  let seen = new Set(tids());
  const cases = [];
  const push = cases.push.bind(cases);
  cases.push = (c) => {
    const now = tids();
    c.tids = new Set(now.filter((t) => !seen.has(t)));
    seen = new Set(now);
    return push(c);
  };
  if (CASE === 'rt16') {
    const body = new Uint8Array(15).map((_, i) => 97 + i);
    for (const v of versions) {
      const echo = await v.sys.spawn('echo');
      cases.push({ name: v.label, async run() {
        for (let i = 0; i < N; i++) await echo.call('x', body);
      } });
    }
    const js = jsWorker();
    let buf = new ArrayBuffer(16);
    cases.push({ name: 'raw', async run() {
      for (let i = 0; i < N; i++) buf = await js.request(buf, [buf]);
    } });
  } else if (CASE === 'ping') {
    for (const v of versions) {
      const [ping, pong] = await Promise.all([v.sys.spawn('ping'), v.sys.spawn('pong')]);
      cases.push({ name: v.label, pair: true, async run() {
        const r = await ping.call('run', { peer: pong.id, n: N });
        if (r.rounds !== N) throw new Error('ping ran short');
      } });
    }
    const a = jsWorker();
    const b = jsWorker();
    const { port1, port2 } = new MessageChannel();
    await Promise.all([a.request({ port: port1, role: 'ping' }, [port1]), b.request({ port: port2, role: 'pong' }, [port2])]);
    cases.push({ name: 'raw', pair: true, async run() {
      const r = await a.request({ run: N });
      if (r.rounds !== N) throw new Error('JS ping ran short');
    } });
  } else if (CASE === 'blob') {
    for (const v of versions) {
      const echo = await v.sys.spawn('echo');
      let blob = new Uint8Array(MiB20);
      cases.push({ name: v.label, async run() {
        for (let i = 0; i < N; i++) blob = (await echo.call('blob', { data: v.transfer(blob) })).data;
        if (blob.length !== MiB20) throw new Error('blob came back wrong');
      } });
    }
    const js = jsWorker();
    let raw = new ArrayBuffer(MiB20);
    cases.push({ name: 'raw', async run() {
      for (let i = 0; i < N; i++) raw = await js.request(raw, [raw]);
    } });
  } else if (CASE === 'bytes') {
    const data = new Uint8Array(MiB20);
    for (let i = 0; i < MiB20; i += 4096) data[i] = (i >> 12) & 255;
    data[MiB20 - 1] = 7;
    for (const v of versions) {
      const blobs = await v.sys.spawn('blobs');
      cases.push({ name: v.label, async run() {
        let r;
        for (let i = 0; i < N; i++) r = await blobs.call('bytes', { data });
        if (r.data.length !== MiB20 || r.data[MiB20 - 1] !== 7 || r.data[4096] !== 1) throw new Error('bytes came back wrong');
      } });
    }
    // The floor of the design: per hop, one slice out of a wasm heap and
    // one set into another (design.md).
    const pages = Math.ceil((MiB20 + 65536) / 65536);
    const heapA = new Uint8Array(new WebAssembly.Memory({ initial: pages }).buffer);
    const heapB = new Uint8Array(new WebAssembly.Memory({ initial: pages }).buffer);
    heapA.set(data, 64);
    cases.push({ name: 'floor', local: true, async run() {
      for (let i = 0; i < N; i++) {
        heapB.set(heapA.slice(64, 64 + MiB20), 128);
        heapA.set(heapB.slice(128, 128 + MiB20), 64);
      }
    } });
    const js = jsWorker();
    cases.push({ name: 'clone', async run() {
      for (let i = 0; i < N; i++) await js.request({ clone: data });
    } });
  } else throw new Error(`unknown case ${CASE}`);
  return cases;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main() {
  const versions = [];
  if (BASE) versions.push(await ferryVersion(BASE, 'base'));
  versions.push(await ferryVersion(ROOT, 'new'));
  const cases = await makeCases(versions);
  // Warm up (JIT tiers), and find each case's busiest worker thread(s).
  for (const c of cases) for (let i = 0; i < 3; i++) await c.run();
  pin(process.pid, '0,1', true);
  for (const c of cases) {
    if (c.local) continue;
    c.threads = await busiestWorkerThreads(() => c.run(), c.pair ? 2 : 1, c.tids);
  }
  if (PLACE === 'one') pin(process.pid, '0', true);
  else if (PLACE === 'two') {
    // Host on 0 and its worker on 1; a pair of workers (ping-pong): one
    // on each CPU.
    pin(process.pid, '0');
    for (const c of cases) (c.threads || []).forEach((t, i) => pin(t, i === 0 ? '1' : '0'));
  }
  const res = Object.fromEntries(cases.map((c) => [c.name, { us: [], cpuUs: [], hostUs: [], workerUs: [], waitUs: [], slices: [], faults: [] }]));
  for (let b = 0; b < BATCHES; b++) {
    const order = b % 2 ? [...cases].reverse() : cases;
    for (const c of order) {
      const pf0 = process.resourceUsage().minorPageFault;
      const t0 = threadTimes();
      const wait0 = waits;
      const sl0 = slices;
      const w0 = performance.now();
      await c.run();
      const wall = ((performance.now() - w0) * 1000) / N;
      const t1 = threadTimes();
      const cpu = cpuNs(t0, t1) / 1000 / N;
      res[c.name].us.push(wall);
      res[c.name].cpuUs.push(cpu);
      // The host thread's share, and the busiest worker thread's.
      res[c.name].faults.push((process.resourceUsage().minorPageFault - pf0) / N);
      res[c.name].waitUs.push(cpuNs(wait0, waits) / 1000 / N);
      res[c.name].slices.push(cpuNs(sl0, slices) / N);
      res[c.name].hostUs.push((t1.get(process.pid) - t0.get(process.pid)) / 1000 / N);
      const wt = (c.threads || [])[0];
      res[c.name].workerUs.push(wt && t1.has(wt) ? (t1.get(wt) - t0.get(wt)) / 1000 / N : 0);
    }
  }
  const out = { case: CASE, place: PLACE, n: N, batches: BATCHES, at: new Date().toISOString(), results: {} };
  const unit = CASE === 'bytes' || CASE === 'blob' ? 'us' : 'us';
  for (const c of cases) {
    const r = res[c.name];
    const s = [...r.us].sort((a, b) => a - b);
    out.results[c.name] = {
      wallUs: +median(r.us).toFixed(2), q1: +s[Math.floor(s.length / 4)].toFixed(2), q3: +s[Math.floor((3 * s.length) / 4)].toFixed(2),
      cpuUs: +median(r.cpuUs).toFixed(2), hostCpuUs: +median(r.hostUs).toFixed(2), workerCpuUs: +median(r.workerUs).toFixed(2), runQueueWaitUs: +median(r.waitUs).toFixed(2), switchesIn: +median(r.slices).toFixed(2), minorFaults: +median(r.faults).toFixed(1), wall: r.us.map((x) => +x.toFixed(2)), cpu: r.cpuUs.map((x) => +x.toFixed(2)),
    };
  }
  // Per-pair ratios against the baseline (raw, or clone/floor for bytes).
  const baseName = CASE === 'bytes' ? 'floor' : 'raw';
  for (const v of versions) {
    const f = res[v.label].us;
    const bl = res[baseName].us;
    out.results[v.label].pairRatio = +median(f.map((x, i) => x / bl[i])).toFixed(3);
    if (CASE === 'bytes') out.results[v.label].cloneRatio = +median(f.map((x, i) => x / res.clone.us[i])).toFixed(3);
  }
  console.log(`${CASE} place=${PLACE} n=${N} batches=${BATCHES} (${unit} per round trip, median [q1 q3], cpu = all threads)`);
  for (const [k, r] of Object.entries(out.results)) {
    console.log(`  ${k.padEnd(6)} wall ${r.wallUs} [${r.q1} ${r.q3}]  cpu ${r.cpuUs} (host ${r.hostCpuUs}, worker ${r.workerCpuUs}) runq-wait ${r.runQueueWaitUs} sched-ins ${r.switchesIn} faults ${r.minorFaults}${r.pairRatio ? `  ratio ${r.pairRatio}` : ''}${r.cloneRatio ? `  vs clone ${r.cloneRatio}` : ''}`);
  }
  if (JSON_OUT) fs.appendFileSync(JSON_OUT, JSON.stringify(out) + '\n');
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
