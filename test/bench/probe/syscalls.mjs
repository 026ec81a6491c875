// syscalls.mjs - a loan-mode cache hit of 20 MiB (get + release) or a raw
// transfer round trip of 20 MiB, 3,000 warm-up rounds then 10,000, for
// counting the system calls each costs (strace counts them; this machine's
// kernel runs paravirtualized, where a system call is dear):
//
//   taskset -c 0 strace -f -c -o FILE node test/bench/probe/syscalls.mjs ferry|raw
//
// docs/runs/cache-hit-strace-ferry.txt and -raw.txt are two such counts.
import { Worker } from 'node:worker_threads';
import { System, release } from '../../../glue/index.mjs';
import { key20 } from '../../../examples/cache/bench-cases.mjs';
const mode = process.argv[2];
const sys = await System.start({ module: new URL('../../../build/wasm/cache.wasm', import.meta.url) });
const origin = await sys.spawn('origin', { init: { latency_ms: 0 } });
const cache = await sys.spawn('cache', { init: { budget: 64 * 2 ** 20, origins: [origin.id] } });
const key = key20();
const hit = async () => { const r = await cache.call('get', { key }); release(r.data); };
const echo = new Worker("const { parentPort } = require('node:worker_threads'); parentPort.on('message', (b) => parentPort.postMessage(b, [b]));", { eval: true });
let back; echo.on('message', (b) => back(b));
let buf = new ArrayBuffer(20 * 2 ** 20);
const raw = () => new Promise((resolve) => { back = (b) => { buf = b; resolve(); }; echo.postMessage(buf, [buf]); });
const f = mode === 'ferry' ? hit : raw;
for (let i = 0; i < 3000; i++) await f();
process.stderr.write('GO\n');
for (let i = 0; i < 10000; i++) await f();
process.stderr.write('END\n');
echo.terminate(); await sys.shutdown();
