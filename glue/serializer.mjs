// serializer.mjs - the JavaScript twin of ferry's struct serializer.
//
// Encodes JS values to the CBOR that ferry's C schema decoder reads, and
// decodes what the C encoder writes, for the main thread and for tests.
// The CBOR itself comes from cbor-x (the fastest maintained JS CBOR
// library), configured for plain, interoperable CBOR: no records
// extension, no tag 259 for Maps, no tag 64 for Uint8Arrays, no packing.
//
// Mapping (docs/serializer.md has the full table):
//   object, Map            -> map (string keys for struct fields)
//   integer number         -> integer (preferred head) below 2^32; cbor-x
//                             writes larger ones as float64, which the C
//                             decoder takes as the exact integer up to 2^53
//   bigint                 -> integer (throws RangeError beyond 64 bits)
//   other number           -> float64 (the C side narrows to float32 fields)
//   string                 -> text
//   Uint8Array, ArrayBuffer, Buffer, DataView -> byte string
//   OutOfBand(i)           -> tag 41999(i): a blob or other transferable
//   null / undefined       -> null / undefined (an absent optional field)
// Decoding gives integers beyond 2^53 as BigInt, byte strings as Uint8Array
// (a Buffer in Node), maps as plain objects.
//
// Known limits of the cbor-x route: -0 is encoded as the integer 0 (JS
// cannot tell cbor-x otherwise), and indefinite-length strings, which C
// never writes, are not decoded.
import { Encoder, addExtension } from 'cbor-x';

/** Tag for out-of-band items; must match FERRY_TAG_OOB in ferry/schema.h. */
export const TAG_OOB = 41999;

/** An index into a message's list of transferables (blobs). */
export class OutOfBand {
  constructor(index) {
    if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) {
      throw new RangeError(`OutOfBand index must be a uint32, got ${index}`);
    }
    this.index = index;
  }
}

addExtension({
  Class: OutOfBand,
  tag: TAG_OOB,
  encode(value, encodeFn) {
    return encodeFn(value.index);
  },
  decode(index) {
    return new OutOfBand(index);
  },
});

const options = {
  useRecords: false,
  mapsAsObjects: true,
  useTag259ForMaps: false,
  tagUint8Array: false,
  variableMapSize: true, // a map's head is its exact size, as C writes it
  largeBigIntToFloat: false,
  pack: false,
  structuredClone: false,
  bundleStrings: false,
};

const codec = new Encoder(options);

function toBytes(input) {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new TypeError(`decode: expected Uint8Array or ArrayBuffer, got ${Object.prototype.toString.call(input)}`);
}

/**
 * Encodes a value. The result may share memory with the encoder's reusable
 * buffer: copy it (or use encodeToArrayBuffer) before transferring.
 * @returns {Uint8Array}
 */
export function encode(value) {
  return codec.encode(value);
}

/** Encodes a value into a fresh ArrayBuffer of exactly its size, which can
 * be put in a postMessage transfer list. */
export function encodeToArrayBuffer(value) {
  const bytes = codec.encode(value);
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}

// cbor-x gives every integer with an 8-byte head as a BigInt, even one
// that fits a JS number exactly (C writes -6400000000 that way). ferry's
// rule is "BigInt only beyond 2^53", so such values are turned back into
// numbers. Only inputs that contain an 8-byte integer head byte (0x1b or
// 0x3b) anywhere can hold one, which a native indexOf finds cheaply in a
// small input; the walk is skipped for all others. A large input is walked
// instead: its size is mostly in strings (a 20 MB byte string of zeros
// costs two full scans, ~25 ms here, but one step of the walk).
const SAFE = 2n ** 53n;
function narrowBigInts(v) {
  if (typeof v === 'bigint') return v >= -SAFE && v <= SAFE ? Number(v) : v;
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || v instanceof OutOfBand) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = narrowBigInts(v[i]);
    return v;
  }
  for (const k in v) v[k] = narrowBigInts(v[k]);
  return v;
}

/** Decodes exactly one CBOR item; throws on malformed input. */
export function decode(input) {
  const bytes = toBytes(input);
  const value = codec.decode(bytes);
  if (bytes.length > 65536) return narrowBigInts(value);
  return bytes.indexOf(0x1b) >= 0 || bytes.indexOf(0x3b) >= 0 ? narrowBigInts(value) : value;
}
