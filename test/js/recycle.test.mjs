// recycle(): a caller gives a reply's buffer back, and the host writes its
// next big envelopes into it (glue/host/pool.mjs), with real workers and
// the wasm test actors: the bytes stay right, the caller's views die at
// once, misuse is EINVAL and changes nothing, the pool stays bounded, and
// a connected thread has a pool of its own.
import path from 'node:path';
import { jest } from '@jest/globals';
import { System, recycle, release, isBorrowed, transfer, FerryError } from '../../glue/index.mjs';
import { poolStats, emptyPool, POOL_BUFFERS, POOL_BYTES } from '../../glue/host/pool.mjs';
import { wasmDir, mustExist } from './paths.mjs';

jest.setTimeout(60000);

const MiB = 1 << 20;
let sys;
beforeAll(async () => {
  sys = await System.start({ module: mustExist(path.join(wasmDir, 'test-actors.wasm')) });
});
afterAll(async () => {
  await sys?.shutdown();
  emptyPool();
});

// n bytes that differ from every other seed's in every byte (a stale byte
// from an earlier envelope shows), with the offset mixed in here and there.
const pattern = (n, seed) => {
  const u8 = new Uint8Array(n).fill(seed & 255);
  for (let i = 0; i < n; i += 4093) u8[i] = (i * 7 + seed) & 255;
  return u8;
};
const same = (a, b) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

/** Records what the host posts to actor ref's worker, item by item:
 * 'e' ({e, n}: with its sizes, and whether its tail was zero when
 * posted), 'plain' (an envelope of its own, with its size), 'ctl', or
 * 'packed'. Also what the worker posts back (replies). */
function watch(ref) {
  const worker = sys._worker(ref.id);
  const sent = [];
  const back = [];
  const form = (it) => {
    if (it instanceof ArrayBuffer) return { plain: it.byteLength };
    if (it && it.e instanceof ArrayBuffer) {
      const tail = new Uint8Array(it.e, it.n);
      return { e: it.e.byteLength, n: it.n, tailZero: tail.every((b) => b === 0) };
    }
    if (it && it.ctl) return { ctl: it.ctl };
    if (it && it.p) return { packed: true };
    return { other: true };
  };
  const forms = (data) => (data && Array.isArray(data.b) ? data.b.map(form) : [form(data)]);
  const post = worker.postMessage;
  worker.postMessage = function (data, xfer) {
    sent.push(forms(data));
    return post.call(this, data, xfer);
  };
  const onBack = (data) => back.push(...forms(data));
  worker.on('message', onBack);
  return {
    sent,
    back,
    big: () => sent.flat().filter((f) => (f.e ?? f.plain ?? 0) >= MiB),
    stop() {
      worker.postMessage = post;
      worker.off('message', onBack);
    },
  };
}

function expectEinval(fn, message) {
  let err = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FerryError);
  expect(err.code).toBe('EINVAL');
  if (message instanceof RegExp) expect(err.message).toMatch(message);
  else if (message) expect(err.message).toBe(message);
}

test('a loop of 20 MiB bytes round trips that recycles its replies: right bytes every time, requests written into the recycled buffers', async () => {
  emptyPool();
  const blobs = await sys.spawn('blobs');
  const w = watch(blobs);
  const before = (await blobs.stats()).recycle;
  const rounds = 8;
  for (let i = 0; i < rounds; i++) {
    const data = pattern(20 * MiB, i + 1);
    const r = await blobs.call('bytes', { data });
    expect(same(r.data, data)).toBe(true);
    recycle(r.data);
    expect(r.data.byteLength).toBe(0);
  }
  const after = (await blobs.stats()).recycle;
  w.stop();
  expect(after.recycled - before.recycled).toBe(rounds);
  // The first request finds the pool empty; a request that grew by a byte
  // (its corr's head) finds only smaller buffers once.
  const reused = after.reused - before.reused;
  expect(reused).toBeGreaterThanOrEqual(rounds - 2);
  expect(after.pooled).toBeLessThanOrEqual(2);
  // Each reused one left as {e, n} (or plain, when it fit exactly), its
  // tail zeroed.
  const big = w.big();
  expect(big.length).toBe(rounds);
  expect(big.filter((f) => f.e).length + big.filter((f) => f.plain).length).toBe(rounds);
  expect(big.filter((f) => f.e).every((f) => f.tailZero && f.e >= f.n && f.e <= 2 * f.n)).toBe(true);
  await blobs.stop();
});

test('a recycled buffer carries the next request with its tail zeroed, and the worker answers in it', async () => {
  emptyPool();
  const blobs = await sys.spawn('blobs');
  const w = watch(blobs);
  const own = new Uint8Array(3 * MiB).fill(0xaa);
  recycle(own);
  const data = pattern(2 * MiB, 9);
  const r = await blobs.call('bytes', { data });
  w.stop();
  expect(same(r.data, data)).toBe(true);
  const [req] = w.big();
  expect(req).toMatchObject({ e: 3 * MiB, tailZero: true });
  expect(req.n).toBeGreaterThan(2 * MiB);
  // The reply came back in the same 3 MiB buffer ({e, n}), not a fresh one.
  const reply = w.back.find((f) => (f.e ?? f.plain ?? 0) >= MiB);
  expect(reply).toMatchObject({ e: 3 * MiB, tailZero: true });
  expect(r.data.buffer.byteLength).toBe(3 * MiB);
  await blobs.stop();
});

test('recycle() detaches at once: every view of the buffer is empty from then on', async () => {
  const blobs = await sys.spawn('blobs');
  const r = await blobs.call('bytes', { data: pattern(2 * MiB, 3) });
  const other = new Uint8Array(r.data.buffer, 0, 16); // the envelope's head
  const dv = new DataView(r.data.buffer);
  recycle(r.data);
  expect(r.data.length).toBe(0);
  expect(r.data[0]).toBeUndefined();
  expect(r.data.buffer.byteLength).toBe(0);
  expect(other.length).toBe(0);
  expect(() => dv.getUint8(0)).toThrow(TypeError);
  // An ArrayBuffer of the caller's own is taken as well.
  const ab = new ArrayBuffer(2 * MiB);
  recycle(ab);
  expect(ab.byteLength).toBe(0);
  await blobs.stop();
  emptyPool();
});

test('misuse is EINVAL and changes nothing: not a buffer, detached, lent to this thread, shared, undetachable', async () => {
  emptyPool();
  recycle(new ArrayBuffer(2 * MiB));
  const s0 = poolStats();
  const takes = 'recycle() takes the Uint8Array (or ArrayBuffer) of a reply, got ';
  expectEinval(() => recycle(), `${takes}undefined`);
  expectEinval(() => recycle(null), `${takes}null`);
  expectEinval(() => recycle(42), `${takes}42`);
  expectEinval(() => recycle('bytes'), `${takes}a string`);
  expectEinval(() => recycle({ data: new Uint8Array(4) }), `${takes}Object`);
  expectEinval(() => recycle([1, 2, 3]), `${takes}Array`);
  // Detached: recycled twice, or transferred.
  const twice = new Uint8Array(2 * MiB);
  recycle(twice);
  const s1 = poolStats();
  const detached = 'recycle(): this buffer is detached already (recycled, released or transferred before)';
  expectEinval(() => recycle(twice), detached);
  expectEinval(() => recycle(twice.buffer), detached);
  const echo = await sys.spawn('echo');
  const moved = new Uint8Array(4096).fill(5);
  const back = await echo.call('blob', { data: transfer(moved) });
  expectEinval(() => recycle(moved), detached);
  expect(back.data[0]).toBe(5);
  // Lent to this thread: release() sends it home; recycle() leaves it be.
  const lender = await sys.spawn('lender');
  await lender.call('make', { size: 2 * MiB });
  const loan = await lender.call('get');
  expectEinval(() => recycle(loan.data), 'recycle(): this buffer is on loan to this thread: give it back to its owner with release()');
  expect(isBorrowed(loan.data)).toBe(true);
  expect(loan.data.length).toBe(2 * MiB);
  release(loan.data);
  let st;
  do st = await lender.call('state'); while (st.a === 0);
  expect(st.rc).toBe(1); // home
  // Shared memory is not the caller's to give.
  const sab = new SharedArrayBuffer(2 * MiB);
  const shared = 'recycle(): a SharedArrayBuffer is shared, not owned: it cannot be given back';
  expectEinval(() => recycle(sab), shared);
  expectEinval(() => recycle(new Uint8Array(sab)), shared);
  expect(sab.byteLength).toBe(2 * MiB);
  // Buffers the engine copies instead of moving: a wasm memory, and the
  // slab under Node's small Buffers. They stay whole.
  const undetachable = /^recycle\(\): this buffer cannot be detached \(the memory of a WebAssembly\.Memory, or Node's shared pool under small Buffers\); nothing was changed$/;
  const mem = new WebAssembly.Memory({ initial: 1 });
  new Uint8Array(mem.buffer)[7] = 7;
  expectEinval(() => recycle(new Uint8Array(mem.buffer)), undetachable);
  expect(new Uint8Array(mem.buffer)[7]).toBe(7);
  const small = Buffer.from('hello');
  expectEinval(() => recycle(small), undetachable);
  expect(small.toString()).toBe('hello');
  // Nothing of it reached the pool or its counters.
  expect(poolStats()).toEqual(s1);
  expect(s1).toMatchObject({ recycled: s0.recycled + 1, pooled: s0.pooled + 1 });
  await Promise.all([echo.stop(), lender.stop()]);
  emptyPool();
});

test('a small buffer is detached and dropped, not kept', () => {
  emptyPool();
  const s0 = poolStats();
  const u8 = new Uint8Array(1000).fill(1);
  recycle(u8);
  expect(u8.length).toBe(0);
  recycle(new ArrayBuffer(0));
  const s1 = poolStats();
  expect(s1).toEqual({ ...s0, recycled: s0.recycled + 2, dropped: s0.dropped + 2 });
});

test('recycling in the middle of a batch of calls and sends: every envelope carries its own bytes', async () => {
  emptyPool();
  const blobs = await sys.spawn('blobs');
  const r1 = await blobs.call('bytes', { data: pattern(3 * MiB, 1) });
  const r2 = await blobs.call('bytes', { data: pattern(3 * MiB, 2) });
  const b1 = r1.data.buffer.byteLength;
  const b2 = r2.data.buffer.byteLength;
  const w = watch(blobs);
  const s0 = poolStats();
  const data = [pattern(3 * MiB, 10), pattern(3 * MiB, 11), pattern(3 * MiB, 12), pattern(2 * MiB, 13), pattern(100, 14)];
  const expected = data.map((d) => d.slice());
  // One turn: all of it leaves in one postMessage at the end.
  const calls = [];
  recycle(r1.data);
  calls.push(blobs.call('bytes', { data: data[0] })); // into r1's buffer
  blobs.send('ignored', { data: pattern(3 * MiB, 20) }); // fresh: the pool is empty
  calls.push(blobs.call('bytes', { data: data[1] })); // fresh
  recycle(r2.data);
  calls.push(blobs.call('bytes', { data: data[2] })); // into r2's buffer
  calls.push(blobs.call('bytes', { data: data[3] })); // fresh: r2's was taken
  // The caller's own array, already copied into its envelope by call():
  // recycling it changes nothing that was sent.
  recycle(data[3]);
  calls.push(blobs.call('bytes', { data: data[4] })); // small: packed
  const s1 = poolStats();
  const replies = await Promise.all(calls);
  w.stop();
  replies.forEach((r, i) => expect(same(r.data, expected[i])).toBe(true));
  expect(s1.reused - s0.reused).toBe(2);
  expect(s1.pooled).toBe(1); // data[3]'s buffer
  // One postMessage with the six: a recycled buffer that fits exactly
  // leaves as a plain envelope, like a fresh one.
  const batch = w.sent.find((items) => items.length > 1);
  expect(batch.length).toBe(6);
  expect([batch[0].e ?? batch[0].plain, batch[3].e ?? batch[3].plain]).toEqual([b1, b2]);
  const sizes = [3 * MiB, 3 * MiB, 3 * MiB, 3 * MiB, 2 * MiB, 100];
  for (let i = 0; i < 6; i++) {
    const head = (batch[i].n ?? batch[i].plain) - sizes[i]; // the envelope around the bytes
    expect(head > 0 && head < 64).toBe(true);
  }
  // The one left in the pool (2 MiB) serves the next big call that fits.
  const data5 = pattern(1.5 * MiB, 15);
  expect(same((await blobs.call('bytes', { data: data5 })).data, data5)).toBe(true);
  expect(poolStats().reused - s1.reused).toBe(1);
  await blobs.stop();
  emptyPool();
});

test('the pool is bounded: recycling 10 buffers keeps at most 4 and at most 128 MiB, oldest let go first', () => {
  emptyPool();
  const s0 = poolStats();
  const bufs = Array.from({ length: 10 }, (_, i) => new ArrayBuffer((20 + i) * MiB));
  for (const b of bufs) recycle(b);
  let s = poolStats();
  expect(s.pooled).toBe(POOL_BUFFERS);
  // The newest four: 26 + 27 + 28 + 29 MiB.
  expect(s.pooledBytes).toBe((26 + 27 + 28 + 29) * MiB);
  expect(s.recycled - s0.recycled).toBe(10);
  expect(s.dropped - s0.dropped).toBe(6);
  for (let i = 0; i < 10; i++) recycle(new ArrayBuffer(50 * MiB));
  s = poolStats();
  expect(s.pooledBytes).toBeLessThanOrEqual(POOL_BYTES);
  expect(s.pooled).toBe(2);
  // One buffer bigger than the whole bound is not kept at all.
  recycle(new ArrayBuffer(POOL_BYTES + 1));
  expect(poolStats().pooledBytes).toBe(100 * MiB);
  expect(poolStats().dropped - s.dropped).toBe(1);
  emptyPool();
  expect(poolStats()).toMatchObject({ pooled: 0, pooledBytes: 0 });
});

test('a pooled buffer serves only envelopes of half its size or more, without blobs, of at least 1 MiB', async () => {
  emptyPool();
  const blobs = await sys.spawn('blobs');
  const echo = await sys.spawn('echo');
  recycle(new ArrayBuffer(4 * MiB));
  const s0 = poolStats();
  const roundTrip = async (n, seed) => {
    const data = pattern(n, seed);
    expect(same((await blobs.call('bytes', { data })).data, data)).toBe(true);
  };
  await roundTrip(1.5 * MiB, 1); // 4 MiB is more than twice that
  await roundTrip(5 * MiB, 2); // too small for it
  const big = pattern(3 * MiB, 3);
  const withBlob = await echo.call('v', { big, data: transfer(new Uint8Array(64).fill(9)) }); // blobs: a buffer of its own
  expect(same(withBlob.big, big)).toBe(true);
  expect(withBlob.data[0]).toBe(9);
  expect(poolStats().reused).toBe(s0.reused);
  // Below 1 MiB, never: even a buffer that fits is left for a bigger one.
  recycle(new ArrayBuffer(MiB));
  await roundTrip(600 * 1024, 4);
  expect(poolStats().reused).toBe(s0.reused);
  // 3 MiB takes the 4 MiB buffer; the 1 MiB one stays.
  await roundTrip(3 * MiB, 5);
  expect(poolStats()).toMatchObject({ reused: s0.reused + 1, pooled: 1, pooledBytes: MiB });
  await Promise.all([blobs.stop(), echo.stop()]);
  emptyPool();
});

test('a connected thread recycles into a pool of its own, and its RemoteActor writes big calls into it', async () => {
  const { Worker } = await import('node:worker_threads');
  const blobs = await sys.spawn('blobs');
  const s0 = poolStats();
  const w = new Worker(new URL('./fixtures/remote-recycle.mjs', import.meta.url));
  const done = new Promise((resolve) => w.once('message', resolve));
  const port = blobs.connect();
  const rounds = 6;
  w.postMessage({ port, size: 4 * MiB, rounds }, [port]);
  const r = await done;
  await w.terminate();
  expect(r.error).toBeUndefined();
  expect(r.wrong).toBe(0);
  expect(r.pool.recycled).toBe(rounds);
  expect(r.pool.reused).toBeGreaterThanOrEqual(rounds - 2);
  const big = r.forms.filter((f) => (f.e ?? f.plain) >= MiB);
  expect(big.length).toBe(rounds);
  // This thread's pool saw none of it.
  expect(poolStats()).toEqual(s0);
  await blobs.stop();
});
