// port-worker.mjs - the worker of the js_port fuzz target: an actor's worker
// exactly as ferry runs it (glue/worker/worker.mjs, its source modules),
// plus V8 block coverage of this thread, sent on request over a port of
// its own (workerData.cov) so that the actor's ports see nothing extra.
import inspector from 'node:inspector';
import { workerData } from 'node:worker_threads';

const session = new inspector.Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });

const cov = workerData.cov;
cov.on('message', () => {
  session.post('Profiler.takePreciseCoverage', (err, r) => {
    // Only the glue's scripts travel back (the rest is Node's own).
    const result = err ? [] : r.result.filter((s) => s.url.includes('/glue/'));
    cov.postMessage(result);
  });
});
cov.unref();

await import('../../../glue/worker/worker.mjs');
