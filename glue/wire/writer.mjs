// writer.mjs - the CBOR writer of the glue: one reusable buffer, preferred
// (shortest) heads, and large byte strings kept as segments that are
// copied once, straight into the outgoing ArrayBuffer.
//
// It writes the envelope heads (head.mjs), the glue's own error envelopes
// and, in the host, whole envelopes (host/envelope.mjs). Its bytes for the
// values they share are the same as cbor-x's with ferry's options
// (serializer.mjs) and as the C encoder's: test/js/writers.test.mjs checks
// all three against each other.

/** Byte strings at least this long are not copied into a Writer's buffer:
 * they are copied once, straight into the outgoing ArrayBuffer. */
export const BIG_BYTES = 64 * 1024;
const KEEP = 1 << 20; // a Writer keeps a buffer up to this size between uses
const utf8enc = new TextEncoder();

// Node's Buffer.allocUnsafeSlow: memory that is not zero-filled and not
// from Buffer's shared pool (a pooled slice must never be transferred; this
// is an ArrayBuffer of its own). Browsers have no such thing.
const allocUnsafeSlow = globalThis.Buffer?.allocUnsafeSlow;
/** From this size on, a fresh envelope buffer is taken uninitialized where
 * the engine allows it. Zero-filling 20 MiB and copying over it cost twice
 * the copy alone, with 1,200-2,500 page faults per round trip (see
 * docs/performance.md); below this size it does not matter. */
export const UNINIT_MIN = 64 * 1024;

/**
 * A new ArrayBuffer of exactly n bytes, for a caller that overwrites every
 * byte of it before anyone reads it: uninitialized in Node when big.
 */
export function freshBuffer(n) {
  if (n >= UNINIT_MIN && allocUnsafeSlow) {
    const b = allocUnsafeSlow(n).buffer;
    if (b.byteLength === n) return b;
  }
  return new ArrayBuffer(n);
}

/** Bytes [from, to) of u8 in an ArrayBuffer of their own (slice() would
 * zero-fill a big one before copying). */
export function sliceOf(u8, from, to) {
  if (!(from >= 0 && from <= to && to <= u8.length)) throw new RangeError(`bytes ${from}..${to} are outside 0..${u8.length}`);
  if (to - from < UNINIT_MIN) return u8.buffer.slice(u8.byteOffset + from, u8.byteOffset + to);
  const b = freshBuffer(to - from);
  new Uint8Array(b).set(u8.subarray(from, to));
  return b;
}

/**
 * Writes CBOR into one reusable buffer. Large byte strings are recorded as
 * segments (see BIG_BYTES); length, copyTo() and toArrayBuffer() include
 * them. Used by the host's envelope encoder (host/envelope.mjs) and for the
 * glue's own error envelopes (head.mjs).
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
    if (!this.segs) return sliceOf(this.buf, 0, this.pos);
    const ab = freshBuffer(this.length); // every byte is written below
    this.copyTo(new Uint8Array(ab), 0);
    return ab;
  }
}
