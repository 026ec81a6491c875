// codec-wasm.mjs - ferry's C CBOR codec, compiled to wasm, driven from JavaScript.
//
// The emscripten factory (build/wasm/ferry-codec.mjs) is given an already
// compiled WebAssembly.Module through instantiateWasm, which sidesteps
// emscripten 3.1.6's own loader (it breaks on Node's global fetch) and lets
// one compiled module serve many instances, as the runtime will for workers.

/** An error from the C codec: code name, byte offset and reason. */
export class CborError extends Error {
  constructor(code, offset, reason) {
    super(`error at byte ${offset}: ${reason}`);
    this.name = 'CborError';
    this.code = code;
    this.offset = offset;
    this.reason = reason;
  }
}

/**
 * Instantiates the codec.
 * @param {{ factory: Function, module: WebAssembly.Module }} opts
 *   factory: the default export of ferry-codec.mjs; module: its compiled wasm.
 */
export async function loadCodec({ factory, module }) {
  if (typeof factory !== 'function') throw new TypeError('loadCodec: factory must be the emscripten module factory');
  if (!(module instanceof WebAssembly.Module)) throw new TypeError('loadCodec: module must be a compiled WebAssembly.Module');
  const m = await factory({
    instantiateWasm(imports, done) {
      WebAssembly.instantiate(module, imports).then((instance) => done(instance, module));
      return {};
    },
  });
  const utf8 = new TextDecoder('utf-8', { fatal: false });

  const cstr = (ptr) => {
    const heap = m.HEAPU8;
    let end = ptr;
    while (heap[end]) end++;
    return utf8.decode(heap.subarray(ptr, end));
  };

  // Copies bytes into wasm memory, runs fn(ptr, len), frees the copy.
  const withInput = (bytes, fn) => {
    const input = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    const ptr = m._fy_js_alloc(input.length);
    try {
      m.HEAPU8.set(input, ptr);
      const rc = fn(ptr, input.length);
      if (rc < 0) {
        throw new CborError(cstr(m._fy_js_errname(rc)), m._fy_js_err_offset(), cstr(m._fy_js_err_reason()));
      }
      return rc;
    } finally {
      m._fy_js_free(ptr);
    }
  };
  const output = () => m.HEAPU8.slice(m._fy_js_out_ptr(), m._fy_js_out_ptr() + m._fy_js_out_len());

  return {
    /** Throws CborError unless bytes hold exactly one valid CBOR item. */
    check(bytes) {
      withInput(bytes, (p, n) => m._fy_js_check(p, n));
    },
    /** RFC 8949 diagnostic notation of the item. */
    diag(bytes) {
      withInput(bytes, (p, n) => m._fy_js_diag(p, n));
      return utf8.decode(output());
    },
    /** The item re-encoded in preferred serialization (a new Uint8Array). */
    recode(bytes) {
      withInput(bytes, (p, n) => m._fy_js_recode(p, n));
      return output();
    },
  };
}
