// The cache demo (examples/cache, issue 10): the C cache and origins on
// their own (single flight, errors and downs reach every waiter, LRU order
// under the budget, loans and copies), and `npm run demo` end to end for
// 2 s, checking every field of its JSON report.
import path from 'node:path';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { jest } from '@jest/globals';
import { System, transfer, release, isBorrowed } from '../../glue/index.mjs';
import { verifyChunk, chunkSize, makeChunk } from '../../examples/cache/chunk.mjs';
import { root, buildDir, wasmDir, mustExist } from './paths.mjs';

jest.setTimeout(120000);

const MiB = 2 ** 20;
let sys;

beforeAll(async () => {
  sys = await System.start({ module: mustExist(path.join(wasmDir, 'cache.wasm')) });
});
afterAll(async () => {
  await sys?.shutdown();
});

async function makeCache({ budget = 256 * MiB, origins = 2, latency = 5 } = {}) {
  const os = await Promise.all(
    Array.from({ length: origins }, () => sys.spawn('origin', { init: { latency_ms: latency } })),
  );
  const cache = await sys.spawn('cache', { init: { budget, origins: os.map((o) => o.id) } });
  return { cache, origins: os };
}

test('an origin builds the chunk of a key that any reader can verify', async () => {
  const o = await sys.spawn('origin', { init: { latency_ms: 1 } });
  const r = await o.call('fetch', { key: 'k7' });
  expect(r.size).toBe(chunkSize('k7'));
  expect(verifyChunk(r.data, 'k7')).toBe(true);
  expect(verifyChunk(r.data, 'k8')).toBe(false);
  r.data[12345] ^= 1;
  expect(verifyChunk(r.data, 'k7')).toBe(false);
  // Built in place: the chunk went wasm -> blob in 64 KiB pieces; wasm
  // memory stays far smaller than the chunk would need twice.
  const s = await o.stats();
  expect(s.copies.blobWrite).toBe(chunkSize('k7'));
  await o.stop();
});

test('concurrent misses of one key share one fill; hits are loans, copies on request', async () => {
  const { cache } = await makeCache();
  const replies = await Promise.all([
    cache.call('get', { key: 'k1', copy: true }),
    cache.call('get', { key: 'k1', copy: true }),
    cache.call('get', { key: 'k1', copy: true }),
  ]);
  for (const r of replies) {
    expect(r.hit).toBe(false);
    expect(r.copied).toBe(true);
    expect(verifyChunk(r.data, 'k1')).toBe(true);
    expect(isBorrowed(r.data)).toBe(false);
  }
  let st = await cache.call('stats', null);
  expect(st).toMatchObject({ fills: 1, misses: 3, hits: 0, entries: 1, copies: 3, copied_bytes: 3 * chunkSize('k1') });

  // A hit is lent: zero copies. A second get waits until it is home.
  const before = await cache.stats();
  const a = await cache.call('get', { key: 'k1' });
  expect(a).toMatchObject({ hit: true, copied: false, waited: false });
  expect(isBorrowed(a.data)).toBe(true);
  let second = null;
  const b = cache.call('get', { key: 'k1' }).then((r) => (second = r));
  expect((await cache.call('stats', null)).waiting).toBe(1);
  expect(second).toBe(null);
  release(a.data);
  await b;
  expect(second).toMatchObject({ hit: true, waited: true, copied: false });
  expect(verifyChunk(second.data, 'k1')).toBe(true);
  release(second.data);
  st = await cache.call('drain', null);
  expect(st.loans_out).toBe(0);
  const after = await cache.stats();
  expect(after.copies.blobDup - before.copies.blobDup).toBe(0);
  expect(after.loans.lent - before.loans.lent).toBe(2);
  expect(after.loans.out).toBe(0);
});

test('a failed fill answers every waiter with the error, and the cache goes on', async () => {
  const { cache } = await makeCache();
  const all = await Promise.allSettled([1, 2, 3].map(() => cache.call('get', { key: 'fail:x' })));
  for (const r of all) {
    expect(r.status).toBe('rejected');
    expect(r.reason.code).toBe('ENOTFOUND');
    expect(r.reason.message).toMatch(/fill of fail:x failed: origin has no such chunk/);
  }
  const st = await cache.call('stats', null);
  expect(st).toMatchObject({ fills: 1, fill_errors: 1, entries: 0 });
  const ok = await cache.call('get', { key: 'k2' });
  expect(verifyChunk(ok.data, 'k2')).toBe(true);
  release(ok.data);
});

test('an origin that goes down answers its waiters EDOWN; fills move to the others', async () => {
  const { cache, origins } = await makeCache({ origins: 2 });
  // The first fill goes to origins[0] (round robin): it traps on "crash:".
  const all = await Promise.allSettled([1, 2].map(() => cache.call('get', { key: 'crash:a' })));
  for (const r of all) {
    expect(r.status).toBe('rejected');
    expect(r.reason.code).toBe('EDOWN');
  }
  await origins[0].down;
  const st = await cache.call('stats', null);
  expect(st.origins_up).toBe(1);
  const ok = await Promise.all(['k3', 'k4', 'k5'].map((key) => cache.call('get', { key })));
  ok.forEach((r, i) => {
    expect(verifyChunk(r.data, `k${i + 3}`)).toBe(true);
    release(r.data);
  });
});

test('LRU eviction keeps the budget; chunks out on loan are not evicted', async () => {
  // Three 2 MiB chunks put by the app, budget 5 MiB: one must go.
  const { cache } = await makeCache({ budget: 5 * MiB });
  const put = (key) => cache.call('put', { key, data: transfer(new Uint8Array(2 * MiB).fill(key.length)) });
  await put('a');
  await put('bb');
  // Touch "a" so that "bb" is the least recently used.
  release((await cache.call('get', { key: 'a' })).data);
  await cache.call('drain', null);
  await put('ccc');
  let st = await cache.call('stats', null);
  expect(st).toMatchObject({ entries: 2, bytes: 4 * MiB, evictions: 1 });
  expect((await cache.call('get', { key: 'a' })).hit).toBe(true); // still there, and now lent
  // "bb" was evicted: getting it is a miss (filled from an origin).
  expect((await cache.call('get', { key: 'bb' }).catch((e) => e)).hit).toBe(false);
  st = await cache.call('stats', null);
  // "a" is lent, so it could not be evicted for "bb"; "ccc" was.
  expect(st.evictions).toBe(2);
  await expect(put('a')).rejects.toMatchObject({ code: 'EBUSY' });
});

test('npm run demo: 2 s of both runs, every field of the JSON report', () => {
  const json = path.join(buildDir, 'cache-demo-test.json');
  fs.rmSync(json, { force: true });
  const r = spawnSync(
    process.execPath,
    ['examples/cache/demo.mjs', '--seconds', '2', '--clients', '2', '--budget-mb', '128', '--json', json],
    { cwd: root, encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/chunks\/s/);
  const rep = JSON.parse(fs.readFileSync(json, 'utf8'));
  expect(rep.config).toMatchObject({ seconds: 2, clients: 2, mode: 'loan', budgetMb: 128, verify: true });
  expect(Object.keys(rep.env).sort()).toEqual(['date', 'node', 'platform']);
  for (const side of [rep.ferry, rep.baseline]) {
    expect(side.seconds).toBeGreaterThanOrEqual(2);
    expect(side.chunks).toBeGreaterThan(0);
    expect(side.chunksPerSec).toBeCloseTo(side.chunks / side.seconds, 6);
    expect(side.gbPerSec).toBeCloseTo(side.bytes / side.seconds / 1e9, 6);
    expect(side.bytes).toBeGreaterThanOrEqual(side.chunks * MiB);
    expect(side.hitRatio).toBeGreaterThanOrEqual(0);
    expect(side.hitRatio).toBeLessThanOrEqual(1);
    const { hit, miss } = side.latencyMs;
    expect(hit.n + miss.n).toBe(side.chunks);
    expect(hit.n / side.chunks).toBeCloseTo(side.hitRatio, 6);
    for (const l of [hit, miss])
      if (l.n) {
        expect(l.p50).toBeGreaterThan(0);
        expect(l.p99).toBeGreaterThanOrEqual(l.p50);
      }
    expect(miss.n).toBeGreaterThan(0); // the cache starts empty
    expect(side.verified).toBe(side.chunks);
    expect(side.failedVerification).toBe(0);
    expect(side.failedKeys).toEqual([]);
    expect(side.cache.misses + side.cache.hits).toBeGreaterThanOrEqual(side.chunks);
    expect(side.cache.fills).toBeGreaterThan(0);
    expect(side.cache.bytes).toBeLessThanOrEqual(128 * MiB);
  }
  // ferry in loan mode: every chunk was a loan, all came home, no copies.
  const f = rep.ferry;
  expect(f.released).toBe(f.chunks);
  expect(f.cache.loans).toBe(f.chunks);
  expect(f.cache.copies).toBe(0);
  expect(f.cache.copied_bytes).toBe(0);
  expect(f.cache.loans_out).toBe(0);
  expect(f.cache.waiting).toBe(0);
  expect(f.cache.origins_up).toBe(3);
  expect(f.ferry.chunkBytesCopied).toBe(0);
  expect(f.ferry.copies.blobDup).toBe(0);
  expect(f.ferry.copies.blobRead).toBe(0);
  expect(f.ferry.loansReturned).toBe(true);
  expect(f.ferry.loans.out).toBe(0);
  expect(f.ferry.loans.lent).toBe(f.chunks);
  expect(f.ferry.loans.returned).toBe(f.chunks);
  expect(f.ferry.loans.lost).toBe(0);
  // Only small envelopes crossed the cache's wasm memory.
  expect(f.ferry.copiedBytes).toBe(f.ferry.copies.envelopeIn + f.ferry.copies.envelopeOut);
  expect(f.ferry.copiedBytes).toBeLessThan(f.chunks * 1000);
  // The origins wrote each filled chunk once into its blob.
  expect(f.ferry.originsBlobWrite).toBeGreaterThanOrEqual(f.cache.fills * MiB);
  // The baseline was measured, and the ratios follow from the runs.
  expect(rep.baseline.released).toBe(0);
  expect(rep.ratio.throughput).toBeCloseTo(f.chunksPerSec / rep.baseline.chunksPerSec, 6);
  if (f.latencyMs.hit.n && rep.baseline.latencyMs.hit.n)
    expect(rep.ratio.hitP50).toBeCloseTo(rep.baseline.latencyMs.hit.p50 / f.latencyMs.hit.p50, 6);
  expect(rep.verification).toEqual({
    chunks: f.chunks + rep.baseline.chunks,
    verified: f.chunks + rep.baseline.chunks,
    failed: 0,
    allVerified: true,
  });
});

test('npm run demo exits 1 naming the chunks when one fails verification, 2 on a bad option', () => {
  const bad = spawnSync(process.execPath, ['examples/cache/demo.mjs', '--mode', 'lend'], { cwd: root, encoding: 'utf8' });
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/--mode wants loan or copy, got "lend"/);
  // A chunk corrupted on its way: FERRY_DEMO_CORRUPT makes client 0 flip a
  // bit of the first chunk it gets.
  const r = spawnSync(process.execPath, ['examples/cache/demo.mjs', '--seconds', '0.5', '--clients', '1'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, FERRY_DEMO_CORRUPT: '1' },
  });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/FAILED: \d+ chunk\(s\) did not verify \(k\d+/);
});
