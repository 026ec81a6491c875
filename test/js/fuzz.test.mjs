// The JS fuzz targets (test/fuzz/js), run briefly: each from its committed
// corpus for a few seconds in a process of its own (the engine measures V8
// coverage of that process). `npm run fuzz` runs them, and the C targets,
// for as long as asked.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { root, wasmDir, mustExist } from './paths.mjs';
import { itemHeads, mutate, Rng, Coverage } from '../fuzz/js/engine.mjs';

jest.setTimeout(120000);

function fuzz(target, seconds) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ferry-${target}-`));
  try {
    const r = spawnSync(process.execPath, [path.join(root, 'test/fuzz/js/fuzz.mjs'), '--target', target,
      '--seconds', String(seconds), '--seeds', path.join(root, `test/fuzz/corpus-${target.replace('_', '-')}`),
      '--corpus', path.join(dir, 'corpus'), '--artifacts', path.join(dir, 'artifacts'), '--seed', '1', '--quiet'],
    { encoding: 'utf8', timeout: (seconds + 60) * 1000 });
    const line = r.stdout.trim().split('\n').pop();
    if (!line) throw new Error(`fuzz.mjs printed nothing (exit ${r.status}): ${r.stderr.slice(-2000)}`);
    return JSON.parse(line);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('the engine', () => {
  test('mutations are deterministic for a seed and stay within the length bound', () => {
    const input = Uint8Array.from([0x84, 1, 0x61, 0x78, 5, 0xa1, 0x61, 0x6b, 0x07]);
    const a = new Rng(7);
    const b = new Rng(7);
    const outA = [];
    const outB = [];
    for (let i = 0; i < 200; i++) {
      outA.push(Buffer.from(mutate(a, input, input, 32)).toString('hex'));
      outB.push(Buffer.from(mutate(b, input, input, 32)).toString('hex'));
    }
    expect(outA).toEqual(outB);
    expect(new Set(outA).size).toBeGreaterThan(150);
    expect(outA.every((h) => h.length <= 64)).toBe(true);
  });

  test('itemHeads walks CBOR item heads, strings skipped', () => {
    expect(itemHeads(Uint8Array.from([0x84, 1, 0x61, 0x78, 5, 0xa1, 0x61, 0x6b, 0x07]))).toEqual([0, 1, 2, 4, 5, 6, 8]);
  });

  test('coverage features: a block counts as run by the innermost range V8 reports around it', () => {
    const cov = new Coverage(() => true);
    const fn = (ranges) => [{ url: 'u', functions: [{ ranges }] }];
    // First run: the function ran, its block [10, 20) did not.
    const f1 = cov.features(fn([{ startOffset: 0, endOffset: 100, count: 1 }, { startOffset: 10, endOffset: 20, count: 0 }]));
    expect(cov.merge(f1)).toBe(1);
    // Second run: V8 leaves the block out (same count as the function): it ran.
    const f2 = cov.features(fn([{ startOffset: 0, endOffset: 100, count: 2 }]));
    expect(cov.hasNew(f2)).toBe(true);
    expect(cov.merge(f2)).toBe(1);
    expect(cov.blocks).toBe(2);
  });
});

describe('JS fuzz targets, a few seconds each', () => {
  test('js_envelope: the envelope readers, framing and host decoding hold their properties', () => {
    const r = fuzz('js_envelope', 5);
    expect(r.findings).toEqual([]);
    expect(r.executions).toBeGreaterThan(500);
    expect(r.coverage.blocks).toBeGreaterThan(150);
  });

  test('js_port: an actor worker fed garbage on its ports stays up and answers', () => {
    mustExist(path.join(wasmDir, 'test-actors.wasm'));
    const r = fuzz('js_port', 8);
    expect(r.findings).toEqual([]);
    expect(r.executions).toBeGreaterThan(500);
    expect(r.coverage.blocks).toBeGreaterThan(150);
  });
});
