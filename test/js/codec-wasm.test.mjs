// The wasm build of the C codec, loaded in Node and driven from JavaScript:
// every RFC 8949 Appendix A vector round-trips, every malformed input is
// rejected with the same code and offset as natively, and the instance keeps
// working after errors.
import fs from 'node:fs';
import path from 'node:path';
import { loadCodec, CborError } from '../../glue/codec-wasm.mjs';
import { wasmDir, readJson, mustExist, hexToBytes, bytesToHex } from './paths.mjs';

const appendix = readJson('test/data/appendix-a.json').vectors;
const malformed = readJson('test/data/malformed.json').cases.filter((c) => !c.limits);
let codec;

beforeAll(async () => {
  const { default: factory } = await import(mustExist(path.join(wasmDir, 'ferry-codec.mjs')));
  const module = await WebAssembly.compile(fs.readFileSync(mustExist(path.join(wasmDir, 'ferry-codec.wasm'))));
  codec = await loadCodec({ factory, module });
});

describe('Appendix A through wasm', () => {
  test.each(appendix.map((v) => [v.hex, v]))('%s', (hex, v) => {
    const bytes = hexToBytes(hex);
    expect(() => codec.check(bytes)).not.toThrow();
    expect(codec.diag(bytes)).toBe(v.diag);
    expect(bytesToHex(codec.recode(bytes))).toBe(v.recode);
    // Recoding is idempotent: the result is already preferred serialization.
    expect(bytesToHex(codec.recode(codec.recode(bytes)))).toBe(v.recode);
  });
});

describe('malformed input through wasm', () => {
  test.each(malformed.map((c) => [c.hex, c]))('%s is rejected', (hex, c) => {
    let err;
    try {
      codec.check(hexToBytes(hex));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CborError);
    expect(err.code).toBe(c.code);
    expect(err.offset).toBe(c.offset);
    expect(err.message).toMatch(new RegExp(`^error at byte ${c.offset}: .+`));
    // The instance is still healthy afterwards.
    expect(codec.diag(hexToBytes('8301820203820405'))).toBe('[1, [2, 3], [4, 5]]');
  });
});

test('a million nested arrays is a clean error in wasm too', () => {
  const deep = new Uint8Array(1_000_001).fill(0x81);
  deep[deep.length - 1] = 0;
  expect(() => codec.check(deep)).toThrow(/error at byte 1024: nesting deeper than 1024 levels/);
  expect(() => codec.recode(deep)).toThrow(CborError);
});

test('a 20 MB byte string passes through diag-free recode intact', () => {
  const n = 20 * 1024 * 1024;
  const item = new Uint8Array(n + 5);
  item.set([0x5a, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  for (let i = 0; i < n; i += 4096) item[5 + i] = i & 255;
  const out = codec.recode(item);
  expect(out.length).toBe(item.length);
  expect(Buffer.compare(Buffer.from(out), Buffer.from(item))).toBe(0);
});

test('loadCodec refuses bad arguments clearly', async () => {
  await expect(loadCodec({ factory: null, module: null })).rejects.toThrow(/factory/);
  await expect(loadCodec({ factory: () => {}, module: {} })).rejects.toThrow(/WebAssembly.Module/);
});
