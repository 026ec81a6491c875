// target-envelope.mjs - fuzz target "js_envelope": every JS reader of
// envelope bytes, in this process, fed the same input:
//
//   wire/head.mjs     EnvelopeHead.parse/type, peekHeader
//   wire/framing.mjs  unpack of a lone buffer, [buf, ...xfer], {p}, {e, n},
//                     {l, loans}, {b: [...]}; splitLoans
//   wire/errors.mjs   errorFromBody
//   wire/protocol.mjs isControl
//   host/envelope.mjs decodeEnvelope, bufferFree, encodeEnvelope of what
//                     was decoded
//
// Properties: the readers never throw; decodeEnvelope throws only an Error
// with a message (the host catches and reports it); a head that parses
// lies inside the bytes; a decoded value encodes again (or the encoder
// says EINVAL with a FerryError) and re-encoding is stable after one
// round; errorFromBody always gives a FerryError with a known code; and
// after every input, a known envelope still decodes to the same value
// (no state shared between calls is left broken).
import inspector from 'node:inspector';
import { EnvelopeHead, peekHeader, errorEnvelope } from '../../../glue/wire/head.mjs';
import { unpack, splitLoans } from '../../../glue/wire/framing.mjs';
import { isControl, KIND } from '../../../glue/wire/protocol.mjs';
import { errorFromBody, FerryError, ERRNO } from '../../../glue/wire/errors.mjs';
import { decodeEnvelope, encodeEnvelope, bufferFree, writer } from '../../../glue/host/envelope.mjs';
import { Finding } from './engine.mjs';

const head = new EnvelopeHead();

function need(cond, kind, what) {
  if (!cond) throw new Finding(kind, what);
}

// A fixed envelope and what it decodes to: the canary for shared state.
const canaryValue = { k: 'v', n: [1, -2, 3.5], b: true };
let canaryBytes = null;

function copyOf(u8) {
  const b = new ArrayBuffer(u8.length);
  new Uint8Array(b).set(u8);
  return b;
}

function checkHead(u8) {
  let ok;
  try {
    ok = head.parse(u8);
  } catch (e) {
    throw new Finding('head.parse threw', `EnvelopeHead.parse threw ${e}`);
  }
  const peek = peekHeader(u8);
  need((peek !== null) === ok, 'peekHeader disagrees', 'peekHeader and EnvelopeHead.parse disagree');
  if (!ok) return false;
  need(head.kind >= 0 && head.kind <= 3, 'head kind', `kind ${head.kind}`);
  need(Number.isFinite(head.corr) && head.corr >= 0, 'head corr', `corr ${head.corr}`);
  need(head.typeStart <= head.typeEnd && head.typeEnd < head.body && head.body < u8.length, 'head bounds',
    `type [${head.typeStart}, ${head.typeEnd}) body ${head.body} of ${u8.length}`);
  const t = head.type(u8);
  need(t === null || typeof t === 'string', 'head type', `type() gave ${typeof t}`);
  return true;
}

function checkDecode(u8, list) {
  let env;
  try {
    env = decodeEnvelope(u8, list);
  } catch (e) {
    need(e instanceof Error && typeof e.message === 'string' && e.message.length > 0, 'decode threw a non-Error',
      `decodeEnvelope threw ${Object.prototype.toString.call(e)}: ${e}`);
    return;
  }
  need(typeof env.type === 'string' && env.kind >= 0 && env.kind <= 3, 'decode result', JSON.stringify(env.type));
  bufferFree(u8, env.body);
  // What was decoded can be sent again, or the encoder says why not.
  let first;
  try {
    encodeEnvelope(env.kind, env.type, env.corr, env.body);
    first = writer.toArrayBuffer();
  } catch (e) {
    need(e instanceof FerryError && e.code === 'EINVAL', 're-encode threw',
      `encodeEnvelope of a decoded value threw ${e?.name}: ${e?.message}`);
    return;
  }
  let again;
  try {
    again = decodeEnvelope(new Uint8Array(first), null);
  } catch (e) {
    throw new Finding('re-encoded does not decode', `our own encoding does not decode: ${e.message}`);
  }
  encodeEnvelope(again.kind, again.type, again.corr, again.body);
  const second = new Uint8Array(writer.toArrayBuffer());
  const a = new Uint8Array(first);
  // One round may normalise (float widths, map keys to text); after it the
  // bytes must be stable.
  let third;
  try {
    const env3 = decodeEnvelope(second, null);
    encodeEnvelope(env3.kind, env3.type, env3.corr, env3.body);
    third = new Uint8Array(writer.toArrayBuffer());
  } catch (e) {
    throw new Finding('re-encoded does not decode', `second round: ${e.message}`);
  }
  need(third.length === second.length && third.every((x, i) => x === second[i]), 'encoding unstable',
    `re-encoding changes bytes: ${Buffer.from(a).toString('hex')} -> ${Buffer.from(second).toString('hex')} -> ${Buffer.from(third).toString('hex')}`);
  if (env.kind === KIND.ERROR) {
    const err = errorFromBody(env.body, 1);
    need(err instanceof FerryError && err.code in ERRNO, 'errorFromBody', `code ${err?.code}`);
  }
  isControl(env.body);
}

// The bytes, also read as the other forms a port message can take.
function checkFraming(u8) {
  const views = [];
  const seen = (v, xfer, loans) => {
    need(v instanceof Uint8Array, 'unpack view', typeof v);
    views.push(v);
    if (loans) splitLoans(xfer, loans, () => {});
  };
  const n = u8.length ? u8[0] : 0;
  const forms = [
    copyOf(u8),
    [copyOf(u8), new ArrayBuffer(n)],
    { p: copyOf(u8) },
    { e: copyOf(u8), n: n * 7 - 3 },
    { e: copyOf(u8), n: -n },
    { l: [copyOf(u8), new ArrayBuffer(1), new ArrayBuffer(2)], loans: Array.from(u8.subarray(0, 9)) },
    { b: [copyOf(u8), { p: copyOf(u8) }, { e: copyOf(u8), n }] },
  ];
  // Forms with wrong lengths or loans are refused, with words.
  const bad = (why) => need(typeof why === 'string' && why.length > 0, 'unpack bad()', 'refused without a reason');
  for (const f of forms) {
    try {
      unpack(f, seen, bad);
    } catch (e) {
      throw new Finding('unpack threw', `unpack(${Object.keys(f)}) threw ${e}`);
    }
  }
  for (const v of views) {
    need(v.byteOffset + v.length <= v.buffer.byteLength, 'unpack bounds', 'view past its buffer');
    checkHead(v);
  }
  isControl(u8);
}

export const target = {
  name: 'js_envelope',
  filter: (url) => url.includes('/glue/') && !url.includes('node_modules'),
  session: null,

  setup() {
    this.session = new inspector.Session();
    this.session.connect();
    this.session.post('Profiler.enable');
    this.session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
    encodeEnvelope(KIND.CALL, 'canary', 77, canaryValue);
    canaryBytes = new Uint8Array(writer.toArrayBuffer());
  },

  coverage() {
    let out = null;
    this.session.post('Profiler.takePreciseCoverage', (err, r) => {
      if (!err) out = r.result;
    });
    return out;
  },

  seeds() {
    const out = [];
    const add = (kind, type, corr, v) => {
      encodeEnvelope(kind, type, corr, v);
      out.push(new Uint8Array(writer.toArrayBuffer()));
    };
    add(KIND.SEND, 'x', 0, null);
    add(KIND.CALL, 'get', 5, { key: 'a', n: 1 });
    add(KIND.REPLY, 'get', 2 ** 32 + 1, [1, 'two', { three: 3.5 }, new Uint8Array([1, 2, 3])]);
    add(KIND.CALL, 'big', 1, { data: new Uint8Array(300), s: 'é'.repeat(40), f: -1.25e300, neg: -70000 });
    out.push(new Uint8Array(errorEnvelope('ferry.down', 9, 'EDOWN', 'actor 3 is down', { to: 3, type: 'x', corr: 9 })));
    out.push(Uint8Array.from([0x84, 0x00, 0x60, 0x00, 0xd9, 0xa4, 0x0f, 0x00])); // body: tag 41999(0)
    out.push(Uint8Array.from([0x84, 0x02, 0x61, 0x78, 0x1b, 0, 0, 0, 1, 0, 0, 0, 0, 0xc2, 0x49, 1, 0, 0, 0, 0, 0, 0, 0, 0])); // bignum
    out.push(Uint8Array.from([0x84, 0x00, 0x60, 0x00, 0xbf, 0x61, 0x61, 0x9f, 0xff, 0xff])); // indefinite map/array
    out.push(Uint8Array.from([0x84, 0x00, 0x60, 0x00, 0xa1, 0x01, 0xf9, 0x7e, 0x00])); // int key, half NaN
    return out;
  },

  run(u8) {
    const t0 = performance.now();
    checkHead(u8);
    checkDecode(u8, u8.length > 2 ? [new ArrayBuffer(u8[1] & 15)] : null);
    checkFraming(u8);
    const env = decodeEnvelope(canaryBytes, null);
    need(env.type === 'canary' && env.corr === 77 && JSON.stringify(env.body) === JSON.stringify(canaryValue),
      'canary', 'a valid envelope no longer decodes the same after this input');
    const ms = performance.now() - t0;
    need(ms < 1000, 'slow', `one input took ${Math.round(ms)} ms`);
  },
};
