// The glue has three ways to write CBOR, which must agree byte for byte
// where they overlap: the host's envelope encoder (glue/host/envelope.mjs),
// the Writer used directly for envelope heads and the glue's own error
// envelopes (glue/wire/head.mjs, writer.mjs), and cbor-x with ferry's
// options (glue/serializer.mjs). The C encoder agrees with the last one
// (schema-cross.test.mjs, test_envelope.c).
import { encode } from '../../glue/serializer.mjs';
import { Writer } from '../../glue/wire/writer.mjs';
import { writeEnvelopeHead, errorEnvelope } from '../../glue/wire/head.mjs';
import { KIND } from '../../glue/wire/protocol.mjs';
import { ERRNO } from '../../glue/wire/errors.mjs';
import { encodeEnvelope, writer } from '../../glue/host/envelope.mjs';

const hex = (x) => Buffer.from(x instanceof ArrayBuffer ? new Uint8Array(x) : x).toString('hex');

const HEADS = [];
for (const kind of [KIND.SEND, KIND.CALL, KIND.REPLY, KIND.ERROR]) {
  for (const type of ['', 'n', 'get', 'x'.repeat(23), 'x'.repeat(24), 'x'.repeat(300), 'ü', 'ferry.down', '日本語🚀']) {
    for (const corr of [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]) {
      HEADS.push([kind, type, corr]);
    }
  }
}

test(`${HEADS.length} envelope heads: Writer and host encoder write the same bytes, and cbor-x below 2^32`, () => {
  const w = new Writer(8);
  let checked = 0;
  for (const [kind, type, corr] of HEADS) {
    w.reset();
    writeEnvelopeHead(w, kind, type, corr);
    w.byte(0xf6); // a null body
    const direct = hex(w.toArrayBuffer());
    encodeEnvelope(kind, type, corr, null);
    const host = hex(writer.toArrayBuffer());
    const cborx = hex(encode([kind, type, corr, null]));
    if (direct !== host) throw new Error(`[${kind}, ${JSON.stringify(type)}, ${corr}]: Writer ${direct}, host ${host}`);
    // cbor-x writes integers of 2^32 and more as float64 (docs/serializer.md),
    // which is no envelope: the C parser wants an unsigned corr. So heads
    // are never written by cbor-x, and there the bytes must differ.
    if ((corr < 2 ** 32) !== (direct === cborx)) throw new Error(`[${kind}, ${JSON.stringify(type)}, ${corr}]: Writer ${direct}, cbor-x ${cborx}`);
    checked++;
  }
  expect(checked).toBe(HEADS.length);
});

test('error envelopes: errorEnvelope, the host encoder and cbor-x agree', () => {
  for (const code of Object.keys(ERRNO)) {
    for (const [type, corr, message] of [['get', 9, 'mailbox is full ✓'], ['ferry.undelivered', 0, ''], ['t', 2 ** 40, 'x'.repeat(500)]]) {
      const body = { code: ERRNO[code], name: code, message };
      const mine = hex(errorEnvelope(type, corr, code, message));
      encodeEnvelope(KIND.ERROR, type, corr, body);
      expect(hex(writer.toArrayBuffer())).toBe(mine);
      if (corr < 2 ** 32) expect(hex(encode([KIND.ERROR, type, corr, body]))).toBe(mine);
    }
  }
});

test('Writer primitives write what cbor-x writes for the same values', () => {
  const w = new Writer(4);
  const ints = [0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, -1, -24, -25, -256, -257, -65536, -65537, -(2 ** 32)];
  for (const n of ints) {
    w.reset();
    w.int(n);
    expect(hex(w.toArrayBuffer())).toBe(hex(encode(n)));
  }
  for (const x of [0.5, -1.25, 1e300, Math.PI]) {
    w.reset();
    w.float64(x);
    expect(hex(w.toArrayBuffer())).toBe(hex(encode(x)));
  }
  for (const s of ['', 'a', 'x'.repeat(23), 'x'.repeat(24), 'x'.repeat(255), 'x'.repeat(256), 'é', '日本語', '🚀', 'y'.repeat(70000)]) {
    w.reset();
    w.text(s);
    expect(hex(w.toArrayBuffer())).toBe(hex(encode(s)));
  }
  for (const n of [0, 3, 23, 24, 300, 70000]) {
    const b = new Uint8Array(n).fill(5);
    w.reset();
    w.bytes(b); // 64 KiB and more go out as a segment: the same bytes
    expect(hex(w.toArrayBuffer())).toBe(hex(encode(b)));
  }
});
