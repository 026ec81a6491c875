// baseline.mjs - the cache demo's baseline: the same cache as a plain JS
// worker (Node or Web), answering with postMessage WITHOUT a transfer
// list, so every chunk it hands out is structured-cloned. Same budget,
// LRU, single flight; its origins are JS workers with the same latency
// that transfer the chunks they make (so only the answers are cloned).
//
// Messages: {init: {budget, origins, latencyMs}} first, then {port} for
// each client, {stats: true} (answered {stats}), {stop: true}.
import { parent, listen, newWorker } from './env.mjs';

let cfg;
const origins = [];
let nextOrigin = 0;
let nextFill = 1;
const filling = new Map(); // fill id -> key
// key -> {data} when held, {waiters: [...]} while filling; Map order is
// the LRU order (a hit re-inserts its key at the end).
const entries = new Map();
let bytes = 0;
const stats = { hits: 0, misses: 0, fills: 0, evictions: 0 };

function filled({ id, data }) {
  const key = filling.get(id);
  filling.delete(id);
  const e = entries.get(key);
  entries.delete(key);
  entries.set(key, { data });
  bytes += data.byteLength;
  for (const w of e.waiters) answer(w, data, false);
  makeRoom();
}

function makeRoom() {
  for (const [key, e] of entries) {
    if (bytes <= cfg.budget) break;
    if (!e.data) continue;
    entries.delete(key);
    bytes -= e.data.byteLength;
    stats.evictions++;
  }
}

function answer({ port, id }, data, hit) {
  port.postMessage({ id, data, hit }); // no transfer list: a structured clone
}

function get(port, { id, key }) {
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
    origins[nextOrigin++ % origins.length].postMessage({ id: fid, key, latencyMs: cfg.latencyMs });
  }
}

listen(parent, (msg) => {
  if (msg.init) {
    cfg = msg.init;
    for (let i = 0; i < cfg.origins; i++) {
      const w = newWorker(new URL('./baseline-origin.mjs', import.meta.url));
      listen(w, filled);
      origins.push(w);
    }
  } else if (msg.port) {
    listen(msg.port, (m) => get(msg.port, m));
  } else if (msg.stats) {
    parent.postMessage({ stats: { ...stats, entries: [...entries.values()].filter((e) => e.data).length, bytes } });
  } else if (msg.stop) {
    for (const o of origins) o.terminate();
    parent.close?.();
  }
});
