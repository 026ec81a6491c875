// baseline.mjs - the cache demo's baseline: the same cache as a plain JS
// worker, answering with postMessage WITHOUT a transfer list, so every
// chunk it hands out is structured-cloned. Same budget, LRU, single
// flight; its origins are JS workers with the same latency that transfer
// the chunks they make (so only the answers to clients are cloned).
//
// workerData: {budget, origins, latencyMs}. Clients arrive as {port}.
import { parentPort, workerData, Worker } from 'node:worker_threads';

const { budget, origins: nOrigins, latencyMs } = workerData;
const origins = [];
for (let i = 0; i < nOrigins; i++) {
  const w = new Worker(new URL('./baseline-origin.mjs', import.meta.url), { workerData: { latencyMs } });
  w.unref();
  origins.push(w);
}
let nextOrigin = 0;
let nextFill = 1;
const filling = new Map(); // fill id -> key

const entries = new Map(); // key -> {data, used} | {waiters: [...]}, in LRU order (Map order)
let bytes = 0;
const stats = { hits: 0, misses: 0, fills: 0, evictions: 0, entries: 0, bytes: 0 };

for (const o of origins)
  o.on('message', ({ id, data }) => {
    const key = filling.get(id);
    filling.delete(id);
    const e = entries.get(key);
    entries.delete(key); // re-insert as most recently used
    entries.set(key, { data });
    bytes += data.byteLength;
    for (const w of e.waiters) answer(w, data, false);
    makeRoom();
  });

function makeRoom() {
  for (const [key, e] of entries) {
    if (bytes <= budget) break;
    if (!e.data) continue;
    entries.delete(key);
    bytes -= e.data.byteLength;
    stats.evictions++;
  }
}

function answer({ port, id }, data, hit) {
  port.postMessage({ id, data, hit }); // no transfer list: a structured clone
}

parentPort.on('message', (msg) => {
  if (msg.stats) {
    parentPort.postMessage({ stats: { ...stats, entries: entries.size, bytes } });
    return;
  }
  const { port } = msg;
  port.on('message', ({ id, key }) => {
    const e = entries.get(key);
    if (e && e.data) {
      stats.hits++;
      entries.delete(key);
      entries.set(key, e);
      answer({ port, id }, e.data, true);
    } else if (e) {
      stats.misses++;
      e.waiters.push({ port, id });
    } else {
      stats.misses++;
      stats.fills++;
      entries.set(key, { waiters: [{ port, id }] });
      const fid = nextFill++;
      filling.set(fid, key);
      origins[nextOrigin++ % origins.length].postMessage({ id: fid, key });
    }
  });
});
