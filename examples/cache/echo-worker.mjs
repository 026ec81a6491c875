// echo-worker.mjs - posts every ArrayBuffer it gets straight back,
// transferred: the raw transfer round trip the cache.hit_vs_transfer bench
// row compares a cache hit with.
import { parent, listen } from './env.mjs';

listen(parent, (buf) => parent.postMessage(buf, [buf]));
