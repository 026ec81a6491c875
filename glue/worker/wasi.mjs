// wasi.mjs - the few WASI calls a standalone emscripten module makes (libc's
// printf, clock, getrandom, exit), answered in the worker. Output goes to
// the console line by line, prefixed with the actor's label; anything else
// a C library might import answers ENOSYS.

/** Thrown by proc_exit: the actor called exit() or abort(). */
export class ExitError extends Error {
  constructor(code) {
    super(`exit(${code})`);
    this.code = code;
  }
}

const ENOSYS = 52;

/**
 * The wasi_snapshot_preview1 import object.
 * @param {() => ArrayBuffer} memory the actor's current memory buffer
 * @param {() => string} prefix what each output line starts with
 */
export function makeWasi(memory, prefix) {
  const lines = { 1: '', 2: '' };
  function output(fd, text) {
    lines[fd] += text;
    let nl;
    while ((nl = lines[fd].indexOf('\n')) >= 0) {
      const line = lines[fd].slice(0, nl);
      lines[fd] = lines[fd].slice(nl + 1);
      (fd === 2 ? console.error : console.log)(`${prefix()} ${line}`);
    }
  }
  const dec = new TextDecoder();
  const wasi = {
    proc_exit(code) {
      throw new ExitError(code);
    },
    fd_write(fd, iovs, iovcnt, nwritten) {
      const dv = new DataView(memory());
      let n = 0;
      let text = '';
      for (let i = 0; i < iovcnt; i++) {
        const p = dv.getUint32(iovs + 8 * i, true);
        const l = dv.getUint32(iovs + 8 * i + 4, true);
        text += dec.decode(new Uint8Array(memory(), p, l));
        n += l;
      }
      output(fd === 2 ? 2 : 1, text);
      dv.setUint32(nwritten, n, true);
      return 0;
    },
    clock_time_get(id, precision, out) {
      const ns = BigInt(Math.round((id === 0 ? Date.now() : performance.now()) * 1e6));
      new DataView(memory()).setBigUint64(out, ns, true);
      return 0;
    },
    random_get(ptr, len) {
      crypto.getRandomValues(new Uint8Array(memory(), ptr, len));
      return 0;
    },
    environ_sizes_get(count, size) {
      const dv = new DataView(memory());
      dv.setUint32(count, 0, true);
      dv.setUint32(size, 0, true);
      return 0;
    },
    environ_get() {
      return 0;
    },
    args_sizes_get(count, size) {
      return wasi.environ_sizes_get(count, size);
    },
    args_get() {
      return 0;
    },
  };
  return new Proxy(wasi, { get: (t, k) => t[k] ?? (() => ENOSYS) });
}
