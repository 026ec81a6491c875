// recycle-ab-cases.mjs - the A/B of recycle(): 20 MiB bytes round trips
// (blobs.call('bytes', {data}), the rt20m.bytes_vs_floor row's ferry side)
// with every reply checked and then given back with recycle(), against
// the same with the replies kept (no recycle), batches alternated. Runs
// wherever the glue runs: recycle-ab.mjs in Node, recycle-ab.html in a
// browser.
import { System, recycle } from '../../../glue/index.mjs';
import { emptyPool, poolStats } from '../../../glue/host/pool.mjs';

const MiB20 = 20 * 1024 * 1024;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const r3 = (x) => Math.round(x * 1000) / 1000;

/**
 * @param {{batches?: number, n?: number, warmup?: number, only?: string}} opts
 *   only: 'with' or 'without' runs that case alone (how much of one case's
 *   time is the other's garbage being collected)
 * @returns {Promise<object>} medians in ms per round trip, the per-batch
 *   values, the median of per-pair ratios (with / without) and the pool's
 *   counters after
 */
export async function abRecycle({ batches = 9, n = 10, warmup = 2, only = null } = {}) {
  const sys = await System.start({ module: new URL('../../../build/wasm/test-actors.wasm', import.meta.url) });
  try {
    const blobs = await sys.spawn('blobs');
    const data = new Uint8Array(MiB20);
    for (let i = 0; i < MiB20; i += 4096) data[i] = (i >> 12) & 255;
    data[MiB20 - 1] = 7;
    const check = (r) => {
      if (r.data.length !== MiB20 || r.data[MiB20 - 1] !== 7 || r.data[4096] !== 1) throw new Error('bytes came back wrong');
    };
    const cases = {
      async without() {
        // The pool is per thread: what the other case left in it must not
        // serve this one.
        emptyPool();
        const t = performance.now();
        for (let i = 0; i < n; i++) check(await blobs.call('bytes', { data }));
        return (performance.now() - t) / n;
      },
      async with() {
        const t = performance.now();
        for (let i = 0; i < n; i++) {
          const r = await blobs.call('bytes', { data });
          check(r); // before recycling: afterwards its bytes are gone
          recycle(r.data);
        }
        return (performance.now() - t) / n;
      },
    };
    const names = Object.keys(cases).filter((k) => !only || k === only);
    const ms = { without: [], with: [] };
    const before = poolStats();
    for (let b = -warmup; b < batches; b++) {
      const order = b % 2 ? [...names].reverse() : names;
      for (const k of order) {
        const v = await cases[k]();
        if (b >= 0) ms[k].push(v);
      }
    }
    const after = poolStats();
    emptyPool();
    await blobs.stop();
    const med = (k) => (ms[k].length ? r3(median(ms[k])) : null);
    return {
      batches, n, warmup, only,
      msPerRoundTrip: { without: med('without'), with: med('with') },
      ratio: only ? null : r3(median(ms.with.map((x, i) => x / ms.without[i]))),
      ms: { without: ms.without.map(r3), with: ms.with.map(r3) },
      pool: { recycled: after.recycled - before.recycled, reused: after.reused - before.reused },
    };
  } finally {
    await sys.shutdown();
  }
}
