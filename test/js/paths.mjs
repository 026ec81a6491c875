// Where the tests find build outputs and test data. ./configure creates
// build/native and build/wasm; FERRY_BUILD_DIR overrides the parent folder.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const buildDir = process.env.FERRY_BUILD_DIR || path.join(root, 'build');
export const nativeDir = path.join(buildDir, 'native');
export const wasmDir = path.join(buildDir, 'wasm');

export function readJson(rel) {
  return JSON.parse(fs.readFileSync(path.join(root, rel), 'utf8'));
}

export function mustExist(file) {
  if (!fs.existsSync(file)) {
    throw new Error(`${file} is missing: run ./configure (or npm test) to build it`);
  }
  return file;
}

export const hexToBytes = (hex) => Uint8Array.from(hex.match(/../g) || [], (b) => parseInt(b, 16));
export const bytesToHex = (b) => Buffer.from(b).toString('hex');

/** What promise p rejects with; fails the test when it resolves. */
export async function rejection(p) {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}
