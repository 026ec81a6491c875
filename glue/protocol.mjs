// protocol.mjs - what the host and the workers say to each other.
//
// Envelopes (docs/wire-format.md) are CBOR arrays [kind, type, corr, body]
// in ArrayBuffers that always travel in the transfer list. On a port, one
// postMessage carries one of:
//   ArrayBuffer                    one envelope without transferables
//   [ArrayBuffer, ...transferables] one envelope with blobs (tag 41999(i)
//                                  in the body is transferables[i])
//   { b: [item, ...] }             a batch of the two forms above, in order
//   { ctl: '...', ... }            a control message (below)
//
// Control messages, host -> worker: init, peer (a port to another actor),
// peer-fail, down (another actor stopped). Worker -> host: started, failed,
// connect (asks for a port to another actor), down (this actor stopped),
// log (stdout/stderr lines of the actor).
import { encodeToArrayBuffer } from './cbor.mjs';

export const KIND = Object.freeze({ SEND: 0, CALL: 1, REPLY: 2, ERROR: 3 });
export const HOST = 0;

// Mirrors FERRY_ERRNO_MAP in include/ferry/error.h (a test checks both).
export const ERRNO = Object.freeze({
  OK: 0, EINVAL: -1, ENOMEM: -2, ENOSPC: -3, ETRUNCATED: -4, EMALFORMED: -5,
  EINVALID: -6, ETRAILING: -7, ELIMIT: -8, ETYPE: -9, ERANGE: -10, EMISSING: -11,
  EDOWN: -12, ETIMEDOUT: -13, EFULL: -14, ECANCELED: -15, ENOTFOUND: -16,
  ECLOSED: -17, EREMOTE: -18,
});
const NAMES = Object.fromEntries(Object.entries(ERRNO).map(([k, v]) => [v, k]));
export const errnoName = (errno) => NAMES[errno] || 'EUNKNOWN';

/**
 * An error from ferry: `code` is the FERRY_E* name ('EDOWN', 'ETIMEDOUT',
 * ...), `errno` its negative number; `actor` the id involved, if any.
 */
export class FerryError extends Error {
  constructor(code, message, extra = {}) {
    super(message, extra.cause !== undefined ? { cause: extra.cause } : undefined);
    this.name = 'FerryError';
    this.code = code;
    this.errno = ERRNO[code] ?? extra.errno ?? -1;
    if (extra.actor !== undefined) this.actor = extra.actor;
    if (extra.remoteName) this.remoteName = extra.remoteName;
    if (extra.remoteStack) this.remoteStack = extra.remoteStack;
  }
}

/** Builds the error body {code, name, message} of the wire format. */
export function errorBody(code, message, extra) {
  const body = { code: ERRNO[code] ?? -1, name: code, message };
  if (extra?.stack) body.stack = extra.stack;
  return body;
}

/** An error envelope as an ArrayBuffer. */
export function errorEnvelope(type, corr, code, message) {
  return encodeToArrayBuffer([KIND.ERROR, type, corr, errorBody(code, message)]);
}

/** Turns a decoded error body into a FerryError. */
export function errorFromBody(body, actor) {
  const errno = typeof body?.code === 'number' ? body.code : -18;
  const code = typeof body?.name === 'string' && body.name in ERRNO ? body.name : errnoName(errno);
  const err = new FerryError(code === 'EUNKNOWN' ? 'EREMOTE' : code,
    typeof body?.message === 'string' ? body.message : 'remote error', {
      errno, actor, remoteName: body?.name, remoteStack: body?.stack,
    });
  return err;
}

/**
 * Reads kind and corr from an envelope's head without decoding the rest:
 * 84 kind type corr. Returns null when the head is not of that shape
 * (the C side then rejects the message with a clear error).
 */
export function peekHeader(u8) {
  if (u8.length < 4 || u8[0] !== 0x84) return null;
  const kind = u8[1];
  if (kind > 3) return null;
  let p = 2;
  const ib = u8[p++];
  if (ib >> 5 !== 3) return null;
  let len = ib & 31;
  if (len === 24) len = u8[p++];
  else if (len === 25) { len = (u8[p] << 8) | u8[p + 1]; p += 2; }
  else if (len === 26) { len = ((u8[p] << 24) >>> 0) + ((u8[p + 1] << 16) | (u8[p + 2] << 8) | u8[p + 3]); p += 4; }
  else if (len > 23) return null;
  p += len;
  if (p >= u8.length) return null;
  const cb = u8[p++];
  if (cb >> 5 !== 0) return null;
  let corr = cb & 31;
  const ai = corr;
  if (ai === 24) corr = u8[p];
  else if (ai === 25) corr = (u8[p] << 8) | u8[p + 1];
  else if (ai === 26) corr = ((u8[p] << 24) >>> 0) + ((u8[p + 1] << 16) | (u8[p + 2] << 8) | u8[p + 3]);
  else if (ai === 27) {
    let v = 0;
    for (let i = 0; i < 8; i++) v = v * 256 + u8[p + i];
    corr = v; // corr values stay far below 2^53
  } else if (ai > 27) return null;
  return { kind, corr };
}

/** Splits a port message into envelope items {buf, xfer}. */
export function unpackItems(data, out) {
  if (data instanceof ArrayBuffer) out.push({ buf: data, xfer: null });
  else if (Array.isArray(data)) out.push({ buf: data[0], xfer: data.length > 1 ? data.slice(1) : null });
  else if (data && Array.isArray(data.b)) for (const it of data.b) unpackItems(it, out);
  return out;
}

// A batch is capped so that one postMessage never carries an unbounded
// transfer list; 1024 envelopes amortise the per-message cost well.
export const MAX_BATCH = 1024;

/** Posts envelope items {buf, xfer} on a port or worker: alone, or in
 * batches. Every buffer is in the transfer list (detached afterwards). */
export function postItems(target, items) {
  if (items.length === 1) {
    const it = items[0];
    if (it.xfer) target.postMessage([it.buf, ...it.xfer], [it.buf, ...it.xfer]);
    else target.postMessage(it.buf, [it.buf]);
    return;
  }
  for (let start = 0; start < items.length; start += MAX_BATCH) {
    const chunk = items.slice(start, start + MAX_BATCH);
    const xfer = [];
    const b = chunk.map((it) => {
      xfer.push(it.buf);
      if (!it.xfer) return it.buf;
      xfer.push(...it.xfer);
      return [it.buf, ...it.xfer];
    });
    target.postMessage({ b }, xfer);
  }
}
