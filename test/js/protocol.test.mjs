// The glue's own envelope encoding and port framing (glue/wire/*.mjs,
// glue/host/envelope.mjs): the bytes must be exactly what glue/serializer.mjs
// (cbor-x) writes, decoding must give what it gives, and batches must
// keep every envelope, in order, whatever form they travel in.
import { MessageChannel } from 'node:worker_threads';
import { encode, decode, OutOfBand } from '../../glue/serializer.mjs';
import { Writer, BIG_BYTES } from '../../glue/wire/writer.mjs';
import { writeEnvelopeHead, EnvelopeHead, peekHeader, errorEnvelope } from '../../glue/wire/head.mjs';
import { unpack, Outbox, MAX_BATCH, PACK_MAX } from '../../glue/wire/framing.mjs';
import { KIND } from '../../glue/wire/protocol.mjs';
import { encodeEnvelope, writer, decodeEnvelope, bufferFree, Transfer, decodeSmall, NOT_SIMPLE } from '../../glue/host/envelope.mjs';

const bytesOf = (x) => [...new Uint8Array(x instanceof ArrayBuffer ? x : x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength))];

function envelopeBytes(kind, type, corr, value) {
  const xfer = encodeEnvelope(kind, type, corr, value);
  return { buf: writer.toArrayBuffer(), xfer };
}

// Values a message body is made of, and some it rarely is (handed to cbor-x).
const VALUES = [
  0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, 2 ** 53,
  -1, -24, -25, -256, -257, -65536, -65537, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 32), -(2 ** 32) - 1,
  -0, 0.5, -1.25, 1e300, NaN, Infinity, -Infinity,
  true, false, null, undefined,
  '', 'a', 'x'.repeat(23), 'x'.repeat(24), 'x'.repeat(255), 'x'.repeat(256), 'é', 'κόσμε', '日本語', '🚀',
  'ü'.repeat(30), 'mixed ascii then ü', 'y'.repeat(70000),
  new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(300).fill(7), Buffer.from('buf'),
  new Uint8Array(new ArrayBuffer(32), 8, 4), new Uint8Array([5, 6]).buffer,
  [], [1, [2, [3, 'four']]], Array.from({ length: 30 }, (_, i) => i * 1000),
  {}, { a: 1, b: 'two', c: [true, null], d: { e: { f: 1.5 } } }, { u: undefined, n: null },
  Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i])),
  { 'ключ': 'значение', '': 0 },
  2n ** 60n, -(2n ** 63n), new Date(1700000000000), new Map([[1, 'one'], ['two', 2]]),
  new Uint16Array([1, 2]), new OutOfBand(3), { blob: new OutOfBand(0) },
];

describe('envelope encoding', () => {
  test.each(VALUES.map((v, i) => [i, v]))('value %i: the same bytes as cbor-x', (_, v) => {
    for (const [kind, type, corr] of [[0, 'n', 0], [1, 'get', 7], [2, 'type-ü', 65536], [3, 'x'.repeat(30), 2 ** 32 - 1]]) {
      const { buf } = envelopeBytes(kind, type, corr, v);
      expect(bytesOf(buf)).toEqual(bytesOf(encode([kind, type, corr, v === undefined ? null : v])));
    }
  });

  test('large byte strings are copied once, straight into the envelope', () => {
    const big = new Uint8Array(BIG_BYTES * 3 + 5);
    for (let i = 0; i < big.length; i += 97) big[i] = i & 255;
    const value = { a: big, b: 'between', c: [big.subarray(0, BIG_BYTES), 1] };
    const x = encodeEnvelope(1, 'put', 9, value);
    expect(x).toBeNull();
    expect(writer.segs.length).toBe(4); // two segments: the scratch buffer holds only the rest
    expect(writer.pos).toBeLessThan(100);
    const buf = writer.toArrayBuffer();
    expect(buf.byteLength).toBe(writer.length);
    expect(bytesOf(buf)).toEqual(bytesOf(encode([1, 'put', 9, value])));
  });

  test('transfer() values become tag 41999(i) in order, also inside values cbor-x encodes', () => {
    const a = new ArrayBuffer(8);
    const b = new Uint8Array(16);
    const c = new ArrayBuffer(4);
    const xfer = encodeEnvelope(1, 'x', 1, { a: new Transfer(a), list: [new Transfer(b)], m: new Map([['c', new Transfer(c)]]) });
    expect(xfer).toEqual([a, b.buffer, c]);
    const back = decode(writer.toArrayBuffer());
    expect(back[3].a).toEqual(new OutOfBand(0));
    expect(back[3].list[0]).toEqual(new OutOfBand(1));
    expect(back[3].m.c).toEqual(new OutOfBand(2));
  });

  test('the same buffer twice in one message is refused before anything is sent', () => {
    const a = new ArrayBuffer(8);
    expect(() => encodeEnvelope(1, 'x', 1, [new Transfer(a), new Transfer(a)])).toThrow(/twice/);
    // The encoder is usable afterwards.
    encodeEnvelope(0, 'y', 0, 5);
    expect(decode(writer.toArrayBuffer())).toEqual([0, 'y', 0, 5]);
  });

  test('bad values and types throw, leaving the encoder usable', () => {
    expect(() => encodeEnvelope(0, 42, 0, null)).toThrow(/type must be a string/);
    const cyclic = { a: 1 };
    cyclic.self = cyclic;
    expect(() => encodeEnvelope(0, 'x', 0, cyclic)).toThrow('value.self: a cycle: this value contains itself');
    // A bad value after a transfer(): the buffer is not detached (nothing
    // was sent), and the error names where the bad value is.
    const kept = new ArrayBuffer(1);
    expect(() => encodeEnvelope(0, 'x', 0, { t: new Transfer(kept), bad: Symbol('s') })).toThrow('value.bad: symbols cannot be sent');
    expect(kept.byteLength).toBe(1);
    expect(decode((encodeEnvelope(0, 'ok', 0, 1), writer.toArrayBuffer()))).toEqual([0, 'ok', 0, 1]);
  });

  test('bigints beyond 64 bits: what cbor-x writes (a bignum tag)', () => {
    const { buf } = envelopeBytes(0, 'b', 0, 2n ** 70n);
    expect(bytesOf(buf)).toEqual(bytesOf(encode([0, 'b', 0, 2n ** 70n])));
  });
});

describe('envelope decoding', () => {
  test.each(VALUES.map((v, i) => [i, v]))('value %i: what cbor-x decodes', (_, v) => {
    const { buf } = envelopeBytes(2, 'r', 12, v);
    const u8 = new Uint8Array(buf);
    const d = decodeEnvelope(u8, null);
    const ref = decode(new Uint8Array(buf.slice(0)));
    expect([d.kind, d.type, d.corr]).toEqual([2, 'r', 12]);
    const norm = (x) => (x instanceof Uint8Array ? ['bytes', ...x] : x);
    expect(norm(d.body)).toEqual(norm(ref[3]));
    if (ref[3] instanceof Uint8Array) expect(d.body.constructor).toBe(Uint8Array);
  });

  test('malformed envelopes are errors', () => {
    expect(() => decodeEnvelope(new Uint8Array([0x83, 0, 0x60, 0]), null)).toThrow(/not an envelope/);
    expect(() => decodeEnvelope(new Uint8Array([0x84, 9, 0x60, 0, 0]), null)).toThrow(/not an envelope/);
    expect(() => decodeEnvelope(new Uint8Array([0x84, 0, 0x61, 0xff, 0, 0xf6]), null)).toThrow(/UTF-8/);
    expect(() => decodeEnvelope(new Uint8Array([0x84, 0, 0x60, 0, 0x01, 0x02]), null)).toThrow();
    expect(() => decodeEnvelope(new Uint8Array([0x84, 0, 0x60, 0]), null)).toThrow();
  });

  test('received blobs replace their tags', () => {
    const blob = new ArrayBuffer(3);
    const { buf } = envelopeBytes(2, 'r', 1, { data: new OutOfBand(0), rest: [new OutOfBand(0)] });
    const d = decodeEnvelope(new Uint8Array(buf), [blob]);
    expect(d.body.data.buffer).toBe(blob);
    expect(d.body.rest[0].buffer).toBe(blob);
  });

  test('bufferFree: only when nothing decoded points into the envelope buffer', () => {
    const free = (v) => {
      const { buf } = envelopeBytes(2, 'r', 1, v);
      const u8 = new Uint8Array(buf);
      return bufferFree(u8, decodeEnvelope(u8, null).body);
    };
    expect(free(5)).toBe(true);
    expect(free({ a: 'text', b: [1, 2] })).toBe(true);
    // Byte strings under 64 bytes are decoded as copies (decodeSmall), so
    // the buffer is free; longer ones are views of it.
    expect(free(new Uint8Array(3))).toBe(true);
    expect(free({ deep: [{ x: new Uint8Array(1) }] })).toBe(true);
    expect(free(new Uint8Array(64))).toBe(false);
    expect(free({ deep: [{ x: new Uint8Array(100) }] })).toBe(false);
    expect(free({ m: new Map([[1, new Uint8Array(1)]]) })).toBe(false); // cbor-x's view
    const big = new Uint8Array(8192);
    const { buf } = envelopeBytes(2, 'r', 1, 1);
    expect(bufferFree(new Uint8Array(buf, 1), 1)).toBe(false); // not a buffer of its own
    expect(free('x'.repeat(5000))).toBe(false); // too big to bother
    void big;
  });
});

// decodeSmall reads small bodies without cbor-x: whatever it accepts must
// decode to exactly what cbor-x gives (types, -0, key order, blobs), and
// whatever else it must decline, leaving it to cbor-x.
describe('small-body fast path against cbor-x', () => {
  // A value as a comparable tree: types spelled out, -0 kept apart from 0.
  function norm(v) {
    if (v instanceof Uint8Array) return { bytes: [...v], cls: v.constructor.name };
    if (v instanceof OutOfBand) return { oob: v.index };
    if (Array.isArray(v)) return { array: v.map(norm) };
    if (typeof v === 'number') return { num: Object.is(v, -0) ? '-0' : String(v) };
    if (v === undefined) return { undef: true };
    if (typeof v === 'bigint') return { big: String(v) };
    if (v !== null && typeof v === 'object') {
      if (Object.getPrototypeOf(v) !== Object.prototype) return { other: Object.prototype.toString.call(v), s: String(v) };
      return { map: Object.keys(v).map((k) => [k, norm(v[k])]) };
    }
    return { [typeof v]: v };
  }
  function cborx(u8) {
    try {
      return { ok: true, v: decode(u8.slice()) };
    } catch (e) {
      return { ok: false, e };
    }
  }
  // Checks one input; returns whether the fast path took it.
  function check(u8) {
    const fast = decodeSmall(u8, 0);
    const ref = cborx(u8);
    if (fast === NOT_SIMPLE) return false;
    expect(ref.ok).toBe(true);
    expect(norm(fast)).toEqual(norm(ref.v));
    return true;
  }

  // A small deterministic PRNG, so a failure can be replayed.
  function rng(seed) {
    let x = seed >>> 0 || 1;
    return () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32;
    };
  }
  const pick = (r, xs) => xs[Math.floor(r() * xs.length)];
  const KEYS = ['data', 'a', 'id', 'rc', 'len', 'x'.repeat(30), 'k'.repeat(64), 'k'.repeat(65), 'é', '', '0', '12', 'constructor', 'toString'];
  function randomValue(r, depth) {
    const t = Math.floor(r() * (depth > 4 ? 8 : 11));
    switch (t) {
      case 0: return pick(r, [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53, 2 ** 60]);
      case 1: return -pick(r, [1, 24, 25, 256, 257, 65536, 65537, 2 ** 32, 2 ** 32 + 1, 2 ** 40]);
      case 2: return pick(r, [0.5, -1.25, 1e300, 1 / 3, -0, NaN, Infinity, 3.4e38, 1e-40]);
      case 3: return pick(r, [true, false, null, undefined]);
      case 4: return 'abcdefgh'.repeat(Math.floor(r() * 10)).slice(0, Math.floor(r() * 70));
      case 5: return pick(r, ['é', 'κόσμε', 'ascii then ü', '🚀']);
      case 6: return new Uint8Array(pick(r, [0, 1, 15, 63, 64, 65, 300])).map((_, i) => (i * 7 + 1) & 255);
      case 7: return new OutOfBand(pick(r, [0, 1, 23, 24, 300, 70000]));
      case 8: return Array.from({ length: pick(r, [0, 1, 3, 30, 70]) }, () => randomValue(r, depth + 1));
      default: {
        const o = {};
        const n = pick(r, [0, 1, 2, 5, 20]);
        for (let i = 0; i < n; i++) o[pick(r, KEYS)] = randomValue(r, depth + 1);
        return o;
      }
    }
  }

  test('random values encoded by cbor-x: accepted ones decode equal, the rest are declined', () => {
    const r = rng(11);
    let took = 0;
    let declined = 0;
    for (let i = 0; i < 3000; i++) {
      const u8 = new Uint8Array(encode(randomValue(r, 0)));
      if (check(u8)) took++;
      else declined++;
    }
    // Both paths are exercised.
    expect(took).toBeGreaterThan(1000);
    expect(declined).toBeGreaterThan(300);
  });

  test('the reply maps blobs travel in are taken', () => {
    for (const v of [{ data: new OutOfBand(0) }, { data: new OutOfBand(0), rc: 0 }, [new OutOfBand(2), { b: new OutOfBand(1) }],
      { data: new Uint8Array(20 * 1024) }, { rc: -5, extra: 2 ** 32 - 1, name: 'ok' }]) {
      expect(check(new Uint8Array(encode(v)))).toBe(true);
    }
  });

  test('bytes it declines (cbor-x decides, or rejects them)', () => {
    const declined = [
      [0xfa, 0x3f, 0xc0, 0x00, 0x00], // float32
      [0xf9, 0x3c, 0x00], // float16
      [0x1b, 0, 0, 0, 0, 0, 0, 0, 1], // 8-byte head
      [0x3b, 0, 0, 0, 1, 0, 0, 0, 0],
      [0x5f, 0x41, 1, 0xff], // indefinite byte string
      [0x7f, 0x61, 0x61, 0xff],
      [0x9f, 1, 0xff],
      [0xbf, 0x61, 0x61, 1, 0xff],
      [0xc1, 0x1a, 0, 0, 0, 1], // tag 1
      [0xd9, 0xa4, 0x0f, 0x61, 0x61], // tag 41999 of a text
      [0xd9, 0xa4, 0x0f, 0x1b, 0, 0, 0, 1, 0, 0, 0, 0],
      [0xa1, 0x01, 0x02], // integer key
      [0xa1, 0x62, 0xc3, 0xa9, 0x01], // non-ASCII key
      [0xa2, 0x61, 0x61, 1, 0x61, 0x61, 2], // repeated key
      [0xa1, 0x69, ...Buffer.from('__proto__'), 1],
      [0x62, 0xc3, 0xa9], // non-ASCII text
      [0x61, 0xff], // not UTF-8
      [0xe0], [0xf8, 0x20], [0xff], // other simple values, a break
      [0x01, 0x02], // trailing bytes
      [0x82, 0x01], [0x43, 1, 2], [0x19, 1], [0xa1, 0x61], [0xd9, 0xa4], // cut short
      [0x81, 0x81, 0x81, 0x81, 0x81, 0x01], // deeper than it reads
      [0x98, 65, ...new Array(65).fill(0)], // more items than it reads
    ];
    for (const b of declined) {
      const u8 = new Uint8Array(b);
      expect([b, decodeSmall(u8, 0)]).toEqual([b, NOT_SIMPLE]);
      // The envelope still decodes as cbor-x says, or is rejected.
      const env = new Uint8Array([0x84, 2, 0x61, 0x72, 0x01, ...b]);
      const ref = cborx(u8);
      if (ref.ok) expect(norm(decodeEnvelope(env, null).body)).toEqual(norm(ref.v));
      else expect(() => decodeEnvelope(env, null)).toThrow();
    }
    // Non-preferred heads are fine: cbor-x reads them the same.
    for (const b of [[0x18, 5], [0x19, 0, 5], [0x1a, 0, 0, 0, 5], [0x38, 0], [0x58, 1, 9], [0x78, 1, 0x61], [0x98, 1, 1], [0xb8, 1, 0x61, 0x61, 1]]) {
      expect(check(new Uint8Array(b))).toBe(true);
    }
  });

  test('a decoded blob reply gets its buffer; a short byte string is a copy, a long one a view', () => {
    const blob = new ArrayBuffer(8);
    const { buf } = envelopeBytes(2, 'blob', 9, { data: new OutOfBand(0) });
    expect(decodeEnvelope(new Uint8Array(buf), [blob]).body.data.buffer).toBe(blob);
    const short = envelopeBytes(2, 'x', 1, new Uint8Array(15).fill(3)).buf;
    expect(decodeEnvelope(new Uint8Array(short), null).body.buffer).not.toBe(short);
    const long = envelopeBytes(2, 'x', 1, { data: new Uint8Array(100).fill(3) }).buf;
    expect(decodeEnvelope(new Uint8Array(long), null).body.data.buffer).toBe(long);
  });
});

describe('heads and error envelopes', () => {
  test('EnvelopeHead reads kind, type and corr; rejects other shapes', () => {
    const w = new Writer(8);
    const head = new EnvelopeHead();
    for (const corr of [0, 23, 24, 65535, 65536, 2 ** 32, 2 ** 50]) {
      for (const type of ['', 'get', 'é', 'z'.repeat(300)]) {
        w.reset();
        writeEnvelopeHead(w, 1, type, corr);
        w.byte(0xf6);
        const u8 = new Uint8Array(w.toArrayBuffer());
        expect(head.parse(u8)).toBe(true);
        expect([head.kind, head.corr, head.type(u8)]).toEqual([1, corr, type]);
        expect(u8[head.body]).toBe(0xf6);
        expect(peekHeader(u8)).toEqual({ kind: 1, corr });
      }
    }
    expect(peekHeader(new Uint8Array([0x84, 4, 0x60, 0, 0xf6]))).toBeNull();
    expect(peekHeader(new Uint8Array([0x84, 0, 0x40, 0, 0xf6]))).toBeNull();
    expect(peekHeader(new Uint8Array([0x84, 0, 0x65, 0x61]))).toBeNull();
    expect(peekHeader(new Uint8Array([0x84, 0, 0x60, 0x20, 0xf6]))).toBeNull();
  });

  test('two EnvelopeHeads do not share what they read', () => {
    const a = new EnvelopeHead();
    const b = new EnvelopeHead();
    expect(a.parse(new Uint8Array(errorEnvelope('first', 7, 'EFULL', 'x')))).toBe(true);
    expect(b.parse(new Uint8Array(errorEnvelope('second', 9, 'EDOWN', 'y')))).toBe(true);
    expect([a.kind, a.corr, b.corr]).toEqual([KIND.ERROR, 7, 9]);
    // A failed parse leaves the last good reading in place.
    expect(a.parse(new Uint8Array([0x84, 9]))).toBe(false);
    expect(a.corr).toBe(7);
  });

  test('errorEnvelope is [3, type, corr, {code, name, message}]', () => {
    expect(decode(errorEnvelope('get', 9, 'EFULL', 'mailbox is full ✓'))).toEqual(
      [KIND.ERROR, 'get', 9, { code: -14, name: 'EFULL', message: 'mailbox is full ✓' }]);
    expect(bytesOf(errorEnvelope('t', 0, 'EDOWN', 'gone'))).toEqual(
      bytesOf(encode([3, 't', 0, { code: -12, name: 'EDOWN', message: 'gone' }])));
  });
});

describe('outbox and port framing', () => {
  function capture() {
    const posted = [];
    return { posted, target: { postMessage: (data, xfer) => posted.push({ data, xfer: [...xfer] }) } };
  }
  const env = (type, value) => envelopeBytes(0, type, 0, value);
  const receive = (posted) => {
    const got = [];
    for (const p of posted) unpack(p.data, (u8, xfer) => got.push({ v: decode(u8.slice()), x: xfer }));
    return got;
  };

  test('a loan on its way home travels with the next envelope, in one postMessage, and is taken first', () => {
    const { posted, target } = capture();
    const box = new Outbox(target);
    const lent = new ArrayBuffer(1000);
    box.addReturn(7, lent);
    encodeEnvelope(0, 'get', 0, { key: 'k' });
    box.addWriter(writer, null);
    box.flush();
    expect(posted.length).toBe(1);
    expect(posted[0].xfer).toContain(lent);
    const order = [];
    unpack(posted[0].data, (u8) => order.push(['env', decode(u8.slice())[1]]), (why) => order.push(['bad', why]),
      (loan, buf) => order.push(['home', loan, buf.byteLength]));
    expect(order).toEqual([['home', 7, 1000], ['env', 'get']]);
    // Alone it is the control message the worker already takes on its own.
    const one = capture();
    const box1 = new Outbox(one.target);
    box1.addReturn(8, new ArrayBuffer(4));
    box1.flush();
    expect(one.posted[0].data).toMatchObject({ ctl: 'loan-return', loan: 8 });
  });

  test('loan returns in a batch reach only a receiver that takes them; bad ones are refused', () => {
    const why = [];
    const env1 = env('x', 1).buf;
    // The host takes no loan returns (only actors lend): refused, the rest goes on.
    const got = [];
    unpack({ b: [{ ctl: 'loan-return', loan: 1, buf: new ArrayBuffer(8) }, env1] }, (u8) => got.push(decode(u8.slice())[1]), (w) => why.push(w));
    expect(got).toEqual(['x']);
    expect(why.length).toBe(1);
    const home = [];
    for (const bad of [{ ctl: 'loan-return', loan: 0, buf: new ArrayBuffer(8) }, { ctl: 'loan-return', loan: 2.5, buf: new ArrayBuffer(8) },
      { ctl: 'loan-return', loan: 3, buf: null }, { ctl: 'loan-return', loan: 3, buf: new Uint8Array(8) }]) {
      unpack({ b: [bad] }, () => home.push('env'), (w) => why.push(w), (loan) => home.push(loan));
    }
    expect(home).toEqual([]);
    expect(why.length).toBe(5);
    expect(why[1]).toMatch(/loan-return.*loan id and an ArrayBuffer/);
  });

  test('small envelopes of one turn leave packed, in one postMessage; a lone one as a plain ArrayBuffer', () => {
    const { posted, target } = capture();
    const box = new Outbox(target);
    for (let i = 0; i < 5; i++) {
      encodeEnvelope(0, 'n', 0, i);
      box.addWriter(writer, null);
    }
    box.flush();
    expect(posted.length).toBe(1);
    expect(posted[0].data.p).toBeInstanceOf(ArrayBuffer);
    expect(posted[0].xfer).toEqual([posted[0].data.p]);
    expect(receive(posted).map((g) => g.v[3])).toEqual([0, 1, 2, 3, 4]);
    encodeEnvelope(1, 'one', 3, 'x');
    box.addWriter(writer, null);
    box.flush();
    expect(posted[1].data).toBeInstanceOf(ArrayBuffer);
    expect(decode(posted[1].data)).toEqual([1, 'one', 3, 'x']);
    box.flush(); // nothing queued: nothing posted
    expect(posted.length).toBe(2);
  });

  test('envelopes with blobs, big ones and packed runs keep their order', () => {
    const { posted, target } = capture();
    const box = new Outbox(target);
    const blob = new ArrayBuffer(4);
    const big = new Uint8Array(PACK_MAX + 10);
    encodeEnvelope(0, 'a', 0, 1); box.addWriter(writer, null);
    encodeEnvelope(0, 'b', 0, 2); box.addWriter(writer, null);
    box.addWriter(writer, encodeEnvelope(0, 'c', 0, { blob: new Transfer(blob) }));
    encodeEnvelope(0, 'd', 0, 4); box.addWriter(writer, null);
    encodeEnvelope(0, 'e', 0, big); box.addWriter(writer, null);
    encodeEnvelope(0, 'f', 0, 6); box.addWriter(writer, null);
    encodeEnvelope(0, 'g', 0, 7); box.addWriter(writer, null);
    box.flush();
    expect(posted.length).toBe(1);
    const got = receive(posted);
    expect(got.map((g) => g.v[1])).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    // Not detached by encoding: the host posts such an envelope at once
    // (ActorRecord.post, pieces.test.mjs), and this fake target transfers
    // nothing.
    expect(got[2].x[0]).toBe(blob);
    expect(got[2].x.length).toBe(1);
    expect(got[2].x[0].byteLength).toBe(4);
    expect(got[4].v[3].length).toBe(big.length);
    // Every buffer is in the transfer list, the blob included.
    expect(posted[0].xfer).toContain(got[2].x[0]);
    expect(posted[0].xfer.length).toBe(posted[0].data.b.length + 1);
  });

  test(`at most ${MAX_BATCH} envelopes a postMessage`, () => {
    const { posted, target } = capture();
    const box = new Outbox(target);
    const n = MAX_BATCH * 2 + 10;
    for (let i = 0; i < n; i++) {
      encodeEnvelope(0, 'n', 0, i);
      box.addWriter(writer, null);
    }
    box.flush();
    expect(posted.length).toBe(3);
    expect(receive(posted).map((g) => g.v[3])).toEqual([...Array(n).keys()]);
  });

  test('a spare buffer is reused for a lone envelope of its size, and only then', () => {
    const { posted, target } = capture();
    const box = new Outbox(target);
    const spare = new ArrayBuffer(envelopeBytes(0, 'n', 0, 1).buf.byteLength);
    box.spare = spare;
    encodeEnvelope(0, 'n', 0, 12345); // a different size
    box.addWriter(writer, null);
    box.flush();
    expect(posted[0].data).not.toBe(spare);
    encodeEnvelope(0, 'n', 0, 2); // the same size
    box.addWriter(writer, null);
    box.flush();
    expect(posted[1].data).toBe(spare);
    expect(decode(spare)).toEqual([0, 'n', 0, 2]);
    expect(box.spare).toBeNull();
  });

  test('{e, n}: an envelope in the front of a reused buffer', () => {
    const { buf } = env('e', 'hello');
    const e = new ArrayBuffer(buf.byteLength + 10);
    new Uint8Array(e).set(new Uint8Array(buf));
    const got = receive([{ data: { e, n: buf.byteLength } }]);
    expect(got.map((g) => g.v)).toEqual([[0, 'e', 0, 'hello']]);
  });

  test('on a real port every buffer is moved (detached here)', async () => {
    const { port1, port2 } = new MessageChannel();
    const box = new Outbox(port1);
    const blob = new ArrayBuffer(16);
    const spare = new ArrayBuffer(envelopeBytes(0, 's', 0, 1).buf.byteLength);
    encodeEnvelope(0, 'a', 0, 1); box.addWriter(writer, null);
    box.addWriter(writer, encodeEnvelope(0, 'b', 0, new Transfer(blob)));
    box.flush();
    box.spare = spare;
    encodeEnvelope(0, 's', 0, 2); box.addWriter(writer, null);
    box.flush();
    expect(blob.byteLength).toBe(0);
    expect(spare.byteLength).toBe(0);
    const got = [];
    await new Promise((resolve) => {
      port2.on('message', (data) => {
        unpack(data, (u8, xfer) => got.push([decode(u8.slice())[1], xfer ? xfer[0].byteLength : 0]));
        if (got.length === 3) resolve();
      });
    });
    expect(got).toEqual([['a', 0], ['b', 16], ['s', 0]]);
    port1.close();
    port2.close();
  });
});
