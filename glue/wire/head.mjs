// head.mjs - the head of an envelope, [kind, type, corr, body]: writing it,
// reading it without decoding the body, and the glue's own error
// envelopes. The C twin is src/runtime/envelope.c.
import { KIND } from './protocol.mjs';
import { ERRNO } from './errors.mjs';
import { Writer } from './writer.mjs';

/** Writes the head of an envelope: 84 kind type corr (the body follows). */
export function writeEnvelopeHead(w, kind, type, corr) {
  w.ensure(2);
  w.buf[w.pos++] = 0x84;
  w.buf[w.pos++] = kind;
  w.text(type);
  w.head(0, corr);
}

const scratch = new Writer(256);

// A map of text keys to numbers (exact integers or floats), texts and
// booleans, the bodies the glue writes itself.
function writeFields(w, fields) {
  const keys = Object.keys(fields);
  w.head(5, keys.length);
  for (const k of keys) {
    w.text(k);
    const v = fields[k];
    if (typeof v === 'string') w.text(v);
    else if (typeof v === 'boolean') w.byte(v ? 0xf5 : 0xf4);
    else if (Number.isInteger(v)) w.int(v);
    else if (typeof v === 'number') w.float64(v);
    else w.byte(0xf6);
  }
}

/**
 * An error envelope [3, type, corr, {code, name, message, ...extra}] as an
 * ArrayBuffer. extra: more fields, e.g. {to, type, corr} of an
 * undelivered message (docs/wire-format.md).
 */
export function errorEnvelope(type, corr, code, message, extra) {
  const w = scratch;
  w.reset();
  writeEnvelopeHead(w, KIND.ERROR, String(type), corr);
  writeFields(w, { code: ERRNO[code] ?? -1, name: String(code), message: String(message), ...extra });
  return w.toArrayBuffer();
}

/** A notice the runtime gives an actor: [0, type, 0, {fields}], e.g.
 * "ferry.down" or "ferry.loan.home". */
export function noticeEnvelope(type, fields) {
  const w = scratch;
  w.reset();
  writeEnvelopeHead(w, KIND.SEND, type, 0);
  writeFields(w, fields);
  return w.toArrayBuffer();
}

const utf8dec = new TextDecoder('utf-8', { fatal: true });

function decodeText(u8, s, e) {
  try {
    return utf8dec.decode(u8.subarray(s, e));
  } catch {
    return null;
  }
}

/**
 * The head of one envelope, read in place. Each reader keeps its own
 * EnvelopeHead and calls parse() per envelope, so reading costs no
 * allocation and no reader sees another's result.
 */
export class EnvelopeHead {
  kind = 0;
  corr = 0;
  typeStart = 0;
  typeEnd = 0;
  /** Offset of the body in the envelope. */
  body = 0;

  /**
   * Reads 84 kind type corr from u8 without decoding the body. Returns
   * false when the head is not of that shape (the C side then rejects the
   * message with a clear error); the fields are then unchanged.
   */
  parse(u8) {
    if (u8.length < 4 || u8[0] !== 0x84) return false;
    const kind = u8[1];
    if (kind > 3) return false;
    const tb = u8[2];
    if (tb >> 5 !== 3) return false;
    let p = argEnd(u8, 3, tb & 31);
    if (p < 0) return false;
    const typeLen = argValue(u8, 3, tb & 31);
    const typeStart = p;
    const typeEnd = p + typeLen;
    p = typeEnd;
    if (p >= u8.length) return false;
    const cb = u8[p++];
    if (cb >> 5 !== 0) return false;
    const corrAt = p;
    p = argEnd(u8, p, cb & 31);
    if (p < 0 || p >= u8.length) return false;
    this.kind = kind;
    this.corr = argValue(u8, corrAt, cb & 31);
    this.typeStart = typeStart;
    this.typeEnd = typeEnd;
    this.body = p;
    return true;
  }

  /** The type text of the envelope last parsed (null if not UTF-8). */
  type(u8) {
    const s = this.typeStart;
    const e = this.typeEnd;
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
}

// The position after an unsigned head argument of additional info ai that
// starts at p, or -1 when it is cut short or not a length/count.
function argEnd(u8, p, ai) {
  const n = ai < 24 ? 0 : ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : -1;
  if (n < 0 || p + n > u8.length) return -1;
  return p + n;
}

// The value of that argument (argEnd said it is there).
function argValue(u8, p, ai) {
  if (ai < 24) return ai;
  if (ai === 24) return u8[p];
  if (ai === 25) return (u8[p] << 8) | u8[p + 1];
  if (ai === 26) return ((u8[p] << 24) >>> 0) + ((u8[p + 1] << 16) | (u8[p + 2] << 8) | u8[p + 3]);
  let v = 0;
  for (let i = 0; i < 8; i++) v = v * 256 + u8[p + i];
  return v; // corr values and lengths stay far below 2^53
}

const peekHead = new EnvelopeHead();

/**
 * Reads kind and corr from an envelope's head without decoding the rest.
 * Returns null when the head is not of that shape.
 */
export function peekHeader(u8) {
  return peekHead.parse(u8) ? { kind: peekHead.kind, corr: peekHead.corr } : null;
}
