// cache-child.mjs - the Node cache rows, each in a process of its own
// (test/bench/cache.mjs starts it; child.mjs says why).
//
//   node test/bench/cache-child.mjs hit '{"mode": "1cpu", "batches": 15, "n": 50, "warmupMs": 3000}'
//   node test/bench/cache-child.mjs throughput '{"seconds": 6, "verify": false, "keys": 12}'
//
// Prints the result as one line of JSON on stdout; progress on stderr.
import { hitVsTransfer } from '../../examples/cache/bench-cases.mjs';
import { runFerry, runBaseline } from '../../examples/cache/workload.mjs';
import { makePlacement } from './placement.mjs';

const [what, json] = process.argv.slice(2);
const o = JSON.parse(json ?? '{}');
const log = (s) => process.stderr.write(`${s}\n`);
let out;
if (what === 'hit') {
  const place = makePlacement(o.mode, log);
  if (place.why) log(`node.${o.mode}: cannot pin threads (${place.why}); the cache hit row runs unpinned`);
  const module = new URL('../../build/wasm/cache.wasm', import.meta.url);
  out = await hitVsTransfer({ module, batches: o.batches, n: o.n, warmupMs: o.warmupMs, place });
} else if (what === 'throughput') {
  const f = await runFerry(o);
  const b = await runBaseline(o);
  out = {
    ferry: f.chunksPerSec, baseline: b.chunksPerSec,
    detail: { seconds: o.seconds, keys: o.keys, ferry: { chunks: f.chunks, hitRatio: f.hitRatio, hit: f.latencyMs.hit, copies: f.cache.copies }, baseline: { chunks: b.chunks, hitRatio: b.hitRatio, hit: b.latencyMs.hit } },
  };
} else {
  log('usage: cache-child.mjs hit|throughput JSON');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
