// baseline-origin.mjs - an origin of the baseline cache: makes the chunk
// of a key (chunk.mjs) after the same simulated latency as origin.c, and
// transfers it to the cache. Messages: {id, key, latencyMs}.
import { makeChunk } from './chunk.mjs';
import { parent, listen } from './env.mjs';

listen(parent, ({ id, key, latencyMs }) => {
  setTimeout(() => {
    const data = makeChunk(key);
    parent.postMessage({ id, data }, [data.buffer]);
  }, latencyMs);
});
