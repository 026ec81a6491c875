// baseline-origin.mjs - an origin of the baseline cache: makes the chunk
// of a key (chunk.mjs) after the same simulated latency as origin.c, and
// transfers it to the cache.
import { parentPort, workerData } from 'node:worker_threads';
import { makeChunk } from './chunk.mjs';

parentPort.on('message', ({ id, key }) => {
  setTimeout(() => {
    const data = makeChunk(key);
    parentPort.postMessage({ id, data }, [data.buffer]);
  }, workerData.latencyMs);
});
