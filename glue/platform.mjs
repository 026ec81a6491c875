// platform.mjs - the small adapter between Node (worker_threads) and
// browsers (Web Workers). Everything else in the glue is shared.
//
// No file of the glue imports a node: module, statically or dynamically:
// this file and everything else the package's entry reaches are also the
// browser's module graph, and bundlers resolve every import they see (vite
// warns "externalized for browser compatibility", esbuild fails). Node's
// modules are taken with process.getBuiltinModule (Node >= 20.16), which is
// a plain function call that no bundler follows, and which needs no
// top-level await (vite's default worker format, iife, has none).

export const isNode = typeof process !== 'undefined' && !!process.versions?.node &&
  typeof window === 'undefined' && typeof self === 'undefined';

/** A Node built-in module (only called when isNode). */
export function nodeBuiltin(id) {
  if (typeof process.getBuiltinModule !== 'function') {
    throw new Error(`ferry needs Node.js 20.16 or later (process.getBuiltinModule), this is ${process.version}`);
  }
  return process.getBuiltinModule(id);
}

/** Calls fn(data) for every message on a Worker, MessagePort or worker scope. */
export function onMessage(target, fn) {
  if (typeof target.on === 'function') target.on('message', fn); // Node
  else target.addEventListener('message', (e) => fn(e.data));
  if (typeof target.start === 'function' && typeof target.on !== 'function') target.start();
}

/** Calls fn(error) when a Worker fails outside of ferry's own handling.
 * scriptURL (the URL the worker was created with) goes into the message
 * when a browser reports a load failure, which comes with no words. */
export function onWorkerError(worker, fn, scriptURL) {
  if (typeof worker.on === 'function') {
    worker.on('error', fn);
    worker.on('exit', (code) => fn(new Error(`worker exited with code ${code}`)));
  } else {
    worker.addEventListener('error', (e) => {
      e.preventDefault?.();
      if (e.error || e.message) {
        fn(e.error || new Error(e.message));
        return;
      }
      // A worker whose script or imports fail to load gets a plain Event
      // with no message. Ask the server what it answers for the script.
      diagnoseScript(scriptURL).then((why) => fn(new Error(`the worker script ${scriptURL ?? ''} failed to load: ${why}`)));
    });
  }
}

// Why a worker script may have failed to load, from fetching it again.
async function diagnoseScript(url) {
  if (!url) return 'the browser gives no reason';
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    return `fetching it fails too (${e.message})`;
  }
  const type = res.headers.get('content-type') || 'no content-type';
  if (!res.ok) return `the server answers HTTP ${res.status} ${res.statusText}`.trimEnd();
  if (!/javascript|ecmascript/i.test(type)) return `the server sends it as ${type}, not JavaScript (is the path right, and is it served next to the page's bundle?)`;
  return 'it is served as JavaScript, so it or one of its imports failed to evaluate (a bare import specifier? import maps do not apply inside workers)';
}

/** The port a worker talks to its host on. */
export function hostPort() {
  if (isNode) return nodeBuiltin('node:worker_threads').parentPort;
  return self;
}

/** Compiles a wasm module from a URL, path, bytes, Response or Module. */
export async function compileModule(source) {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source);
  if (typeof Response !== 'undefined' && source instanceof Response) return compileResponse(source, source.url || 'the Response');
  let url = source;
  if (typeof source === 'string') {
    try {
      url = new URL(source);
    } catch {
      url = null; // a plain path
    }
  }
  if (isNode && (!url || url.protocol === 'file:')) {
    const fs = nodeBuiltin('node:fs/promises');
    const { fileURLToPath } = nodeBuiltin('node:url');
    return WebAssembly.compile(await fs.readFile(url ? fileURLToPath(url) : source));
  }
  let res;
  try {
    res = await fetch(url ?? source);
  } catch (e) {
    throw new Error(`cannot fetch ${url ?? source}: ${e.message}`, { cause: e });
  }
  if (!res.ok) throw new Error(`cannot load ${url ?? source}: HTTP ${res.status} ${res.statusText}`.trimEnd());
  return compileResponse(res, String(url ?? source));
}

// Streams when the server says application/wasm (compileStreaming insists
// on it); else compiles the bytes, and names what came instead of wasm.
async function compileResponse(res, what) {
  const type = res.headers.get('content-type') || '';
  if (WebAssembly.compileStreaming && /^application\/wasm\b/i.test(type)) return WebAssembly.compileStreaming(res);
  const bytes = await res.arrayBuffer();
  try {
    return await WebAssembly.compile(bytes);
  } catch (e) {
    throw new Error(`${what} is not a wasm module (served as ${type || 'no content-type'}, ${bytes.byteLength} bytes): ${e.message}`, { cause: e });
  }
}

/** Closes the calling worker (used after its actor stopped). */
export function closeSelf(port) {
  if (isNode) port.close();
  else self.close();
}
