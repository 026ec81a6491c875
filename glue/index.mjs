// index.mjs - the `ferry` package: start a System of C actors, spawn them,
// send and call.
//
//   import { System, transfer } from 'ferry';
//   const sys = await System.start({ module: new URL('./app.wasm', import.meta.url) });
//   const echo = await sys.spawn('echo');
//   const r = await echo.call('get', { key: 'a' }, { timeout: 1000 });
//   await sys.shutdown();
//
// The wasm module is compiled once (host/system.mjs) and the compiled
// WebAssembly.Module is posted to every worker (worker/worker.mjs), which
// instantiates its own memory. Messages are CBOR envelopes in
// ArrayBuffers, always transferred. docs/design.md maps the rest.
import { Transfer } from './host/envelope.mjs';

export { System } from './host/system.mjs';
export { FerryError } from './wire/errors.mjs';
export { HOST, KIND } from './wire/protocol.mjs';
export { peekHeader } from './wire/head.mjs';
export { postItems } from './wire/framing.mjs';
export { OutOfBand } from './serializer.mjs';
export { release, isBorrowed } from './host/loans.mjs';
export { recycle } from './host/pool.mjs';
export { connect, RemoteActor } from './host/remote.mjs';

/** Marks an ArrayBuffer (or a view covering a whole one) to be moved, not
 * copied, as a blob. After sending, the buffer is detached here. */
export function transfer(x) {
  return new Transfer(x);
}
