// platform.mjs - the small adapter between Node (worker_threads) and
// browsers (Web Workers). Everything else in the glue is shared.

export const isNode = typeof process !== 'undefined' && !!process.versions?.node &&
  typeof window === 'undefined' && typeof self === 'undefined';

/** Calls fn(data) for every message on a Worker, MessagePort or worker scope. */
export function onMessage(target, fn) {
  if (typeof target.on === 'function') target.on('message', fn); // Node
  else target.addEventListener('message', (e) => fn(e.data));
  if (typeof target.start === 'function' && typeof target.on !== 'function') target.start();
}

/** Calls fn(error) when a Worker fails outside of ferry's own handling. */
export function onWorkerError(worker, fn) {
  if (typeof worker.on === 'function') {
    worker.on('error', fn);
    worker.on('exit', (code) => fn(new Error(`worker exited with code ${code}`)));
  } else {
    worker.addEventListener('error', (e) => {
      e.preventDefault?.();
      // A worker whose script or imports fail to load gets a plain Event
      // with no message (e.g. a bare specifier: import maps do not apply
      // inside workers).
      fn(e.error || new Error(e.message || 'the worker script or one of its imports failed to load'));
    });
  }
}

/** The port a worker talks to its host on. */
export async function hostPort() {
  if (isNode) {
    const { parentPort } = await import('node:worker_threads');
    return parentPort;
  }
  return self;
}

/** Compiles a wasm module from a URL, path, bytes, Response or Module. */
export async function compileModule(source) {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source);
  if (typeof Response !== 'undefined' && source instanceof Response) {
    return WebAssembly.compileStreaming ? WebAssembly.compileStreaming(source) : WebAssembly.compile(await source.arrayBuffer());
  }
  let url = source;
  if (typeof source === 'string') {
    try {
      url = new URL(source);
    } catch {
      url = null; // a plain path
    }
  }
  if (isNode && (!url || url.protocol === 'file:')) {
    const fs = await import('node:fs/promises');
    const { fileURLToPath } = await import('node:url');
    return WebAssembly.compile(await fs.readFile(url ? fileURLToPath(url) : source));
  }
  const res = await fetch(url ?? source);
  if (!res.ok) throw new Error(`cannot load ${url ?? source}: HTTP ${res.status}`);
  return WebAssembly.compileStreaming ? WebAssembly.compileStreaming(res) : WebAssembly.compile(await res.arrayBuffer());
}

/** Closes the calling worker (used after its actor stopped). */
export function closeSelf(port) {
  if (isNode) port.close();
  else self.close();
}
