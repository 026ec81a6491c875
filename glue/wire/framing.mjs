// framing.mjs - how envelopes travel on a port: what one postMessage
// carries (the forms typed in protocol.mjs) and the Outbox that batches
// what one turn of the event loop posts to one port.
//
// On a port, one postMessage carries one DataMsg: a lone envelope
// (ArrayBuffer), an envelope with its blobs ([ArrayBuffer, ...]), a packed
// run of small envelopes ({p}), a reused buffer holding a smaller envelope
// ({e, n}), or a batch of those ({b: [...]}), or one control message
// ({ctl}, protocol.mjs). Every buffer is in the transfer list. A batch may
// also hold a lent buffer on its way home ({ctl: 'loan-return'}), so that
// it travels with the next envelope to its owner instead of on its own.

import { CTL } from './protocol.mjs';

/**
 * Calls fn(u8, xfer, loans) for every envelope of a port message, in
 * order: u8 is a view of the envelope's bytes, xfer its transferables or
 * null, loans the triples of LoanEnvelopeMsg or null.
 *
 * A port may also be held by a JS thread that connected with
 * ref.connect() and posts anything at all. What is not of a form this
 * glue posts (a number where a buffer belongs, a MessagePort as a blob, a
 * packed run whose lengths overrun it, loans that name no blob, a batch
 * inside a batch) delivers nothing: bad(why) is called for it instead,
 * and the rest of a batch still goes through. A loan return in a batch
 * goes to ret(loan, buf), in its place in the order (where ret is given:
 * only actors lend, so only workers take them).
 * @param {import('./protocol.mjs').DataMsg} data
 * @param {(why: string) => void} [bad]
 * @param {((loan: number, buf: ArrayBuffer) => void) | null} [ret]
 */
export function unpack(data, fn, bad = dropped, ret = null) {
  if (data instanceof ArrayBuffer) fn(new Uint8Array(data), null, null);
  else if (data !== null && typeof data === 'object' && Array.isArray(data.b) && !Array.isArray(data)) {
    for (const it of data.b) item(it, fn, bad, ret);
  } else item(data, fn, bad, null);
}

function dropped(why) {
  console.error(`ferry: dropped a port message: ${why}`);
}

// One EnvelopeItem (protocol.mjs), checked.
function item(data, fn, bad, ret) {
  if (data instanceof ArrayBuffer) fn(new Uint8Array(data), null, null);
  else if (Array.isArray(data)) {
    if (!buffers(data)) return bad(`[envelope, ...blobs] must hold distinct ArrayBuffers only, got ${describe(data)}`);
    fn(new Uint8Array(data[0]), data.length > 1 ? data.slice(1) : null, null);
  } else if (data === null || typeof data !== 'object') bad(`not a port message: ${describe(data)}`);
  else if (Array.isArray(data.l)) {
    if (!buffers(data.l)) return bad(`{l} must hold distinct ArrayBuffers only, got ${describe(data.l)}`);
    if (!loansFit(data.loans, data.l.length - 1)) return bad('{l, loans}: loans must be triples (blob index, loan id, deadline ms) naming blobs of l');
    fn(new Uint8Array(data.l[0]), data.l.slice(1), data.loans);
  } else if (data.p instanceof ArrayBuffer) {
    const p = data.p;
    const dv = new DataView(p);
    const n = p.byteLength;
    let off = 0;
    while (off + 4 <= n) {
      const len = dv.getUint32(off, true);
      off += 4;
      if (off + len > n) return bad(`{p}: an envelope of ${len} bytes at byte ${off - 4} overruns the ${n} bytes of the run`);
      fn(new Uint8Array(p, off, len), null, null);
      off += len;
    }
    if (off !== n) bad(`{p}: ${n - off} bytes left over after the last envelope`);
  } else if (ret && data.ctl === CTL.LOAN_RETURN) {
    if (!Number.isSafeInteger(data.loan) || data.loan <= 0 || !(data.buf instanceof ArrayBuffer)) {
      return bad(`{ctl: "loan-return"}: needs a loan id and an ArrayBuffer, got ${describe(data.loan)} and ${describe(data.buf)}`);
    }
    ret(data.loan, data.buf);
  } else if (data.e instanceof ArrayBuffer) {
    const n = data.n;
    if (!Number.isInteger(n) || n < 0 || n > data.e.byteLength) return bad(`{e, n}: n must be a whole number of bytes within e (${data.e.byteLength}), got ${describe(n)}`);
    fn(new Uint8Array(data.e, 0, n), null, null);
  } else bad(`not a port message: ${describe(data)}`);
}

// Whether list is one or more distinct ArrayBuffers (an envelope and its
// blobs; one buffer cannot be two blobs).
function buffers(list) {
  const n = list.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const b = list[i];
    if (!(b instanceof ArrayBuffer)) return false;
    for (let j = 0; j < i; j++) if (list[j] === b) return false;
  }
  return true;
}

// Whether loans are triples (index < nblobs, loan id > 0, deadline in ms
// that setTimeout can hold, 0: none).
function loansFit(loans, nblobs) {
  if (!Array.isArray(loans) || loans.length % 3 !== 0) return false;
  for (let j = 0; j < loans.length; j += 3) {
    const i = loans[j];
    const id = loans[j + 1];
    const ms = loans[j + 2];
    if (!Number.isInteger(i) || i < 0 || i >= nblobs) return false;
    if (!Number.isSafeInteger(id) || id <= 0) return false;
    if (!Number.isInteger(ms) || ms < 0 || ms > 0x7fffffff) return false;
  }
  return true;
}

function describe(v) {
  if (v === null || typeof v !== 'object') return typeof v === 'string' ? 'a string' : String(v);
  if (Array.isArray(v)) return `[${v.slice(0, 4).map(describe).join(', ')}${v.length > 4 ? ', ...' : ''}]`;
  return v.constructor?.name ?? 'an object';
}

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
    // The host's only (null in workers): (n) => a buffer of n to 2n bytes
    // the application gave back (host/pool.mjs, recycle()), or null.
    this.take = null;
    /** Called with (item, error) for an item that could not be posted. */
    this.onFail = null;
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
      } else if (!xfer && this.take && (buf = this.take(w.length))) {
        this.#addInto(buf, w);
        return;
      } else buf = w.toArrayBuffer();
      this.addItem(buf, xfer);
    } else {
      const at = this.reserve(w.pos);
      w.copyTo(this.pack, at);
      if (this.count >= MAX_BATCH) this.flush();
    }
  }

  // Writes the envelope in w into the first bytes of buf, a buffer given
  // back (take) of up to twice its size, and queues it: as {e, n}, or
  // plain when it fills buf. The tail is zeroed: buf may have carried a
  // reply from another actor, and no bytes of one actor's message reach
  // another (docs/wire-format.md).
  #addInto(buf, w) {
    const n = w.length;
    const dst = new Uint8Array(buf);
    w.copyTo(dst, 0);
    if (buf.byteLength === n) {
      this.addItem(buf, null);
      return;
    }
    dst.fill(0, n);
    this.addPartial(buf, n);
  }

  push(item, buf) {
    this.items[this.n++] = item;
    this.xfer[this.xn++] = buf;
  }

  /** Queues an envelope that is an ArrayBuffer of its own (moved), with
   * its blobs, some of them lent (loans: see LoanEnvelopeMsg). */
  addItem(buf, xfer, loans) {
    this.closePack();
    if (xfer && xfer.length) {
      this.push(loans && loans.length ? { l: [buf, ...xfer], loans } : [buf, ...xfer], buf);
      for (let i = 0; i < xfer.length; i++) this.xfer[this.xn++] = xfer[i];
    } else this.push(buf, buf);
    this.count++;
    if (this.count >= MAX_BATCH) this.flush();
  }

  /** Queues a lent buffer's way home (a LoanReturnCtl), in order with the
   * envelopes: it leaves with what is posted next, in one postMessage. */
  addReturn(loan, buf) {
    this.closePack();
    this.push({ ctl: CTL.LOAN_RETURN, loan, buf }, buf);
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

  /** Posts everything queued in one postMessage. If that fails (a buffer
   * that cannot be transferred), each item is posted on its own and only
   * the ones that fail are reported, to onFail(item, error): one bad
   * message never takes the others with it. */
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
    } catch (e) {
      this.#postOneByOne(items.slice(0, n), e);
    } finally {
      // postMessage has serialized them; let them go.
      this.one[0] = null;
      for (let i = 0; i < n; i++) items[i] = undefined;
      for (let i = 0; i < xn; i++) xfer[i] = undefined;
      if (items.length > MAX_BATCH * 2) this.items = [];
      if (xfer.length > MAX_BATCH * 4) this.xfer = [];
    }
  }

  #postOneByOne(list, batchError) {
    for (const item of list) {
      try {
        this.target.postMessage(item, transferablesOf(item));
      } catch (e) {
        if (this.onFail) this.onFail(item, e);
        else throw batchError;
      }
    }
  }
}

/**
 * Splits a message's buffers by the loans that came with it: calls
 * onLent(loanId, buf) for each lent one and returns the moved ones (null
 * when there are none).
 */
export function splitLoans(xfer, loans, onLent) {
  if (!xfer) return null;
  if (!loans || !loans.length) return xfer.length ? xfer : null;
  const lent = new Set();
  for (let j = 0; j + 2 < loans.length; j += 3) {
    lent.add(loans[j]);
    onLent(loans[j + 1], xfer[loans[j]]);
  }
  const moved = xfer.filter((_, i) => !lent.has(i));
  return moved.length ? moved : null;
}

/** Every buffer a queued item carries (its transfer list). */
export function transferablesOf(item) {
  if (item instanceof ArrayBuffer) return [item];
  if (Array.isArray(item)) return item;
  if (item.l) return item.l;
  if (item.p) return [item.p];
  if (item.e) return [item.e];
  if (item.buf) return [item.buf];
  return [];
}

/** The envelope bytes of a queued item that carries one envelope (not a
 * packed run), or null. */
export function envelopeOf(item) {
  if (item instanceof ArrayBuffer) return new Uint8Array(item);
  if (Array.isArray(item)) return new Uint8Array(item[0]);
  if (item.l) return new Uint8Array(item.l[0]);
  if (item.e) return new Uint8Array(item.e, 0, item.n);
  return null;
}

/** Posts envelope items {buf, xfer} on a port or worker: alone, or in
 * batches. Every buffer is in the transfer list (detached afterwards). */
export function postItems(target, items) {
  const box = new Outbox(target);
  for (const it of items) box.addItem(it.buf, it.xfer);
  box.flush();
}
