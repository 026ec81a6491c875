// env.mjs - the few differences between Node worker_threads and Web
// Workers that the demo's own workers meet, so that one file of each runs
// in both (the Node demo and the web page).

export const isNode = !!globalThis.process?.versions?.node;
const wt = isNode ? await import('node:worker_threads') : null;

/** The endpoint a worker talks to its creator on. */
export const parent = isNode ? wt.parentPort : globalThis;

/** Calls fn(data) for every message on a port, worker or endpoint. */
export function listen(target, fn) {
  if (typeof target.on === 'function' && isNode) target.on('message', fn);
  else target.addEventListener('message', (e) => fn(e.data));
  target.start?.(); // a browser MessagePort with addEventListener needs it
}

/** A module worker running url. */
export function newWorker(url) {
  return isNode ? new wt.Worker(url) : new Worker(url, { type: 'module' });
}

/** A MessageChannel of this environment. */
export function channel() {
  return isNode ? new wt.MessageChannel() : new MessageChannel();
}
