// How messages travel between the host and the workers, with real workers
// and wasm: packed batches, buffers reused for replies (exact size and
// {e, n}), one timer for every C-side wait, the worker's module graph.
import fs from 'node:fs';
import path from 'node:path';
import { jest } from '@jest/globals';
import { System, transfer } from '../../glue/index.mjs';
import { root, wasmDir, mustExist } from './paths.mjs';

jest.setTimeout(60000);

let sys;
beforeAll(async () => {
  sys = await System.start({ module: mustExist(path.join(wasmDir, 'test-actors.wasm')) });
});
afterAll(async () => {
  await sys?.shutdown();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pattern = (n, seed) => {
  const u8 = new Uint8Array(n);
  for (let i = 0; i < n; i++) u8[i] = (i * 31 + seed) & 255;
  return u8;
};
const same = (a, b) => a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;

test('calls of one turn, some with blobs, some big, all answered with their own value', async () => {
  const echo = await sys.spawn('echo');
  const calls = [];
  const sent = [];
  for (let i = 0; i < 300; i++) {
    let v;
    if (i % 7 === 3) v = { i, data: transfer(pattern(100 + i, i)) };
    else if (i % 50 === 10) v = { i, big: pattern(20000 + i, i) };
    else v = { i, s: 'x'.repeat(i % 40) };
    sent.push(i % 7 === 3 ? pattern(100 + i, i) : v);
    calls.push(echo.call('v', v));
  }
  const replies = await Promise.all(calls);
  replies.forEach((r, i) => {
    expect(r.i).toBe(i);
    if (i % 7 === 3) expect(same(r.data, sent[i])).toBe(true);
    else if (i % 50 === 10) expect(same(r.big, sent[i].big)).toBe(true);
    else expect(r.s).toBe(sent[i].s);
  });
  await echo.stop();
});

test('replies reuse the call buffers: values of the same and of other sizes come back right', async () => {
  const echo = await sys.spawn('echo');
  for (let i = 0; i < 2000; i++) {
    const v = i % 3 === 0 ? i : i % 3 === 1 ? { n: i, t: 'abc'.repeat(i % 5) } : [i, -i, i / 2];
    expect(await echo.call('v', v)).toEqual(v);
  }
  await echo.stop();
});

test('big replies written into the call\'s buffer (exact, or {e, n}) or a fresh one stay intact', async () => {
  const blobs = await sys.spawn('blobs');
  // "bytes" answers with the call's size: the reply takes the call's buffer.
  for (const [n, seed] of [[200000, 1], [150000, 2], [20 * 1024 * 1024, 3], [70000, 4]]) {
    const data = pattern(n, seed);
    const r = await blobs.call('bytes', { data });
    expect(r.data.length).toBe(n);
    expect(same(r.data, data)).toBe(true);
  }
  // "head" answers smaller: 3/4 of the call fits its buffer with slack
  // ({e, n}, the tail zeroed); 1/4 does not (a fresh buffer).
  for (const [n, len, seed] of [[200000, 150000, 5], [200000, 50000, 6], [300000, 299990, 7], [100000, 0, 8]]) {
    const data = pattern(n, seed);
    const r = await blobs.call('head', { data, len });
    expect(r.data.length).toBe(len);
    expect(same(r.data, data.subarray(0, len))).toBe(true);
  }
  await blobs.stop();
});

test('a C-side wait timer is re-armed for a shorter wait after a long one', async () => {
  const w = await sys.spawn('waiter');
  sys.handle('never', async () => {
    await sleep(30);
    return 'soon';
  });
  // A call with a 5 s timeout, answered after 30 ms: its timer stays armed.
  expect(await w.call('call_host', 5000)).toEqual({ rc: 0 });
  const t = performance.now();
  expect(await w.call('recv', 40)).toEqual({ rc: -13 });
  const ms = performance.now() - t;
  expect(ms).toBeGreaterThanOrEqual(35);
  expect(ms).toBeLessThan(2000);
  sys.handle('never', () => new Promise(() => {}));
  await w.stop();
});

test('ping-pong between C actors with call timeouts: no timer per call, all rounds done', async () => {
  const [ping, pong] = await Promise.all([sys.spawn('ping'), sys.spawn('pong')]);
  expect(await ping.call('run', { peer: pong.id, n: 5000 })).toEqual({ rounds: 5000 });
  await Promise.all([ping.stop(), pong.stop()]);
});

test('a stream of sends bigger than the mailbox arrives whole: batches are drained one by one', async () => {
  const counter = await sys.spawn('counter', { mailbox: { messages: 2000 } });
  const errors = [];
  counter.onerror = (e) => errors.push(e);
  // One turn: 5000 sends leave in batches of at most 1024, each drained
  // before the next arrives, so none is bounced.
  for (let i = 0; i < 5000; i++) counter.send('n', i);
  // A bounce would have been posted before the reply to "get", on the same
  // port: none arrived by the time it resolves.
  expect(await counter.call('get')).toEqual({ count: 5000, out_of_order: 0 });
  expect(errors).toEqual([]);
  await counter.stop();
});

test('the worker sources import only each other (browsers apply no import map in workers)', () => {
  const glue = path.join(root, 'glue');
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = fs.readFileSync(file, 'utf8');
    for (const m of src.matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)) {
      const spec = m[1];
      expect(spec.startsWith('./') || spec.startsWith('../') || spec.startsWith('node:')).toBe(true);
      if (!spec.startsWith('node:')) visit(path.resolve(path.dirname(file), spec));
    }
  };
  visit(path.join(glue, 'worker', 'worker.mjs'));
  // The worker side and the wire layer only: never the host's encoder or
  // cbor-x (serializer.mjs), which a worker does not need.
  expect([...seen].map((f) => path.relative(glue, f)).sort()).toEqual([
    'platform.mjs',
    'wire/deadlines.mjs', 'wire/errors.mjs', 'wire/framing.mjs', 'wire/head.mjs', 'wire/protocol.mjs', 'wire/writer.mjs',
    'worker/abi.mjs', 'worker/actor.mjs', 'worker/blobs.mjs', 'worker/imports.mjs', 'worker/mailbox.mjs',
    'worker/ports.mjs', 'worker/wasi.mjs', 'worker/worker.mjs',
  ]);
});

test('the worker script is one file, made from those sources and up to date', async () => {
  const { bundle } = await import('../../glue/make-worker-bundle.mjs');
  const file = fs.readFileSync(path.join(root, 'glue', 'worker.mjs'), 'utf8');
  // Stale means someone changed glue/worker or glue/wire without running
  // node glue/make-worker-bundle.mjs (./configure runs it).
  expect(file === bundle()).toBe(true);
  // One file: no static imports at all, only Node's modules loaded lazily.
  expect(file).not.toMatch(/^\s*import\s/m);
  for (const m of file.matchAll(/await import\((['"])([^'"]+)\1\)/g)) expect(m[2]).toMatch(/^node:/);
});
