// chunk.mjs - the JavaScript twin of chunk.h: a key names a chunk whose
// size and bytes follow from the key's FNV-1a hash (xorshift32 words,
// little-endian), so any reader can regenerate and check it.

/** 32-bit FNV-1a of the key's UTF-8 bytes (keys here are ASCII). */
export function chunkHash(key) {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i) & 0xff;
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h >>> 0;
}

/** Size in bytes: 1 to 20 MiB, whole MiB. */
export function chunkSize(key) {
  return (1 + ((chunkHash(key) >>> 8) % 20)) << 20;
}

function seed(key) {
  const h = chunkHash(key);
  return h === 0 ? 0x9e3779b9 : h;
}

/** Makes the chunk (the JS origins of the baseline use it). */
export function makeChunk(key) {
  const words = new Uint32Array(chunkSize(key) / 4);
  let x = seed(key);
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return new Uint8Array(words.buffer);
}

/**
 * Whether bytes are exactly the chunk of key: its size, and every word.
 * Reads the whole chunk (this is what the verifiers spend their time on).
 */
export function verifyChunk(bytes, key) {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength !== chunkSize(key)) return false;
  if (bytes.byteOffset % 4 !== 0) return false;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  let x = seed(key) | 0;
  let bad = 0;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bad |= words[i] ^ x;
  }
  return bad === 0;
}
