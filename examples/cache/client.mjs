// client.mjs - one client loop of the cache demo, in its own Node worker
// thread: it asks for keys with a Zipf-like skew, checks every chunk it
// gets (chunk.mjs) and gives loans back. Running here, off the main
// thread, the checking does not stall the thread that reports progress.
//
// workerData: {kind: 'ferry' | 'baseline', port, index, deadline (ms since
// the epoch), keys, skew, copy, verify}. It posts {progress} now and then
// and {done: result} at the end.
import { parentPort, workerData } from 'node:worker_threads';
import { connect, release, isBorrowed } from '../../glue/index.mjs';
import { verifyChunk } from './chunk.mjs';
import { zipfPicker } from './zipf.mjs';

const { kind, port, index, deadline, keys, skew, copy, verify } = workerData;
const pick = zipfPicker(keys, skew, 0x1234 + index);

/** get(key) -> {data, hit} through ferry or through the baseline's port. */
async function makeGet() {
  if (kind === 'ferry') {
    const cache = await connect(port);
    return (key) => cache.call('get', { key, copy }, { timeout: 60000 });
  }
  const waiting = new Map();
  let next = 1;
  port.on('message', (m) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error) w.reject(new Error(m.error));
    else w.resolve(m);
  });
  return (key) =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      port.postMessage({ id, key });
    });
}

const get = await makeGet();
const r = { chunks: 0, bytes: 0, hits: [], misses: [], verified: 0, failedCount: 0, failed: [], released: 0, borrowedLeft: 0 };
let lastPost = 0;
while (Date.now() < deadline) {
  const key = pick();
  const t0 = performance.now();
  const reply = await get(key);
  const ms = performance.now() - t0;
  (reply.hit ? r.hits : r.misses).push(ms);
  r.chunks++;
  r.bytes += reply.data.byteLength;
  // Only the tests set this: it corrupts the first chunk of client 0 (in
  // its copy, or, lent, in the cache's own) so that they can see a failed
  // verification fail the demo.
  if (process.env.FERRY_DEMO_CORRUPT && index === 0 && r.chunks === 1) reply.data[0] ^= 1;
  if (verify) {
    if (verifyChunk(reply.data, key)) r.verified++;
    else if (++r.failedCount <= 20) r.failed.push(key); // name a few
  }
  if (kind === 'ferry' && isBorrowed(reply.data)) {
    release(reply.data);
    r.released++;
  }
  if (performance.now() - lastPost > 100) {
    lastPost = performance.now();
    parentPort.postMessage({ progress: { index, chunks: r.chunks, bytes: r.bytes, hits: r.hits.length } });
  }
}
parentPort.postMessage({ done: r });
