// client.mjs - one client loop of the cache demo, in a worker of its own
// (Node worker thread or Web Worker): it asks for keys with a Zipf-like
// skew, checks every chunk it gets (chunk.mjs) and gives loans back.
// Running here, off the main thread, the checking never stalls the thread
// that shows progress.
//
// It waits for {init: {kind: 'ferry' | 'baseline', index, seconds, keys,
// skew, copy, verify, thumbs}, port} (seconds may be Infinity: then it
// runs until {stop}), then posts {progress} about every
// 100 ms (with a thumbnail of the last chunk when `thumbs`) and {done}.
import { connect, release, isBorrowed } from '../../glue/index.mjs';
import { verifyChunk } from './chunk.mjs';
import { zipfPicker } from './zipf.mjs';
import { parent, listen, isNode } from './env.mjs';

/** get(key) -> {data, hit} through ferry or through the baseline's port. */
async function makeGet(kind, port, copy) {
  if (kind === 'ferry') {
    const cache = await connect(port);
    return (key) => cache.call('get', { key, copy }, { timeout: 60000 });
  }
  const waiting = new Map();
  let next = 1;
  listen(port, (m) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    w.resolve(m);
  });
  return (key) =>
    new Promise((resolve) => {
      const id = next++;
      waiting.set(id, { resolve });
      port.postMessage({ id, key });
    });
}

/** 8x8 grey levels from bytes spread over the chunk: what a tile shows. */
function thumbnail(data) {
  const t = new Uint8Array(64);
  const step = Math.floor(data.byteLength / 64);
  for (let i = 0; i < 64; i++) t[i] = data[i * step];
  return t;
}

async function run({ kind, index, seconds, keys, skew, copy, verify, thumbs, corrupt }, port) {
  const get = await makeGet(kind, port, copy);
  const pick = zipfPicker(keys, skew, 0x1234 + index);
  const deadline = Date.now() + seconds * 1000;
  const r = { chunks: 0, bytes: 0, hits: [], misses: [], verified: 0, failedCount: 0, failed: [], released: 0 };
  let lastPost = 0;
  let thumb = null;
  while (!stopped && Date.now() < deadline) {
    const key = pick();
    const t0 = performance.now();
    const reply = await get(key);
    const ms = performance.now() - t0;
    (reply.hit ? r.hits : r.misses).push(ms);
    r.chunks++;
    r.bytes += reply.data.byteLength;
    // Only the tests set this: client 0 flips a bit of its first chunk
    // (in its copy or, lent, in the cache's own) so that they can see a
    // failed verification fail the demo.
    if (corrupt && index === 0 && r.chunks === 1) reply.data[0] ^= 1;
    if (verify) {
      if (verifyChunk(reply.data, key)) r.verified++;
      else if (++r.failedCount <= 20) r.failed.push(key); // name a few
    }
    if (thumbs) thumb = { key, hit: reply.hit, ms, pixels: thumbnail(reply.data) };
    if (kind === 'ferry' && isBorrowed(reply.data)) {
      release(reply.data);
      r.released++;
    }
    if (performance.now() - lastPost > 100) {
      lastPost = performance.now();
      parent.postMessage({ progress: { index, chunks: r.chunks, bytes: r.bytes, hits: r.hits.length, lat: ms, thumb } });
      thumb = null;
    }
  }
  parent.postMessage({ done: r });
  if (isNode) parent.close();
}

let stopped = false; // {stop}: the page's switch ends a run early
listen(parent, (m) => {
  if (m.init) run(m.init, m.port);
  else if (m.stop) stopped = true;
});
