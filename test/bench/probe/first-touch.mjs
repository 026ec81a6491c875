// first-touch.mjs - what fresh memory costs on this machine: 20 MiB
// buffers from Buffer.allocUnsafeSlow (malloc: glibc maps big ones fresh
// from the kernel) written once (every page faulted in) against the same
// write into a buffer already touched. The 20 MiB rows and the clone
// baselines allocate fresh memory per message, so this sets their pace.
//
//   node test/bench/probe/first-touch.mjs [--json FILE]
import fs from 'node:fs';

const args = process.argv.slice(2);
const jsonFile = args.includes('--json') ? args[args.indexOf('--json') + 1] : null;
const SIZE = 20 << 20;
const PAGES = SIZE / 4096;
const rounds = 21;
const fresh = [];
const warm = [];
const kept = Buffer.allocUnsafeSlow(SIZE);
kept.fill(0);
for (let r = 0; r < rounds; r++) {
  let b = Buffer.allocUnsafeSlow(SIZE);
  let t = performance.now();
  b.fill(r);
  fresh.push(performance.now() - t);
  b = null;
  t = performance.now();
  kept.fill(r);
  warm.push(performance.now() - t);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const out = {
  date: new Date().toISOString(),
  node: process.version,
  bytes: SIZE,
  rounds,
  freshMs: +median(fresh).toFixed(3),
  warmMs: +median(warm).toFixed(3),
  freshUsPerPage: +((median(fresh) - median(warm)) * 1000 / PAGES).toFixed(3),
  all: { fresh: fresh.map((x) => +x.toFixed(3)), warm: warm.map((x) => +x.toFixed(3)) },
};
console.log(`20 MiB written: fresh ${out.freshMs} ms, already touched ${out.warmMs} ms; ${out.freshUsPerPage} us more per 4 KiB page when fresh`);
if (jsonFile) fs.writeFileSync(jsonFile, JSON.stringify(out, null, 1) + '\n');
