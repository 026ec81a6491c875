// bench-cases.mjs - the cache.hit_vs_transfer measurement of `npm run
// bench`, the same in Node and in a browser page (test/bench/cache.mjs
// drives both): the time of a cache hit of a 20 MiB chunk in loan mode
// (get, then release: the next get of that chunk waits until it is home)
// against a raw transfer round trip of a 20 MiB buffer to a JS worker.
// Batches of the two alternate, so that load from elsewhere hits both.
import { System, release } from '../../glue/index.mjs';
import { chunkSize } from './chunk.mjs';
import { newWorker, listen } from './env.mjs';

const MiB20 = 20 * 2 ** 20;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A key whose chunk is 20 MiB. */
export function key20() {
  for (let i = 0; ; i++) if (chunkSize(`big${i}`) === MiB20) return `big${i}`;
}

/**
 * place: optional, Node only (test/bench/placement.mjs): after the warm-up
 * the threads this started (cache, origin, echo worker) are pinned away
 * from the host's, on its CPU ('1cpu') or the other ('2cpu').
 */
export async function hitVsTransfer({ module, batches = 15, n = 50, place = null, warmupMs = 3000 }) {
  const before = place?.snapshot();
  const sys = await System.start({ module });
  const echo = newWorker(new URL('./echo-worker.mjs', import.meta.url));
  try {
    const origin = await sys.spawn('origin', { init: { latency_ms: 0 } });
    const cache = await sys.spawn('cache', { init: { budget: 64 * 2 ** 20, origins: [origin.id] } });
    const key = key20();
    const hit = async () => {
      const r = await cache.call('get', { key });
      if (r.data.byteLength !== MiB20) throw new Error(`${key} is ${r.data.byteLength} bytes`);
      release(r.data);
      return r.hit;
    };
    let back = null;
    listen(echo, (buf) => back(buf));
    let buf = new ArrayBuffer(MiB20);
    const rt = () =>
      new Promise((resolve) => {
        back = (b) => resolve((buf = b));
        echo.postMessage(buf, [buf]);
      });
    const time = async (f) => {
      const t = performance.now();
      for (let i = 0; i < n; i++) await f();
      return (performance.now() - t) / n;
    };
    await time(hit); // the first is the miss that fills it
    await time(rt);
    // Warm-up by time, like the runtime rows (test/bench/rt-cases.mjs): the
    // engine tiers up the glue and the cache's wasm over the first few
    // thousand hits, and one cold batch read 5-10x the warm time.
    const t0 = performance.now();
    while (performance.now() - t0 < warmupMs) {
      await time(hit);
      await time(rt);
    }
    const placed = place ? place.pin([], place.since(before)) : null;
    const f = [];
    const b = [];
    for (let i = 0; i < batches; i++) {
      f.push(await time(hit));
      b.push(await time(rt));
    }
    const st = await cache.call('drain', null, { timeout: 10000 });
    if (st.fills !== 1 || st.copies !== 0) throw new Error(`expected one fill and no copies, got ${JSON.stringify(st)}`);
    return { ferry: median(f), baseline: median(b), detail: { n, batches, ferryBatches: f, baselineBatches: b, hits: st.hits, ...(placed ? { placement: placed } : {}) } };
  } finally {
    place?.reset();
    echo.terminate();
    await sys.shutdown();
  }
}
