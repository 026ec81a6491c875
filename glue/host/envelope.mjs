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

/** Detaches buf now and returns a buffer with its contents (no copy):
 * ArrayBuffer.prototype.transfer where the engine has it, else a
 * structuredClone that transfers it (Node 20), which moves the memory. */
function detach(buf) {
  return typeof buf.transfer === 'function' ? buf.transfer() : structuredClone(buf, { transfer: [buf] });
}

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
 * returns the transferables it refers to (or null), already detached from
 * the caller's buffers: a write after this returns does not reach the
 * message. Throws a FerryError EINVAL naming the path of a value that
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
  for (let i = 0; i < x.length; i++) x[i] = detach(x[i]);
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
  let body = simpleBody(u8, body0);
  if (body === NOT_SIMPLE) body = cborDecode(u8.subarray(body0));
  if (list) body = attachTransfers(body, list);
  return { kind, type, corr, body };
}

/**
 * The pending call (in map `pending`, corr -> Pending) that an envelope
 * decodeEnvelope could not decode answers, if its head says it is a reply
 * or error to one: the call must still settle.
 */
export function undecodableReply(u8, pending) {
  if (!head.parse(u8) || head.kind < 2 || !head.corr) return null; // kind 2 reply, 3 error
  return pending.get(head.corr) ?? null;
}

// A body that is one small scalar, read without cbor-x (whose set-up costs
// more than the whole item): the values cbor-x would give. Anything else,
// or anything not ending exactly at the end, goes to cbor-x.
const NOT_SIMPLE = Symbol('not simple');
function simpleBody(u8, p) {
  const n = u8.length;
  if (p >= n) return NOT_SIMPLE;
  const ib = u8[p++];
  const major = ib >> 5;
  const ai = ib & 31;
  if (major === 7) {
    if (p !== n) return NOT_SIMPLE;
    if (ib === 0xf6) return null;
    if (ib === 0xf5) return true;
    if (ib === 0xf4) return false;
    if (ib === 0xf7) return undefined;
    return NOT_SIMPLE;
  }
  if (ai > 26 || major > 3) return NOT_SIMPLE;
  let v = ai;
  if (ai === 24) {
    if (p + 1 > n) return NOT_SIMPLE;
    v = u8[p++];
  } else if (ai === 25) {
    if (p + 2 > n) return NOT_SIMPLE;
    v = (u8[p] << 8) | u8[p + 1];
    p += 2;
  } else if (ai === 26) {
    if (p + 4 > n) return NOT_SIMPLE;
    v = ((u8[p] << 24) >>> 0) + ((u8[p + 1] << 16) | (u8[p + 2] << 8) | u8[p + 3]);
    p += 4;
  }
  if (major === 0) return p === n ? v : NOT_SIMPLE;
  if (major === 1) return p === n ? -1 - v : NOT_SIMPLE;
  if (p + v !== n) return NOT_SIMPLE;
  if (major === 2) return u8.subarray(p, n);
  if (v > 64) return NOT_SIMPLE;
  let out = '';
  for (let i = p; i < n; i++) {
    const c = u8[i];
    if (c >= 0x80) return NOT_SIMPLE;
    out += String.fromCharCode(c);
  }
  return out;
}
