// protocol.mjs - what the host and the workers say to each other, and the
// few CBOR bytes the glue writes and reads itself. It imports nothing, so
// that a worker's module graph is only worker.mjs, protocol.mjs and
// platform.mjs: no bare specifiers (browsers apply no import map inside
// module workers) and little to load per spawn.
//
// Envelopes (docs/wire-format.md) are CBOR arrays [kind, type, corr, body].
// On a port, one postMessage carries one of:
//   ArrayBuffer                    one envelope without transferables
//   [ArrayBuffer, ...transferables] one envelope with blobs (tag 41999(i)
//                                  in the body is transferables[i])
//   { p: ArrayBuffer }             a packed run of envelopes without
//                                  transferables: each is a 4-byte
//                                  little-endian length, then its bytes
//   { e: ArrayBuffer, n }          one envelope without transferables in
//                                  the first n bytes of e, the rest zeros
//                                  (a worker reusing a received buffer)
//   { b: [item, ...] }             a batch of the three forms above, in order
//   { ctl: '...', ... }            a control message (below)
// Every buffer is in the transfer list. What one turn of the event loop
// posts to one port leaves in one postMessage (Outbox below), at most
// MAX_BATCH envelopes each.
//
// Control messages, host -> worker: init, peer (a port to another actor),
// peer-fail, down (another actor stopped). Worker -> host: started, failed,
// connect (asks for a port to another actor), down (this actor stopped),
// log (stdout/stderr lines of the actor).

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

// ------------------------------------------------------------- writing

/** Byte strings at least this long are not copied into a Writer's buffer:
 * they are copied once, straight into the outgoing ArrayBuffer. */
export const BIG_BYTES = 64 * 1024;
const KEEP = 1 << 20; // a Writer keeps a buffer up to this size between uses
const utf8enc = new TextEncoder();

/**
 * Writes CBOR into one reusable buffer. Large byte strings are recorded as
 * segments (see BIG_BYTES); length, copyTo() and toArrayBuffer() include
 * them. Used by the host's envelope encoder (envelope.mjs) and for the
 * glue's own error envelopes.
 */
export class Writer {
  constructor(size = 4096) {
    this.buf = new Uint8Array(size);
    this.dv = new DataView(this.buf.buffer);
    this.pos = 0;
    this.segs = null; // [at, bytes, at, bytes, ...]: bytes go before buf[at]
    this.segBytes = 0;
  }

  reset() {
    this.pos = 0;
    this.segs = null;
    this.segBytes = 0;
    if (this.buf.length > KEEP) {
      this.buf = new Uint8Array(4096);
      this.dv = new DataView(this.buf.buffer);
    }
  }

  /** Encoded length, segments included. */
  get length() {
    return this.pos + this.segBytes;
  }

  ensure(n) {
    if (this.pos + n > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.pos + n) size *= 2;
      const nb = new Uint8Array(size);
      nb.set(this.buf.subarray(0, this.pos));
      this.buf = nb;
      this.dv = new DataView(nb.buffer);
    }
  }

  byte(b) {
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** A head of major type `major` with argument n (0 <= n < 2^64, exact
   * as a JS number up to 2^53), in preferred (shortest) form. */
  head(major, n) {
    this.ensure(9);
    const buf = this.buf;
    const m = major << 5;
    if (n < 24) buf[this.pos++] = m | n;
    else if (n < 0x100) {
      buf[this.pos++] = m | 24;
      buf[this.pos++] = n;
    } else if (n < 0x10000) {
      buf[this.pos++] = m | 25;
      buf[this.pos++] = n >> 8;
      buf[this.pos++] = n & 0xff;
    } else if (n < 0x100000000) {
      buf[this.pos++] = m | 26;
      this.dv.setUint32(this.pos, n);
      this.pos += 4;
    } else {
      buf[this.pos++] = m | 27;
      this.dv.setUint32(this.pos, Math.floor(n / 0x100000000));
      this.dv.setUint32(this.pos + 4, n >>> 0);
      this.pos += 8;
    }
  }

  /** An integer that is exact as a JS number, positive or negative. */
  int(n) {
    if (n >= 0) this.head(0, n);
    else this.head(1, -1 - n);
  }

  float64(x) {
    this.ensure(9);
    this.buf[this.pos++] = 0xfb;
    this.dv.setFloat64(this.pos, x);
    this.pos += 8;
  }

  /** A text string (UTF-8; lone surrogates become U+FFFD). */
  text(s) {
    const n = s.length;
    if (n < 24) {
      // Short ASCII is the common case (types, keys): write it in place.
      this.ensure(1 + 3 * n);
      const buf = this.buf;
      let p = this.pos + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p++] = c;
      }
      if (i === n) {
        buf[this.pos] = 0x60 | n;
        this.pos = p;
        return;
      }
    }
    // Reserve the longest head the text can need, encode, then close up.
    const max = 3 * n;
    const hmax = max < 24 ? 1 : max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
    this.ensure(hmax + max);
    const start = this.pos;
    const { written } = utf8enc.encodeInto(s, this.buf.subarray(start + hmax));
    const h = written < 24 ? 1 : written < 0x100 ? 2 : written < 0x10000 ? 3 : 5;
    if (h !== hmax) this.buf.copyWithin(start + h, start + hmax, start + hmax + written);
    this.head(3, written);
    this.pos = start + h + written;
  }

  /** A byte string; big ones (BIG_BYTES) are kept as a segment, not copied. */
  bytes(u8) {
    const n = u8.length;
    this.head(2, n);
    if (n >= BIG_BYTES) {
      (this.segs ??= []).push(this.pos, u8);
      this.segBytes += n;
      return;
    }
    this.raw(u8);
  }

  /** Bytes that are already CBOR. */
  raw(u8) {
    const n = u8.length;
    this.ensure(n);
    if (n < 16) {
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) buf[p++] = u8[i];
    } else this.buf.set(u8, this.pos);
    this.pos += n;
  }

  /** Copies everything written (segments included) into dst at off. */
  copyTo(dst, off) {
    let from = 0;
    const segs = this.segs;
    if (segs) {
      for (let i = 0; i < segs.length; i += 2) {
        const at = segs[i];
        const u8 = segs[i + 1];
        dst.set(this.buf.subarray(from, at), off);
        off += at - from;
        dst.set(u8, off);
        off += u8.length;
        from = at;
      }
    }
    if (this.pos - from < 16) {
      const buf = this.buf;
      for (let i = from; i < this.pos; i++) dst[off++] = buf[i];
    } else dst.set(this.buf.subarray(from, this.pos), off);
  }

  /** Everything written, in a new ArrayBuffer of exactly its size. */
  toArrayBuffer() {
    if (!this.segs) return this.buf.buffer.slice(0, this.pos);
    const ab = new ArrayBuffer(this.length);
    this.copyTo(new Uint8Array(ab), 0);
    return ab;
  }
}

/** Writes the head of an envelope: 84 kind type corr (the body follows). */
export function writeEnvelopeHead(w, kind, type, corr) {
  w.ensure(2);
  w.buf[w.pos++] = 0x84;
  w.buf[w.pos++] = kind;
  w.text(type);
  w.head(0, corr);
}

const scratch = new Writer(256);

/** An error envelope [3, type, corr, {code, name, message}] as an ArrayBuffer. */
export function errorEnvelope(type, corr, code, message) {
  const w = scratch;
  w.reset();
  writeEnvelopeHead(w, KIND.ERROR, String(type), corr);
  w.head(5, 3);
  w.text('code');
  w.int(ERRNO[code] ?? -1);
  w.text('name');
  w.text(String(code));
  w.text('message');
  w.text(String(message));
  return w.toArrayBuffer();
}

// ------------------------------------------------------------- reading

/** What parseHead() found; overwritten by every call. */
export const head = { kind: 0, corr: 0, typeStart: 0, typeEnd: 0, body: 0 };

// Reads an unsigned head argument at p of u8 into argValue; returns the
// position after it, or -1.
let argValue = 0;
function readArg(u8, p, ai) {
  if (ai < 24) argValue = ai;
  else if (ai === 24) {
    if (p + 1 > u8.length) return -1;
    argValue = u8[p++];
  } else if (ai === 25) {
    if (p + 2 > u8.length) return -1;
    argValue = (u8[p] << 8) | u8[p + 1];
    p += 2;
  } else if (ai === 26) {
    if (p + 4 > u8.length) return -1;
    argValue = ((u8[p] << 24) >>> 0) + ((u8[p + 1] << 16) | (u8[p + 2] << 8) | u8[p + 3]);
    p += 4;
  } else if (ai === 27) {
    if (p + 8 > u8.length) return -1;
    let v = 0;
    for (let i = 0; i < 8; i++) v = v * 256 + u8[p + i];
    argValue = v; // corr values and lengths stay far below 2^53
    p += 8;
  } else return -1;
  return p;
}

/**
 * Reads the head of an envelope, 84 kind type corr, into `head` without
 * decoding the body (which starts at head.body). Returns false when the
 * head is not of that shape; the C side then rejects the message with a
 * clear error.
 */
export function parseHead(u8) {
  if (u8.length < 4 || u8[0] !== 0x84) return false;
  const kind = u8[1];
  if (kind > 3) return false;
  let p = 2;
  const tb = u8[p++];
  if (tb >> 5 !== 3) return false;
  p = readArg(u8, p, tb & 31);
  if (p < 0) return false;
  const typeStart = p;
  const typeEnd = p + argValue;
  p = typeEnd;
  if (p >= u8.length) return false;
  const cb = u8[p++];
  if (cb >> 5 !== 0) return false;
  p = readArg(u8, p, cb & 31);
  if (p < 0 || p >= u8.length) return false;
  head.kind = kind;
  head.corr = argValue;
  head.typeStart = typeStart;
  head.typeEnd = typeEnd;
  head.body = p;
  return true;
}

/**
 * Reads kind and corr from an envelope's head without decoding the rest.
 * Returns null when the head is not of that shape.
 */
export function peekHeader(u8) {
  return parseHead(u8) ? { kind: head.kind, corr: head.corr } : null;
}

const utf8dec = new TextDecoder('utf-8', { fatal: true });

/** The type text of the envelope parseHead() last read (null if not UTF-8). */
export function readType(u8) {
  const s = head.typeStart;
  const e = head.typeEnd;
  if (e - s < 32) {
    let out = '';
    for (let i = s; i < e; i++) {
      const c = u8[i];
      if (c >= 0x80) return decodeText(u8, s, e);
      out += String.fromCharCode(c);
    }
    return out;
  }
  return decodeText(u8, s, e);
}

function decodeText(u8, s, e) {
  try {
    return utf8dec.decode(u8.subarray(s, e));
  } catch {
    return null;
  }
}

/**
 * Calls fn(u8, xfer) for every envelope of a port message, in order: u8 is
 * a view of the envelope's bytes, xfer its transferables or null.
 */
export function unpack(data, fn) {
  if (data instanceof ArrayBuffer) fn(new Uint8Array(data), null);
  else if (Array.isArray(data)) fn(new Uint8Array(data[0]), data.length > 1 ? data.slice(1) : null);
  else if (data && data.p instanceof ArrayBuffer) {
    const p = data.p;
    const dv = new DataView(p);
    const n = p.byteLength;
    let off = 0;
    while (off + 4 <= n) {
      const len = dv.getUint32(off, true);
      off += 4;
      if (off + len > n) break; // cannot happen between two copies of this glue
      fn(new Uint8Array(p, off, len), null);
      off += len;
    }
  } else if (data && data.e instanceof ArrayBuffer) {
    fn(new Uint8Array(data.e, 0, Math.min(data.n >>> 0, data.e.byteLength)), null);
  } else if (data && Array.isArray(data.b)) for (const it of data.b) unpack(it, fn);
}

// ------------------------------------------------------------- posting

// A batch is capped so that one postMessage never carries an unbounded
// number of envelopes (a receiver takes a whole port message into its
// mailbox at once) or transferables; 1024 amortise the per-message cost
// well.
export const MAX_BATCH = 1024;
export const PACK_MAX = 16 * 1024; // bigger envelopes travel in buffers of their own
const PACK_LIMIT = 1 << 20; // bytes of one packed run

/**
 * What one turn of the event loop posts to one port (or Worker). Small
 * envelopes without transferables are copied into one reusable buffer and
 * leave packed ({p}); others as buffers of their own. flush() posts it all
 * in one postMessage, in order; a single envelope leaves as a plain
 * ArrayBuffer of exactly its size, as the wire format says.
 */
export class Outbox {
  constructor(target) {
    this.target = target;
    // Items (and every buffer to transfer) in slots [0, n) / [0, xn) of
    // arrays that are kept: a lone envelope costs no array.
    this.items = [];
    this.n = 0;
    this.xfer = [];
    this.xn = 0;
    this.one = [null]; // the transfer list of a lone envelope
    this.count = 0; // envelopes in items and in the open pack
    this.pack = null; // Uint8Array, reused
    this.packPos = 0;
    this.packCount = 0;
    // A received envelope buffer whose bytes are no longer needed (the
    // owner says so), reused for an envelope of the same size: a reply
    // usually has its call's size. Only ever sent back where it came from.
    this.spare = null;
  }

  get empty() {
    return this.count === 0;
  }

  /** Reserves room for one envelope of len bytes in the open pack;
   * returns the offset in this.pack to write it at. */
  reserve(len) {
    const need = this.packPos + 4 + len;
    if (need > PACK_LIMIT && this.packCount) this.closePack();
    if (!this.pack || this.packPos + 4 + len > this.pack.length) {
      let size = this.pack ? this.pack.length * 2 : 16 * 1024;
      while (size < this.packPos + 4 + len) size *= 2;
      const nb = new Uint8Array(size);
      if (this.pack) nb.set(this.pack.subarray(0, this.packPos));
      this.pack = nb;
    }
    const p = this.pack;
    const at = this.packPos;
    p[at] = len & 0xff;
    p[at + 1] = (len >> 8) & 0xff;
    p[at + 2] = (len >> 16) & 0xff;
    p[at + 3] = len >>> 24;
    this.packPos = at + 4 + len;
    this.packCount++;
    this.count++;
    return at + 4;
  }

  /** Queues the envelope in Writer w (copied now; w may be reused). */
  addWriter(w, xfer) {
    if (xfer || w.segs || w.pos > PACK_MAX) {
      let buf = this.spare;
      if (buf && !w.segs && buf.byteLength === w.pos) {
        this.spare = null;
        w.copyTo(new Uint8Array(buf), 0);
      } else buf = w.toArrayBuffer();
      this.addItem(buf, xfer);
    } else {
      const at = this.reserve(w.pos);
      w.copyTo(this.pack, at);
      if (this.count >= MAX_BATCH) this.flush();
    }
  }

  push(item, buf) {
    this.items[this.n++] = item;
    this.xfer[this.xn++] = buf;
  }

  /** Queues an envelope that is an ArrayBuffer of its own (moved). */
  addItem(buf, xfer) {
    this.closePack();
    if (xfer && xfer.length) {
      this.push([buf, ...xfer], buf);
      for (let i = 0; i < xfer.length; i++) this.xfer[this.xn++] = xfer[i];
    } else this.push(buf, buf);
    this.count++;
    if (this.count >= MAX_BATCH) this.flush();
  }

  /** Queues one envelope in the first n bytes of buffer e (moved). */
  addPartial(e, n) {
    this.closePack();
    this.push({ e, n }, e);
    this.count++;
    if (this.count >= MAX_BATCH) this.flush();
  }

  closePack() {
    if (!this.packCount) return;
    if (this.packCount === 1) {
      const len = this.packPos - 4;
      let buf = this.spare;
      if (buf && buf.byteLength === len) {
        // The owner (worker.mjs) put it here: its bytes are no longer needed.
        this.spare = null;
        const dst = new Uint8Array(buf);
        const src = this.pack;
        if (len < 64) for (let i = 0; i < len; i++) dst[i] = src[4 + i];
        else dst.set(src.subarray(4, this.packPos));
      } else buf = this.pack.buffer.slice(4, this.packPos);
      this.push(buf, buf);
    } else {
      const p = this.pack.buffer.slice(0, this.packPos);
      this.push({ p }, p);
    }
    this.packPos = 0;
    this.packCount = 0;
    if (this.pack.length > PACK_LIMIT * 2) this.pack = null;
  }

  /** Forgets everything queued (the destination is gone). */
  drop() {
    for (let i = 0; i < this.n; i++) this.items[i] = undefined;
    for (let i = 0; i < this.xn; i++) this.xfer[i] = undefined;
    this.n = this.xn = this.count = 0;
    this.packPos = this.packCount = 0;
    this.pack = null;
    this.spare = null;
  }

  /** Posts everything queued in one postMessage. */
  flush() {
    this.closePack();
    const n = this.n;
    if (!n) return;
    const xn = this.xn;
    const items = this.items;
    const xfer = this.xfer;
    this.n = 0;
    this.xn = 0;
    this.count = 0;
    try {
      if (n === 1 && xn === 1) {
        this.one[0] = xfer[0];
        this.target.postMessage(items[0], this.one);
      } else if (n === 1) this.target.postMessage(items[0], xfer.slice(0, xn));
      else this.target.postMessage({ b: items.slice(0, n) }, xfer.slice(0, xn));
    } finally {
      // postMessage has serialized them; let them go.
      this.one[0] = null;
      for (let i = 0; i < n; i++) items[i] = undefined;
      for (let i = 0; i < xn; i++) xfer[i] = undefined;
      if (items.length > MAX_BATCH * 2) this.items = [];
      if (xfer.length > MAX_BATCH * 4) this.xfer = [];
    }
  }
}

/** Posts envelope items {buf, xfer} on a port or worker: alone, or in
 * batches. Every buffer is in the transfer list (detached afterwards). */
export function postItems(target, items) {
  const box = new Outbox(target);
  for (const it of items) box.addItem(it.buf, it.xfer);
  box.flush();
}
