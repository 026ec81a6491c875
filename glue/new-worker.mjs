// new-worker.mjs - the one place that creates an actor's worker.
//
// The literal `new Worker(new URL('./worker.mjs', import.meta.url), ...)`
// is the form bundlers recognise (vite emits the worker script as its own
// chunk). It lives in glue/, beside worker.mjs, so that where a bundler
// leaves the URL as is (esbuild), it points next to the bundle: put
// glue/worker.mjs there (docs/api.md, "Bundlers"). Not part of the worker
// script: a worker that contained the literal would make vite bundle the
// worker into itself.
import { isNode, nodeBuiltin } from './platform.mjs';

/** A new actor worker and the URL of its script (for error messages). */
export function newWorker() {
  const Base = globalThis.Worker ?? (isNode ? nodeBuiltin('node:worker_threads').Worker : null);
  if (!Base) throw new Error('ferry: this environment has no Worker (ferry runs in browsers and in Node.js >= 20.16)');
  let url;
  // Named Worker so that the line below keeps the literal bundlers look
  // for; it records the URL the bundler put in.
  const Worker = function (scriptURL, options) {
    url = String(scriptURL);
    return new Base(scriptURL, options);
  };
  const worker = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
  return { worker, url };
}
