// The C struct serializer (as wasm) against its JavaScript twin
// (glue/serializer.mjs): C encode -> JS decode -> JS encode -> C decode, and JS
// values -> C -> JS, compared field by field; decode errors raised by C
// for values sent from JS name the field path.
import fs from 'node:fs';
import path from 'node:path';
import { encode, decode, encodeToArrayBuffer, OutOfBand } from '../../glue/serializer.mjs';
import { wasmDir, mustExist } from './paths.mjs';

const SCHEMA = { everything: 0, order: 1, note: 2, item: 3, chunk: 4 };
let m;

beforeAll(async () => {
  const { default: factory } = await import(mustExist(path.join(wasmDir, 'schema-test.mjs')));
  const module = await WebAssembly.compile(fs.readFileSync(mustExist(path.join(wasmDir, 'schema-test.wasm'))));
  m = await factory({
    instantiateWasm(imports, done) {
      WebAssembly.instantiate(module, imports).then((i) => done(i, module));
      return {};
    },
  });
});

const cstr = (ptr) => {
  let end = ptr;
  while (m.HEAPU8[end]) end++;
  return new TextDecoder().decode(m.HEAPU8.subarray(ptr, end));
};
const out = () => m.HEAPU8.slice(m._fy_t_out_ptr(), m._fy_t_out_ptr() + m._fy_t_out_len());
const withBytes = (bytes, fn) => {
  const p = m._fy_t_alloc(bytes.length);
  m.HEAPU8.set(bytes, p);
  try {
    return fn(p, bytes.length);
  } finally {
    m._fy_t_free(p);
  }
};

/** Sends a JS value through C (decode with the schema, encode again). */
function viaC(schema, value) {
  const rc = withBytes(encode(value), (p, n) => m._fy_t_roundtrip(SCHEMA[schema], p, n));
  if (rc < 0) {
    const e = new Error(cstr(m._fy_t_err_message()));
    e.code = cstr(m._fy_t_errname(rc));
    throw e;
  }
  return decode(out());
}

describe('C encode -> JS decode -> JS encode -> C decode', () => {
  test('500 generated values survive field by field', () => {
    for (let seed = 1; seed <= 500; seed++) {
      expect(m._fy_t_encode_seed(seed)).toBe(0);
      const value = decode(out());
      const back = encode(value);
      const rc = withBytes(back, (p, n) => m._fy_t_check_seed(p, n, seed, 1));
      if (rc !== 0) throw new Error(`seed ${seed}: ${rc < 0 ? cstr(m._fy_t_errname(rc)) : ''} ${cstr(m._fy_t_err_message())}`);
    }
  });

  test('the fixed value decodes to the JS shape documented in docs/serializer.md', () => {
    expect(m._fy_t_encode_seed(1)).toBe(0);
    const v = decode(out());
    expect(v).toMatchObject({
      b: true, i8: -8, i16: -1600, i32: 320000, i64: -6400000000, u8: 200, u16: 60000,
      u32: 4000000000, u64: 18000000000000000000n, f32: 0.75, f64: 1.1,
      text: 'hello', cstr: 'wörld', actor: 42, where: { x: -2.5, y: 8 }, col: -3,
      items: [{ sku: 1, qty: 0, gift: false }, { sku: 2, qty: 3, gift: true }],
      nums: [-1, 0, 1], note: 'a note', origin: { x: 0.5, y: -1 },
    });
    expect([...v.bytes]).toEqual([1, 2, 3]);
    expect(v.blob).toBeInstanceOf(OutOfBand);
    expect(v.blob.index).toBe(7);
    expect(v).not.toHaveProperty('maybe'); // absent optional
  });
});

// A small deterministic generator for JS-side values of `everything`.
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}
function genEverything(seed) {
  const r = rng(seed * 2654435761);
  const pick = (a) => a[r() % a.length];
  const int = (lo, hi) => lo + (r() % (hi - lo + 1));
  const v = {
    b: r() % 2 === 0,
    i8: int(-128, 127), i16: int(-32768, 32767), i32: (r() | 0),
    i64: pick([0, -1, 2 ** 53 - 1, -(2 ** 53), -9223372036854775808n, 9223372036854775807n, 9007199254740993n]),
    u8: int(0, 255), u16: int(0, 65535), u32: r(),
    u64: pick([0, 23, 24, 2 ** 32, 2 ** 53, 18446744073709551615n, 9007199254740993n]),
    f32: Math.fround((r() | 0) / 1000), f64: pick([0.1, -4.1, 1e300, 5e-324, Infinity, -Infinity, 123456.789, 2 ** 60]),
    text: pick(['', 'a', 'über', '水', '𐅑', 'x'.repeat(300)]),
    cstr: pick([null, 'c', 'wörld']),
    bytes: Uint8Array.from({ length: int(0, 40) }, () => r() & 255),
    blob: new OutOfBand(r()),
    actor: r(),
    where: { x: (r() | 0) / 3, y: Math.fround(r() / 7) },
    col: pick([0, 5, -3]),
    items: Array.from({ length: int(0, 3) }, (_, i) => ({ sku: r(), qty: i, gift: i % 2 === 1 })),
    nums: Array.from({ length: int(0, 10) }, () => r() | 0),
    tags: Array.from({ length: int(0, 3) }, () => pick(['t', 'ü', ''])),
    matrix: Array.from({ length: int(0, 3) }, () => Array.from({ length: int(0, 4) }, () => int(-32768, 32767))),
  };
  if (r() % 2) v.note = 'n' + seed;
  if (r() % 2) v.origin = { x: seed, y: -1 };
  if (r() % 2) v.maybe = pick([1, -(2 ** 40), 9223372036854775807n]);
  return v;
}
// What JS expects back from C: integers that fit 2^53 come back as numbers.
const norm = (x) => {
  if (typeof x === 'bigint') return x >= -(2n ** 53n) && x <= 2n ** 53n ? Number(x) : x;
  if (x instanceof Uint8Array) return [...x];
  if (x instanceof OutOfBand) return { oob: x.index };
  if (Array.isArray(x)) return x.map(norm);
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, norm(v)]));
  return x;
};

describe('JS value -> C -> JS value', () => {
  test('300 generated values come back field by field', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const v = genEverything(seed);
      expect(norm(viaC('everything', v))).toEqual(norm(v));
    }
  });

  test('a Map is accepted as well as an object', () => {
    const items = [new Map([['sku', 1], ['qty', 2], ['gift', true]])];
    const back = viaC('order', new Map([['id', 5], ['customer', 'ann'], ['items', items]]));
    expect(back).toEqual({ id: 5, customer: 'ann', items: [{ sku: 1, qty: 2, gift: true }] });
  });

  test('Uint8Array, Buffer and ArrayBuffer travel as byte strings', () => {
    const ab = new Uint8Array([9, 8, 7]).buffer;
    const back = viaC('chunk', { key: 'k', data: ab, small: Buffer.from([1]), version: 2 });
    expect([...back.data]).toEqual([9, 8, 7]);
    expect([...back.small]).toEqual([1]);
  });

  test('integers beyond 2^53 round-trip as BigInt, exactly', () => {
    const v = genEverything(1);
    v.u64 = 2n ** 64n - 1n;
    v.i64 = -(2n ** 63n);
    const back = viaC('everything', v);
    expect(back.u64).toBe(2n ** 64n - 1n);
    expect(back.i64).toBe(-(2n ** 63n));
  });

  test('unknown keys from a newer sender are skipped', () => {
    const back = viaC('item', { sku: 1, qty: 2, gift: false, added_later: { deep: [1, 2, { x: 3 }] } });
    expect(back).toEqual({ sku: 1, qty: 2, gift: false });
  });

  test('null and undefined mean an absent optional field', () => {
    expect(viaC('note', { id: 1, text: null, where: undefined })).toEqual({ id: 1 });
    expect(viaC('note', { id: 1, text: 'hi' })).toEqual({ id: 1, text: 'hi' });
  });

  test('-0 arrives as 0: the one value the cbor-x route cannot keep', () => {
    // Documented in docs/serializer.md; C itself keeps -0.0 (test_schema).
    expect(Object.is(viaC('everything', { ...genEverything(1), f64: -0 }).f64, 0)).toBe(true);
  });

  test('encodeToArrayBuffer gives a standalone buffer of exact size', () => {
    const ab = encodeToArrayBuffer({ sku: 1, qty: 2, gift: true });
    expect(ab).toBeInstanceOf(ArrayBuffer);
    expect(decode(ab)).toEqual({ sku: 1, qty: 2, gift: true });
    expect(ab.byteLength).toBe(encode({ sku: 1, qty: 2, gift: true }).length);
  });
});

describe('errors raised by C for values sent from JS name the field', () => {
  const item = (o) => ({ sku: 1, qty: 1, gift: false, ...o });
  const order = (items, extra = {}) => ({ id: 1, customer: 'al', items, ...extra });
  const cases = [
    ['missing field', order([item(), { sku: 1, qty: 1 }]), 'EMISSING', 'order.items[1].gift: required field missing'],
    ['wrong type', order([item({ sku: 'x' })]), 'ETYPE', 'order.items[0].sku: expected uint32, got text string'],
    ['300 into uint8', order([item(), item(), item(), item({ qty: 300 })]), 'ERANGE', 'order.items[3].qty: 300 does not fit uint8'],
    ['-1 into uint32', order([item({ sku: -1 })]), 'ERANGE', 'order.items[0].sku: -1 does not fit uint32'],
    ['1.5 into an integer', order([item({ sku: 1.5 })]), 'ETYPE', 'order.items[0].sku: 1.5 is not an integer (uint32)'],
    ['array over its maximum', order([item(), item(), item(), item(), item()]), 'ERANGE', 'order.items: array of 5 elements is longer than its maximum of 4'],
    ['not a map', [1, 2], 'ETYPE', 'order: expected map, got array'],
    ['bigint beyond uint64 target', order([], { id: -5n }), 'ERANGE', 'order.id: -5 does not fit uint64'],
  ];
  test.each(cases)('%s', (_, value, code, message) => {
    let err;
    try {
      viaC('order', value);
    } catch (e) {
      err = e;
    }
    expect(err).toBeDefined();
    expect(err.code).toBe(code);
    expect(err.message).toBe(message);
    // The module still works after the error.
    expect(viaC('item', item())).toEqual(item());
  });

  test('invalid UTF-8 in a text field', () => {
    // {"id": 1, "customer": <text c3 28>, "items": []}, built by hand since
    // JS strings cannot hold invalid UTF-8.
    const bytes = Uint8Array.from(Buffer.from('a36269640168637573746f6d657262c328656974656d7380', 'hex'));
    const rc = withBytes(bytes, (p, n) => m._fy_t_roundtrip(SCHEMA.order, p, n));
    expect(cstr(m._fy_t_errname(rc))).toBe('EINVALID');
    expect(cstr(m._fy_t_err_message())).toBe('order.customer: invalid UTF-8 in the text string at byte 14');
  });

  test('JS decode rejects malformed input', () => {
    expect(() => decode(Uint8Array.from([0x83, 0x01]))).toThrow();
    expect(() => decode('not bytes')).toThrow(/expected Uint8Array or ArrayBuffer/);
  });
});
