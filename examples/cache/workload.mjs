// workload.mjs - runs the cache demo's workload against ferry (the C
// cache with its C origins) or against the baseline (the JS cache that
// answers by structured clone), with the same clients, keys and timing,
// and measures it. demo.mjs prints it; test/bench uses it for its rows.
import { Worker, MessageChannel } from 'node:worker_threads';
import { System } from '../../glue/index.mjs';
import { summarize } from './summary.mjs';

export const DEFAULTS = {
  seconds: 10,
  clients: 4,
  mode: 'loan', // or 'copy': every get answers an engine copy
  budgetMb: 256,
  keys: 64, // k0..k63, 1-20 MiB each (about 670 MiB in all)
  skew: 1.0, // Zipf exponent
  origins: 3,
  latencyMs: 20, // simulated fetch latency of an origin
  verify: true,
};

const MODULE = new URL('../../build/wasm/cache.wasm', import.meta.url);

/** Starts the client workers on ports made by connectOne(), and collects. */
async function runClients(kind, opts, connectOne, onProgress) {
  const started = performance.now();
  const progress = new Array(opts.clients).fill(null).map(() => ({ chunks: 0, bytes: 0, hits: 0 }));
  const results = await Promise.all(
    Array.from({ length: opts.clients }, async (_, index) => {
      const port = await connectOne();
      const w = new Worker(new URL('./client.mjs', import.meta.url));
      const init = {
        kind, index, seconds: opts.seconds, keys: opts.keys, skew: opts.skew,
        copy: opts.mode === 'copy', verify: opts.verify, corrupt: !!process.env.FERRY_DEMO_CORRUPT,
      };
      w.postMessage({ init, port }, [port]);
      return new Promise((resolve, reject) => {
        w.on('message', (m) => {
          if (m.progress) {
            progress[index] = m.progress;
            onProgress?.(kind, progress, (performance.now() - started) / 1000);
          } else if (m.done) resolve(m.done);
        });
        w.on('error', reject);
        w.on('exit', (code) => code && reject(new Error(`client ${index} exited with ${code}`)));
      }).finally(() => w.terminate());
    }),
  );
  return summarize(results, (performance.now() - started) / 1000);
}

/** The workload against ferry: C cache, C origins, JS clients in workers. */
export async function runFerry(options, onProgress) {
  const opts = { ...DEFAULTS, ...options };
  const sys = await System.start({ module: MODULE });
  try {
    const origins = await Promise.all(
      Array.from({ length: opts.origins }, () => sys.spawn('origin', { init: { latency_ms: opts.latencyMs } })),
    );
    const cache = await sys.spawn('cache', {
      init: { budget: opts.budgetMb * 2 ** 20, origins: origins.map((o) => o.id), lend_ms: 30000 },
    });
    const before = await cache.stats();
    const r = await runClients('ferry', opts, async () => cache.connect(), onProgress);
    // The clients have released every loan; the notices that say so may
    // still be on their way to the cache: "drain" answers once all are in
    // (the timeout turns a loan that never comes home into a failure).
    const cs = await cache.call('drain', null, { timeout: 10000 });
    const ws = await cache.stats();
    const os = await Promise.all(origins.map((o) => o.stats()));
    const chunkCopyKinds = ['blobRead', 'blobWrite', 'blobFrom', 'blobDup'];
    r.cache = cs;
    r.ferry = {
      // What ferry copied in the cache's worker during the run (ref.stats()).
      copies: Object.fromEntries(Object.entries(ws.copies).map(([k, v]) => [k, v - (before.copies[k] || 0)])),
      copiedBytes: ws.copiedBytes - before.copiedBytes,
      chunkBytesCopied: chunkCopyKinds.reduce((s, k) => s + ws.copies[k] - (before.copies[k] || 0), 0),
      loans: ws.loans,
      loansReturned: ws.loans.out === 0 && ws.loans.lent === ws.loans.returned && cs.loans_out === 0,
      originsBlobWrite: os.reduce((s, o) => s + o.copies.blobWrite, 0),
    };
    return r;
  } finally {
    await sys.shutdown();
  }
}

/** The same workload against the structured-clone baseline. */
export async function runBaseline(options, onProgress) {
  const opts = { ...DEFAULTS, ...options };
  const cache = new Worker(new URL('./baseline.mjs', import.meta.url));
  cache.postMessage({ init: { budget: opts.budgetMb * 2 ** 20, origins: opts.origins, latencyMs: opts.latencyMs } });
  try {
    const r = await runClients(
      'baseline',
      opts,
      async () => {
        const { port1, port2 } = new MessageChannel();
        cache.postMessage({ port: port1 }, [port1]);
        return port2;
      },
      onProgress,
    );
    r.cache = await new Promise((res) => {
      cache.once('message', (m) => res(m.stats));
      cache.postMessage({ stats: true });
    });
    return r;
  } finally {
    cache.postMessage({ stop: true });
    await cache.terminate();
  }
}
