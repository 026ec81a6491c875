// envelope.mjs - the host's envelopes: a JS value to the CBOR envelope
// [kind, type, corr, body] and back. Workers never load this file (they
// read only envelope heads, wire/head.mjs, and hand bodies to C); it is
// the one place the host turns values into bytes.
//
// The body is written by a small encoder of its own for the values
// messages are usually made of (null, booleans, numbers, strings, plain
// objects, arrays, Uint8Array/Buffer, ArrayBuffer, transfer(), OutOfBand).
// It writes exactly the bytes glue/serializer.mjs (cbor-x, ferry's options)
// writes for them, and hands anything else (BigInt, Date, Map, other typed
// arrays, class instances) to cbor-x, whose bytes it copies in. Why not
// cbor-x for everything: its per-call set-up costs more than a small
// envelope's encoding, and it copies a large byte string twice (into its
// own buffer, which it then regrows, and out again). Here a byte string of
// 64 KiB or more is copied once, straight into the outgoing ArrayBuffer.
import { addExtension } from 'cbor-x';
import { encode as cborEncode, decode as cborDecode, OutOfBand, TAG_OOB } from '../serializer.mjs';
import { Writer } from '../wire/writer.mjs';
import { writeEnvelopeHead, EnvelopeHead } from '../wire/head.mjs';
import { splitLoans } from '../wire/framing.mjs';
import { FerryError } from '../wire/errors.mjs';
import { isBorrowed } from './loans.mjs';

/** Whether buf is detached (transferred away). Node 20 has no
 * ArrayBuffer.prototype.detached: a view over a detached buffer throws. */
export function isDetached(buf) {
  if (typeof buf.detached === 'boolean') return buf.detached;
  if (buf.byteLength !== 0) return false;
  try {
    new Uint8Array(buf); // eslint-disable-line no-new
    return false;
  } catch {
    return true;
  }
}

/*
 * An envelope with transferables is posted at once, in the same call that
 * encoded it (with what its port had queued before it), instead of waiting
 * for the turn's batch: postMessage detaches the caller's buffers then,
 * which is what "a write after the send returns does not travel" needs.
 * Detaching them first and posting later cost more than the post: in Node
 * 20 (no ArrayBuffer.prototype.transfer) a structuredClone that transfers
 * them, 2.7 us per call even for 16 B; in Chromium a buffer detached with
 * transfer() and then posted made a 20 MiB blob round trip take 10-87 ms
 * instead of 0.03-0.3 ms (test/bench/probe/chromium-blob.mjs). The
 * posters: ActorRecord.post (host/actor.mjs), RemoteActor (remote.mjs).
 */

/** What transfer(x) returns: an ArrayBuffer to be moved as a blob. */
export class Transfer {
  constructor(x) {
    let buf = x;
    if (ArrayBuffer.isView(x)) {
      if (x.byteOffset !== 0 || x.byteLength !== x.buffer.byteLength) {
        throw new FerryError('EINVAL', 'transfer() needs a view over a whole ArrayBuffer; use .slice() to make one');
      }
      buf = x.buffer;
    }
    if (!(buf instanceof ArrayBuffer)) throw new FerryError('EINVAL', `transfer() takes an ArrayBuffer or a typed array, got ${describe(x)}`);
    if (isDetached(buf)) throw new FerryError('EINVAL', 'transfer(): this ArrayBuffer was already transferred (it is detached)');
    this.buffer = buf;
  }
}

function describe(x) {
  if (x === null || typeof x !== 'object') return typeof x === 'string' ? 'a string' : String(x);
  return x.constructor?.name ?? 'an object';
}

/**
 * Throws a FerryError EINVAL unless type can be a message type: a string
 * without NUL (C reads the type as a C string; the envelope parser
 * refuses one with a NUL, and could not even say which call it was).
 */
export function checkType(type) {
  if (typeof type !== 'string') throw new FerryError('EINVAL', `message type must be a string, got ${typeof type}`);
  if (type.indexOf('\0') >= 0) throw new FerryError('EINVAL', `message type ${JSON.stringify(type)} holds a NUL character`);
}

/** A value that cannot be sent, with the path to it: value.items[2].fn. */
class BadValue extends Error {
  constructor(why) {
    super(why);
    this.why = why;
    this.path = [];
  }
}

function renderPath(path) {
  let out = 'value';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`;
  return out;
}

// The transferables of the envelope being encoded; tag 41999(i) is xfer[i].
// Module state, on purpose: cbor-x's extensions are global and take no
// context, so the fallback path finds the list here. encodeEnvelope() sets
// it up and clears it; nothing else touches it.
let xfer = null;

function outOfBand(buf) {
  if (isDetached(buf)) throw new BadValue('transfer(): this ArrayBuffer was already transferred (it is detached)');
  if (isBorrowed(buf)) throw new BadValue('transfer(): this buffer is on loan to this thread and cannot be sent on: release() it, or send a copy (.slice())');
  if (!xfer) xfer = [];
  else if (xfer.includes(buf)) throw new BadValue('transfer(): the same ArrayBuffer appears twice in one message');
  xfer.push(buf);
  return xfer.length - 1;
}

// transfer() values inside what cbor-x encodes (the fallback below).
addExtension({
  Class: Transfer,
  tag: TAG_OOB,
  encode(t, encodeFn) {
    if (!encoding) throw new BadValue('transfer() values can only be sent in a message');
    return encodeFn(outOfBand(t.buffer));
  },
  decode: (i) => new OutOfBand(i),
});

/** The envelope being built; valid until the next encodeEnvelope(). */
export const writer = new Writer();
const w = writer;
let encoding = false;
// The objects being encoded, outermost first: a value met again while it
// is still being encoded is a cycle.
const open = [];

// Encodes v as element `key` of its container; a BadValue from inside
// gets key put in front of its path.
function member(key, v) {
  try {
    value(v);
  } catch (e) {
    if (e instanceof BadValue) e.path.unshift(key);
    throw e;
  }
}

function value(v) {
  switch (typeof v) {
    case 'string':
      w.text(v);
      return;
    case 'number':
      // cbor-x's choices: integers of up to 32 bits (and negative ones down
      // to -2^32) as integers, every other number as a float64.
      if (v >>> 0 === v) w.head(0, v);
      else if (v >> 0 === v || (v < 0 && v >= -0x100000000 && Math.floor(v) === v)) w.head(1, -1 - v);
      else w.float64(v);
      return;
    case 'boolean':
      w.byte(v ? 0xf5 : 0xf4);
      return;
    case 'undefined':
      w.byte(0xf7);
      return;
    case 'function':
      throw new BadValue('functions cannot be sent');
    case 'symbol':
      throw new BadValue('symbols cannot be sent');
    case 'object': {
      if (v === null) {
        w.byte(0xf6);
        return;
      }
      const c = v.constructor;
      if (c === Object || c === Array) {
        if (open.includes(v)) throw new BadValue('a cycle: this value contains itself');
        open.push(v);
        if (c === Object) {
          const keys = Object.keys(v);
          w.head(5, keys.length);
          for (let i = 0; i < keys.length; i++) {
            w.text(keys[i]);
            member(keys[i], v[keys[i]]);
          }
        } else {
          const n = v.length;
          w.head(4, n);
          for (let i = 0; i < n; i++) member(i, v[i]);
        }
        open.pop();
        return;
      }
      if (v instanceof Uint8Array) {
        if (v.length === 0 && isDetached(v.buffer)) throw new BadValue('this buffer was transferred (it is detached)');
        w.bytes(v);
        return;
      }
      if (v instanceof Transfer) {
        w.head(6, TAG_OOB);
        w.head(0, outOfBand(v.buffer));
        return;
      }
      if (v instanceof ArrayBuffer) {
        if (isDetached(v)) throw new BadValue('this buffer was transferred (it is detached)');
        w.bytes(new Uint8Array(v));
        return;
      }
      if (v instanceof OutOfBand) {
        w.head(6, TAG_OOB);
        w.head(0, v.index);
        return;
      }
      break;
    }
    default:
      break;
  }
  let bytes;
  try {
    bytes = cborEncode(v);
  } catch (e) {
    if (e instanceof BadValue) throw e;
    // cbor-x's own words (e.g. "Unknown type: function" inside a class
    // instance, or a stack overflow on a cycle through a Map).
    throw new BadValue(e instanceof RangeError ? 'a cycle, or nesting too deep to send' : e.message);
  }
  w.raw(bytes);
}

/**
 * Encodes [kind, type, corr, value] into `writer` (reset first) and
 * returns the transferables it refers to (or null), not detached yet: the
 * caller posts the envelope before it returns (see above), which
 * detaches them, so a write after the send or call returns does not reach
 * the message. Throws a FerryError EINVAL naming the path of a value that
 * cannot be sent (functions, symbols, cycles, detached or repeated
 * buffers), leaving nothing behind and detaching nothing.
 */
export function encodeEnvelope(kind, type, corr, v) {
  checkType(type);
  w.reset();
  xfer = null;
  encoding = true;
  try {
    writeEnvelopeHead(w, kind, type, corr);
    value(v === undefined ? null : v);
  } catch (e) {
    w.reset();
    xfer = null;
    open.length = 0;
    if (e instanceof BadValue) throw new FerryError('EINVAL', `${renderPath(e.path)}: ${e.why}`);
    throw e;
  } finally {
    encoding = false;
  }
  const x = xfer;
  xfer = null;
  if (!x || !x.length) return null;
  return x;
}

/** An envelope as { buf: ArrayBuffer of its own, xfer }. */
export function envelopeBuffer(kind, type, corr, v) {
  const x = encodeEnvelope(kind, type, corr, v);
  return { buf: w.toArrayBuffer(), xfer: x };
}

// Replaces OutOfBand(i) in a decoded value by the transferred buffer i.
function attachTransfers(v, list) {
  if (v instanceof OutOfBand) return v.index < list.length ? new Uint8Array(list[v.index]) : v;
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = attachTransfers(v[i], list);
  } else for (const k in v) v[k] = attachTransfers(v[k], list);
  return v;
}

// How many nodes of a decoded value holds() looks at; beyond that it says
// yes (keep the buffer) rather than walk a big value.
const HOLDS_BUDGET = 64;

// Whether a decoded value holds a view of buffer (a byte string decoded in
// place). left.n counts down the nodes still to look at.
function holds(v, buffer, left) {
  if (v === null || typeof v !== 'object') return false;
  if (--left.n < 0) return true;
  if (ArrayBuffer.isView(v)) return v.buffer === buffer;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (holds(v[i], buffer, left)) return true;
    return false;
  }
  if (v instanceof Map || v instanceof Set) return true;
  for (const k in v) if (holds(v[k], buffer, left)) return true;
  return false;
}

/**
 * Whether the decoded body of the envelope in u8 leaves its ArrayBuffer
 * unreferenced, so that the buffer may be reused for an envelope going
 * back (Outbox.spare). Only small envelopes of a buffer of their own.
 */
export function bufferFree(u8, body) {
  if (u8.byteOffset !== 0 || u8.length !== u8.buffer.byteLength || u8.length > 4096) return false;
  return !holds(body, u8.buffer, { n: HOLDS_BUDGET });
}

const head = new EnvelopeHead();

/** Decodes an envelope; throws an Error saying what is wrong with it. */
export function decodeEnvelope(u8, list) {
  if (!head.parse(u8)) throw new Error('not an envelope [kind, type, corr, body]');
  const kind = head.kind;
  const corr = head.corr;
  const body0 = head.body;
  const type = head.type(u8);
  if (type === null) throw new Error('the envelope type is not valid UTF-8');
  let body = decodeSmall(u8, body0);
  if (body === NOT_SIMPLE) body = cborDecode(u8.subarray(body0));
  if (list) body = attachTransfers(body, list);
  return { kind, type, corr, body };
}

/**
 * For an envelope decodeEnvelope refused (error e) from actor `owner`
 * (ActorRecord or RemoteActor): if its head says it answers a pending call
 * (in `pending`, corr -> Pending), that call still settles, rejected
 * EMALFORMED, and the buffers lent with it go home. Returns whether it did.
 */
export function rejectUndecodable(u8, xfer, loans, pending, owner, e) {
  if (!head.parse(u8) || head.kind < 2 || !head.corr) return false; // kind 2 reply, 3 error
  const p = pending.get(head.corr);
  if (!p) return false;
  splitLoans(xfer, loans, (loan, buf) => owner.returnLoan(loan, buf));
  p.reject(new FerryError('EMALFORMED', `the reply to call "${p.type}" from actor ${owner.id} (${owner.name}) cannot be decoded: ${e.message}`, { cause: e, actor: owner.id }));
  return true;
}

// Small bodies (scalars, and the small maps and arrays replies are usually
// made of, e.g. {data: 41999(0)} carrying a blob) are read here, without
// cbor-x, whose set-up costs more than the whole item (5.5-7.4 us against
// ~0.5 us for {data: 41999(0)}, perf-findings in docs/performance.md). The
// values are cbor-x's for the same bytes (test/js/protocol.test.mjs checks
// both on many inputs), except that a byte string shorter than SMALL_BYTES
// is a copy, not a view of the envelope: then the decoded value holds no
// view of its buffer, which carries the next envelope back (Outbox.spare),
// and a small call costs no ArrayBuffer allocation. Anything else (floats
// other than float64, integers with 8-byte heads, text that is not short
// ASCII, keys that are not, tags but 41999, indefinite lengths, deep or
// long items, trailing bytes) is declined and goes to cbor-x.
export const NOT_SIMPLE = Symbol('not simple');
const SMALL_BYTES = 64;
const SMALL_TEXT = 64;
const SMALL_ITEMS = 64; // items of all containers together
const SMALL_DEPTH = 4;

class SmallReader {
  u8 = null;
  p = 0;
  items = 0;
  f64 = new DataView(new ArrayBuffer(8));

  // The argument of a head whose additional info is ai (< 27), or -1.
  arg(ai) {
    const u8 = this.u8;
    const p = this.p;
    if (ai < 24) return ai;
    if (ai === 24) {
      if (p + 1 > u8.length) return -1;
      this.p = p + 1;
      return u8[p];
    }
    if (ai === 25) {
      if (p + 2 > u8.length) return -1;
      this.p = p + 2;
      return (u8[p] << 8) | u8[p + 1];
    }
    if (ai === 26) {
      if (p + 4 > u8.length) return -1;
      this.p = p + 4;
      return ((u8[p] << 24) >>> 0) + ((u8[p + 1] << 16) | (u8[p + 2] << 8) | u8[p + 3]);
    }
    return -1;
  }

  // Short ASCII text of n bytes at p, or NOT_SIMPLE.
  ascii(n) {
    const u8 = this.u8;
    const p = this.p;
    if (n > SMALL_TEXT || p + n > u8.length) return NOT_SIMPLE;
    let out = '';
    for (let i = p; i < p + n; i++) {
      const c = u8[i];
      if (c >= 0x80) return NOT_SIMPLE;
      out += String.fromCharCode(c);
    }
    this.p = p + n;
    return out;
  }

  value(depth) {
    const u8 = this.u8;
    if (this.p >= u8.length || ++this.items > SMALL_ITEMS) return NOT_SIMPLE;
    const ib = u8[this.p++];
    const major = ib >> 5;
    const ai = ib & 31;
    if (major === 7) {
      if (ib === 0xf6) return null;
      if (ib === 0xf5) return true;
      if (ib === 0xf4) return false;
      if (ib === 0xf7) return undefined;
      if (ib === 0xfb && this.p + 8 <= u8.length) {
        const dv = this.f64;
        for (let i = 0; i < 8; i++) dv.setUint8(i, u8[this.p + i]);
        this.p += 8;
        return dv.getFloat64(0);
      }
      return NOT_SIMPLE;
    }
    if (ai > 26) return NOT_SIMPLE;
    const v = this.arg(ai);
    if (v < 0) return NOT_SIMPLE;
    switch (major) {
      case 0:
        return v;
      case 1:
        return -1 - v;
      case 2: {
        const p = this.p;
        if (p + v > u8.length) return NOT_SIMPLE;
        this.p = p + v;
        if (v < SMALL_BYTES) {
          const out = new Uint8Array(v);
          for (let i = 0; i < v; i++) out[i] = u8[p + i];
          return out;
        }
        return u8.subarray(p, p + v);
      }
      case 3:
        return this.ascii(v);
      case 4: {
        if (depth >= SMALL_DEPTH || v > SMALL_ITEMS) return NOT_SIMPLE;
        const out = new Array(v);
        for (let i = 0; i < v; i++) {
          const x = this.value(depth + 1);
          if (x === NOT_SIMPLE) return NOT_SIMPLE;
          out[i] = x;
        }
        return out;
      }
      case 5: {
        if (depth >= SMALL_DEPTH || v > SMALL_ITEMS) return NOT_SIMPLE;
        const out = {};
        for (let i = 0; i < v; i++) {
          if (this.p >= u8.length) return NOT_SIMPLE;
          const kb = u8[this.p++];
          if (kb >> 5 !== 3 || (kb & 31) > 26) return NOT_SIMPLE;
          const n = this.arg(kb & 31);
          if (n < 0) return NOT_SIMPLE;
          const k = this.ascii(n);
          // cbor-x renames __proto__ and merges repeated keys its own way.
          if (k === NOT_SIMPLE || k === '__proto__' || Object.hasOwn(out, k)) return NOT_SIMPLE;
          const x = this.value(depth + 1);
          if (x === NOT_SIMPLE) return NOT_SIMPLE;
          out[k] = x;
        }
        return out;
      }
      case 6: {
        if (v !== TAG_OOB || this.p >= u8.length) return NOT_SIMPLE;
        const ib2 = u8[this.p++];
        if (ib2 >> 5 !== 0 || (ib2 & 31) > 26) return NOT_SIMPLE;
        const i = this.arg(ib2 & 31);
        return i < 0 ? NOT_SIMPLE : new OutOfBand(i);
      }
      default:
        return NOT_SIMPLE;
    }
  }
}

const small = new SmallReader();

/**
 * The body at u8[p..] read without cbor-x, or NOT_SIMPLE when it is not
 * one of the small shapes above (then cbor-x decodes it). Exported for
 * the test that compares it with cbor-x.
 */
export function decodeSmall(u8, p) {
  const r = small;
  r.u8 = u8;
  r.p = p;
  r.items = 0;
  let v;
  try {
    v = r.value(0);
  } finally {
    r.u8 = null;
  }
  return v !== NOT_SIMPLE && r.p === u8.length ? v : NOT_SIMPLE;
}
