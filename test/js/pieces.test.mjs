// What a real app needs from the runtime (issue 8), with real workers and
// wasm: bad messages fail alone, transferred buffers detach at once, blob
// bytes count against mailbox bounds, undelivered messages come back
// whole, spawn waits for init, calls from C that do not block, monitors,
// blob loans, blobs built in place, and stats that count every copy.
// The actors are in test/actors/runtime_pieces.c.
import path from 'node:path';
import { jest } from '@jest/globals';
import { System, transfer, release, isBorrowed, FerryError } from '../../glue/index.mjs';
import { Outbox } from '../../glue/wire/framing.mjs';
import { wasmDir, mustExist, rejection } from './paths.mjs';

jest.setTimeout(60000);

const modulePath = path.join(wasmDir, 'test-actors.wasm');
let sys;
// Host handlers the tests hold and release: 'x' answers when let go.
let held = [];
let holding = null;
const holdStarted = () => new Promise((r) => (holding = r));
const EINVAL = -1;
const EDOWN = -12;
const ETIMEDOUT = -13;
const ENOTFOUND = -16;
const EBUSY = -19;
const BLOB = { HOME: 1, LENT: 2, BORROWED: 3, LOST: 4 };

beforeAll(async () => {
  sys = await System.start({ module: mustExist(modulePath) });
  sys.handle('x', (v) => new Promise((resolve) => held.push(() => resolve(v))));
  sys.handle('hold.wait', async () => {
    holding?.();
    await new Promise((r) => held.push(r));
    return 'held';
  });
});

afterAll(async () => {
  await sys?.shutdown();
});

const letGo = () => {
  const h = held;
  held = [];
  for (const f of h) f();
  return h.length;
};


function expectEinval(fn, message) {
  let err = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FerryError);
  expect(err.code).toBe('EINVAL');
  if (message) expect(err.message).toBe(message);
}

// The byte at offset i of a blob the lender made (pattern() in C).
const pattern = (i) => (i * 7 + (i >> 11) + 3) & 255;

describe('bad messages fail alone', () => {
  test('the same buffer in two calls of one turn: the second call fails at once, the others go', async () => {
    const echo = await sys.spawn('echo');
    const buf = new Uint8Array(64).fill(9);
    const stats = echo.stats();
    const first = echo.call('blob', { data: transfer(buf) });
    let second;
    expect(() => (second = echo.call('blob', { data: transfer(buf) }))).toThrow(FerryError);
    expect(second).toBeUndefined();
    // The detached buffer sent again as plain bytes: rejected, not sent as
    // an empty byte string.
    const third = await rejection(echo.call('blob', { data: transfer(new ArrayBuffer(4)), again: buf }));
    expect(third.code).toBe('EINVAL');
    expect(third.message).toBe('value.again: this buffer was transferred (it is detached)');
    expect((await stats).messagesIn).toBeGreaterThanOrEqual(0);
    const r = await first;
    expect(r.data.length).toBe(64);
    expect(r.data[63]).toBe(9);
    await echo.stop();
  });

  test('an Outbox posts item by item when the batch cannot go, and reports only the bad one', () => {
    const posted = [];
    const poison = new ArrayBuffer(8);
    const target = {
      postMessage(data, xfer) {
        if (xfer.includes(poison)) throw new Error('cannot transfer this one');
        posted.push(data);
      },
    };
    const box = new Outbox(target);
    const failed = [];
    box.onFail = (item, e) => failed.push([item, e.message]);
    box.addItem(new ArrayBuffer(20000), null);
    box.addItem(new ArrayBuffer(20001), [poison]);
    box.addItem(new ArrayBuffer(20002), null);
    box.flush();
    expect(posted.map((d) => d.byteLength)).toEqual([20000, 20002]);
    expect(failed.length).toBe(1);
    expect(failed[0][1]).toBe('cannot transfer this one');
  });
});

describe('values that cannot be sent, and detached buffers', () => {
  test('functions, symbols, cycles: EINVAL naming the path, nothing queued', async () => {
    const echo = await sys.spawn('echo');
    const before = await echo.stats();
    expectEinval(() => echo.send('x', { items: [1, 2, { fn() {} }] }), 'value.items[2].fn: functions cannot be sent');
    expectEinval(() => echo.send('x', [Symbol('s')]), 'value[0]: symbols cannot be sent');
    const cyclic = { a: { b: [] } };
    cyclic.a.b.push(cyclic.a);
    expectEinval(() => echo.send('x', cyclic), 'value.a.b[0]: a cycle: this value contains itself');
    expectEinval(() => echo.send('x', { 'odd key': () => 1 }), 'value["odd key"]: functions cannot be sent');
    const e = await rejection(echo.call('x', { m: new Map([[1, () => 2]]) }));
    expect(e.code).toBe('EINVAL');
    expect(e.message).toMatch(/^value\.m: /);
    // Nothing of the above reached the actor; it still answers.
    expect(await echo.call('after', 5)).toBe(5);
    const after = await echo.stats();
    expect(after.messagesIn - before.messagesIn).toBe(1); // only the call 'after'
    await echo.stop();
  });

  test('transfer() of a detached buffer is EINVAL, not a 0-byte blob', async () => {
    const echo = await sys.spawn('echo');
    const buf = new Uint8Array(16);
    await echo.call('blob', { data: transfer(buf) });
    expect(buf.byteLength).toBe(0);
    expectEinval(() => transfer(buf), 'transfer(): this ArrayBuffer was already transferred (it is detached)');
    await echo.stop();
  });

  test('a transferred buffer is detached when call() returns: later writes do not travel', async () => {
    const echo = await sys.spawn('echo');
    const buf = new Uint8Array(1024).fill(1);
    const p = echo.call('blob', { data: transfer(buf) });
    expect(buf.byteLength).toBe(0); // detached now, before the flush
    const r = await p;
    expect(r.data.length).toBe(1024);
    expect(r.data.every((b) => b === 1)).toBe(true);
    await echo.stop();
  });
});

describe('envelopes with blobs', () => {
  // An envelope with blobs is posted at once, with what was queued before
  // it, instead of waiting for the turn's batch (envelope.mjs says why):
  // order holds.
  test('calls with blobs between plain calls of one turn keep the order', async () => {
    const echo = await sys.spawn('echo');
    const order = [];
    const calls = [];
    for (let i = 0; i < 40; i++) {
      let p;
      if (i % 10 === 3) {
        const b = new ArrayBuffer(8);
        p = echo.call('blob', { i, data: transfer(b) });
        expect(b.byteLength).toBe(0); // gone with the call
      } else p = echo.call('x', { i });
      calls.push(p.then((r) => order.push(r.i)));
    }
    await Promise.all(calls);
    // echo answers in arrival order, and replies resolve in theirs.
    expect(order).toEqual(Array.from({ length: 40 }, (_, i) => i));
    await echo.stop();
  });
});

describe('mailbox bounds and reports', () => {
  test('blob bytes count against the byte bound; bounced blobs come back with the report', async () => {
    const w = await sys.spawn('waiter', { mailbox: { bytes: 1 << 20 } });
    const errors = [];
    w.onerror = (e) => errors.push(e);
    const started = holdStarted();
    const hold = w.call('hold', 0);
    await started;
    for (let i = 0; i < 4; i++) w.send('put', { data: transfer(new Uint8Array(600 * 1024).fill(i + 1)) });
    letGo();
    expect(await hold).toEqual({ rc: 0 });
    // One 600 KiB blob fits in 1 MiB, the other three do not.
    expect(errors.length).toBe(3);
    for (const [k, e] of errors.entries()) {
      expect(e.code).toBe('EFULL');
      expect(e.to).toBe(w.id);
      expect(e.messageType).toBe('put');
      expect(e.corr).toBe(0);
      expect(e.blobs.length).toBe(1);
      expect(e.blobs[0].length).toBe(600 * 1024);
      expect(e.blobs[0][0]).toBe(k + 2);
    }
    await w.stop();
  });

  test('a send that cannot be delivered comes back naming type, destination and corr, with its blob', async () => {
    const asker = await sys.spawn('asker');
    // Actor 99999 never existed: the host says so when asked for a port.
    const r = await asker.call('post', { to: 99999, size: 1000 });
    expect(r).toMatchObject({ rc: ENOTFOUND, a: 99999, b: 0, c: 1, d: 1000, text: 'hello' });
    // An actor known to be down: refused at once, and the blob stays home.
    const sink = await sys.spawn('sink');
    await sink.stop();
    await asker.call('post', { to: sink.id, size: 10 }); // learns it is down
    const r2 = await asker.call('post', { to: sink.id, size: 10 });
    expect(r2).toMatchObject({ rc: EDOWN, e: BLOB.HOME });
    await asker.stop();
  });

  test('a late reply that carries blobs gives them back to the replier', async () => {
    const lender = await sys.spawn('lender');
    expect((await lender.call('make', { size: 4096 })).rc).toBe(0);
    // A copy (moved), abandoned before it arrives.
    const ac = new AbortController();
    const p = lender.call('copy', null, { signal: ac.signal });
    ac.abort();
    expect((await rejection(p)).code).toBe('ECANCELED');
    // A loan, abandoned too.
    const ac2 = new AbortController();
    const p2 = lender.call('get', { ms: 0 }, { signal: ac2.signal });
    ac2.abort();
    await rejection(p2);
    let st;
    for (;;) {
      st = await lender.call('state');
      if (st.e === 1 && st.a === 1) break; // both came back (each in its own message)
      await new Promise((r) => setImmediate(r));
    }
    expect(st).toMatchObject({ rc: BLOB.HOME, a: 1, e: 1, d: 0 });
    await lender.stop();
  });
});

describe('replies leave when the actor asks for more', () => {
  test('an actor that answers and then loops forever has sent its answers', async () => {
    // "hog" answers unknown calls with their body; "busy" loops without a
    // word. The three calls arrive together, so C takes the third before the
    // first two replies would have left at its next wait: they must leave
    // when it asks for the third, not never.
    const hog = await sys.spawn('hog');
    const first = hog.call('echo', 1, { timeout: 10000 });
    const second = hog.call('echo', 2, { timeout: 10000 });
    hog.call('busy', null).catch(() => {});
    await expect(Promise.all([first, second])).resolves.toEqual([1, 2]);
    await hog.stop();
  });
});

describe('spawn waits for init', () => {
  test('an actor that returns or traps in its init rejects spawn; a good one resolves alive', async () => {
    const e = await rejection(sys.spawn('picky', { init: 0 }));
    expect(e.code).toBe('EDOWN');
    expect(e.message).toMatch(/returned 2/);
    const t = await rejection(sys.spawn('picky', { init: 'trap' }));
    expect(t.code).toBe('EDOWN');
    expect(t.message).toMatch(/trapped/);
    const ok = await sys.spawn('picky', { init: 5 });
    expect(ok.alive).toBe(true);
    expect((await ok.call('n')).a).toBe(5);
    await ok.stop();
    expect((await ok.down).normal).toBe(true);
  });
});

describe('calls from C that do not block', () => {
  test('replies arrive through ferry_recv while the actor keeps serving', async () => {
    const asker = await sys.spawn('asker');
    const fan = asker.call('fan', { to: 0, n: 5 });
    // The host holds all five; the asker still answers pings.
    while (held.length < 5) await asker.call('ping');
    expect(await asker.call('ping')).toMatchObject({ rc: 0 });
    expect(letGo()).toBe(5);
    expect(await fan).toMatchObject({ rc: 0, a: 5, b: 0, c: 0, d: 0 });
    expect((await fan).e).toBeGreaterThanOrEqual(1);
    await asker.stop();
  });

  test('per-request deadlines: ETIMEDOUT each, once; late replies dropped', async () => {
    const asker = await sys.spawn('asker');
    expect(await asker.call('fan', { to: 0, n: 4, ms: 30 })).toMatchObject({ rc: 0, a: 0, b: 4 });
    expect(letGo()).toBe(4); // the late answers find nobody waiting
    expect(await asker.call('ping')).toMatchObject({ rc: 0 });
    await asker.stop();
  });

  test('a peer that goes down: every outstanding request gets EDOWN', async () => {
    const asker = await sys.spawn('asker');
    const sink = await sys.spawn('sink');
    const fan = asker.call('fan', { to: sink.id, n: 6 });
    // The sink holds them (answers none): answer 2, then stop it.
    let answered = 0;
    while (answered < 2) answered += (await sink.call('answer', { n: 2 - answered })).a;
    await sink.stop();
    expect(await fan).toMatchObject({ rc: 0, a: 2, b: 0, c: 4, d: 0 });
    await asker.stop();
  });
});

describe('monitors', () => {
  test('a watcher hears a trap, with the reason ref.down gives', async () => {
    const watcher = await sys.spawn('watcher');
    const crash = await sys.spawn('crash');
    expect((await watcher.call('watch', { to: crash.id })).rc).toBe(0);
    crash.send('trap', null);
    const reason = await crash.down;
    let last;
    do last = await watcher.call('last'); while (last.a === 0);
    expect(last).toMatchObject({ a: 1, b: crash.id, e: crash.id, rc: EDOWN, d: 0 });
    expect(last.text).toBe(`Trap: ${reason.message}`); // the reason names the actor once
    await watcher.stop();
  });

  test('watching an actor that is already down, or never was, tells at once; demonitor cancels', async () => {
    const watcher = await sys.spawn('watcher');
    const gone = await sys.spawn('picky', { init: 1 });
    await gone.stop();
    await watcher.call('watch', { to: gone.id });
    let last;
    do last = await watcher.call('last'); while (last.a === 0);
    expect(last).toMatchObject({ a: 1, b: gone.id, rc: EDOWN, d: 1 });
    await watcher.call('watch', { to: 77777 });
    do last = await watcher.call('last'); while (last.a === 1);
    expect(last).toMatchObject({ a: 2, b: 77777, rc: ENOTFOUND });
    const other = await sys.spawn('picky', { init: 1 });
    await watcher.call('watch', { to: other.id });
    await watcher.call('unwatch', { to: other.id });
    await other.stop();
    // Another watched actor's down comes after: only it is counted.
    const third = await sys.spawn('picky', { init: 1 });
    await watcher.call('watch', { to: third.id });
    await third.stop();
    do last = await watcher.call('last'); while (last.a === 2);
    expect(last).toMatchObject({ a: 3, b: third.id });
    await watcher.stop();
  });
});

describe('blobs built in place, loans, honest stats', () => {
  const MiB20 = 20 << 20;

  test('a 20 MiB blob built with ferry_blob_alloc/write never stages in wasm memory', async () => {
    const lender = await sys.spawn('lender');
    const before = await lender.stats();
    expect(await lender.call('make', { size: MiB20 })).toMatchObject({ rc: 0, a: MiB20, b: EINVAL });
    const after = await lender.stats();
    expect(after.memory).toBe(before.memory); // 16 MiB: no room to stage 20
    expect(after.copies.blobWrite - before.copies.blobWrite).toBe(MiB20);
    const r = await lender.call('copy');
    let bad = 0;
    for (let i = 0; i < MiB20; i += 4093) if (r.data[i] !== pattern(i)) bad++;
    expect(bad).toBe(0);
    expect((await lender.stats()).copies.blobDup).toBe(MiB20); // the engine's copy, counted
    await lender.stop();
  });

  test('a loan to JS: zero copies, the owner sees it out, release() brings it home', async () => {
    const lender = await sys.spawn('lender');
    await lender.call('make', { size: 1 << 20 });
    const before = await lender.stats();
    const r = await lender.call('get');
    expect(isBorrowed(r.data)).toBe(true);
    expect(r.data[1]).toBe(pattern(1));
    expect(await lender.call('state')).toMatchObject({ rc: BLOB.LENT, c: EBUSY });
    expect((await lender.stats()).loans.out).toBe(1);
    // A second loan of the same blob while it is out: EBUSY, as a reply.
    expect((await rejection(lender.call('get'))).code).toBe('EBUSY');
    expect((await lender.call('send_lent')).rc).toBe(EBUSY);
    release(r.data);
    expect(r.data.byteLength).toBe(0); // given back: detached here
    expectEinval(() => release(r.data));
    let st;
    do st = await lender.call('state'); while (st.a === 0);
    expect(st).toMatchObject({ rc: BLOB.HOME, a: 1, c: pattern(1), d: 0 });
    const after = await lender.stats();
    expect(after.copiedBytes - before.copiedBytes).toBeLessThan(4096); // envelopes only
    expect(after.loans).toMatchObject({ out: 0, lent: 1, returned: 1 });
    await lender.stop();
  });

  test('in Node a released loan travels home with the next call to its owner: one postMessage, not two', async () => {
    const lender = await sys.spawn('lender');
    await lender.call('make', { size: 1 << 20 });
    const r = await lender.call('get');
    const worker = sys._worker(lender.id);
    const posts = [];
    const post = worker.postMessage;
    worker.postMessage = function (data, xfer) {
      posts.push(data);
      return post.call(this, data, xfer);
    };
    let st;
    try {
      release(r.data);
      expect(r.data.byteLength).toBe(0); // detached at once, though not posted yet
      st = await lender.call('state');
    } finally {
      worker.postMessage = post;
    }
    expect(posts.length).toBe(1);
    expect(posts[0].b.map((it) => (it.ctl ? it.ctl : 'envelope'))).toEqual(['loan-return', 'envelope']);
    // The loan came in ahead of the call: the state the call reads is home.
    expect(st.rc).toBe(BLOB.HOME);
    await lender.stop();
  });

  test('a loan that comes home with the next call is handled in the same run of C as the call', async () => {
    const lender = await sys.spawn('lender');
    expect((await lender.stats()).runs).toBe(1); // started, now waiting for its first message
    await lender.call('make', { size: 1 << 20 });
    const r = await lender.call('get');
    await lender.call('state'); // settled: C waits for its next message
    const before = (await lender.stats()).runs;
    release(r.data);
    const st = await lender.call('state');
    expect(st.rc).toBe(BLOB.HOME);
    // One resume for the notice and the call together (two, when the
    // notice woke C on its own and the call found it waiting again).
    expect((await lender.stats()).runs - before).toBe(1);
    await lender.stop();
  });

  test('a released loan with nothing after it still goes home by the end of the turn', async () => {
    const lender = await sys.spawn('lender');
    await lender.call('make', { size: 4096 });
    const r = await lender.call('get');
    release(r.data);
    await new Promise((res) => setTimeout(res, 50)); // no call in this turn
    expect((await lender.stats()).loans).toMatchObject({ out: 0, returned: 1 });
    await lender.stop();
  });

  test('a loan with a deadline comes home by itself', async () => {
    const lender = await sys.spawn('lender');
    await lender.call('make', { size: 1000 });
    const r = await lender.call('get', { ms: 40 });
    expect(isBorrowed(r.data)).toBe(true);
    let st;
    do st = await lender.call('state'); while (st.a === 0); // the deadline is what is tested
    expect(st.rc).toBe(BLOB.HOME);
    expect(isBorrowed(r.data)).toBe(false);
    expect(r.data.byteLength).toBe(0);
    await lender.stop();
  });

  test('a loan to a C actor: it reads, cannot pass it on, returns or drops it; lost only if its worker is killed', async () => {
    const lender = await sys.spawn('lender');
    const borrower = await sys.spawn('borrower');
    await lender.call('make', { size: 5000 });
    const cycle = async (op) => {
      expect((await lender.call('give', { to: borrower.id })).rc).toBe(0);
      let c;
      do c = await borrower.call('check'); while (c.rc !== BLOB.BORROWED);
      expect(c).toMatchObject({ a: 5000, b: pattern(1), c: EINVAL });
      expect((await lender.call('state')).rc).toBe(BLOB.LENT);
      return op();
    };
    let homes = 0;
    // losts: how many "lost" notices may have come first (a trapped
    // borrower's return races the host's news of its down; a buffer that
    // arrives after "lost" is home again, and the owner told so).
    const home = async (losts = 0) => {
      homes++;
      let st;
      do st = await lender.call('state'); while (st.a < homes);
      expect(st).toMatchObject({ rc: BLOB.HOME, d: 0 });
      expect(st.b).toBeLessThanOrEqual(losts);
      return st.b;
    };
    await cycle(() => borrower.call('return'));
    await home();
    await cycle(() => borrower.call('drop'));
    await home();
    // A trap: the glue outlives the wasm and sends it home.
    await cycle(() => borrower.send('trap', null));
    await borrower.down;
    const early = await home(1);
    // Killed from outside while holding it: lost, and the owner is told.
    const b2 = await sys.spawn('borrower');
    expect((await lender.call('give', { to: b2.id })).rc).toBe(0);
    let c;
    do c = await b2.call('check'); while (c.rc !== BLOB.BORROWED);
    await b2.stop();
    let st;
    do st = await lender.call('state'); while (st.b === early);
    expect(st).toMatchObject({ rc: BLOB.LOST, b: early + 1, d: 0 });
    await lender.stop();
  });
});

describe('calls from other JS threads', () => {
  test('a worker of the app connects to actors: calls, a loan, and their down', async () => {
    const { Worker } = await import('node:worker_threads');
    const echo = await sys.spawn('echo');
    const lender = await sys.spawn('lender');
    await lender.call('make', { size: 3000 });
    const w = new Worker(new URL('./fixtures/remote-thread.mjs', import.meta.url));
    const next = () => new Promise((resolve) => w.once('message', resolve));
    const echoPort = echo.connect();
    const lenderPort = lender.connect();
    w.postMessage({ echoPort, lenderPort }, [echoPort, lenderPort]);
    const first = await next();
    expect(first).toMatchObject({ step: 'released', reply: { from: 'a worker', n: [1, 2, 3] }, byte1: pattern(1), wasBorrowed: true, detached: true });
    expect(first.ids[0]).toBe(echo.id);
    expect(first.ids[1]).not.toBe(echo.id);
    let st;
    do st = await lender.call('state'); while (st.a === 0);
    expect(st.rc).toBe(BLOB.HOME);
    const second = next();
    await echo.stop();
    expect(await second).toMatchObject({ step: 'down', reason: { name: 'Stopped', actor: echo.id }, after: 'EDOWN' });
    await w.terminate();
    await lender.stop();
  });

  test('connect() refuses what is not a port', async () => {
    const { connect } = await import('../../glue/index.mjs');
    await expect(connect({})).rejects.toThrow(/takes the MessagePort that ref.connect\(\) returned/);
  });
});

describe('loans that cannot come home the usual way', () => {
  test('a JS borrower cannot send a lent buffer on; release() still brings the whole blob home', async () => {
    const lender = await sys.spawn('lender');
    const echo = await sys.spawn('echo');
    await lender.call('make', { size: 1 << 16 });
    const r = await lender.call('get');
    const e = await rejection(echo.call('blob', { data: transfer(r.data) }));
    expect(e.code).toBe('EINVAL');
    expect(e.message).toMatch(/^value\.data: transfer\(\): this buffer is on loan to this thread and cannot be sent on/);
    expect(isBorrowed(r.data)).toBe(true);
    release(r.data);
    let st;
    do st = await lender.call('state'); while (st.a === 0);
    expect(st).toMatchObject({ rc: BLOB.HOME, c: pattern(1) });
    expectEinval(() => release({ not: 'a buffer' }), 'release() takes the Uint8Array or ArrayBuffer of a lent blob');
    await Promise.all([lender.stop(), echo.stop()]);
  });

  test('a connected thread that closes gives its loans back; one that is killed makes them lost', async () => {
    const { Worker } = await import('node:worker_threads');
    const lender = await sys.spawn('lender');
    await lender.call('make', { size: 5000 });
    const run = async (close) => {
      const w = new Worker(new URL('./fixtures/remote-holder.mjs', import.meta.url), { workerData: { close } });
      const messages = [];
      const next = () => new Promise((resolve) => w.once('message', (m) => resolve(messages.push(m) && m)));
      const port = lender.connect();
      w.postMessage({ port }, [port]);
      expect(await next()).toEqual({ holding: 5000 });
      if (close) expect(await next()).toEqual({ closed: true, detached: true });
      return w;
    };
    const w1 = await run(true);
    let st;
    do st = await lender.call('state'); while (st.a === 0);
    expect(st).toMatchObject({ rc: BLOB.HOME, a: 1, b: 0 });
    await w1.terminate();
    const w2 = await run(false);
    expect((await lender.call('state')).rc).toBe(BLOB.LENT);
    await w2.terminate(); // the thread dies holding it: its port closes
    do st = await lender.call('state'); while (st.b === 0);
    expect(st).toMatchObject({ rc: BLOB.LOST, a: 1, b: 1, d: 0 });
    await lender.stop();
  });

  test('an owner whose borrower vanished without a word calls the loan lost after its deadline', async () => {
    const { Blobs } = await import('../../glue/worker/blobs.mjs');
    jest.useFakeTimers();
    try {
      const told = [];
      const blobs = new Blobs({ giveBack: () => {}, notify: (type, h, borrower) => told.push([type, h, borrower]) });
      const h = blobs.add(new ArrayBuffer(100));
      expect(blobs.lend(h, 50)).toBe(true);
      const { xfer, loans } = blobs.release([h], 7);
      expect([xfer[0].byteLength, loans]).toEqual([100, [0, 1, 50]]);
      expect(blobs.state(h)).toBe(BLOB.LENT);
      // A buffer of another size is not ours: not accepted as the return.
      expect(blobs.returned(1, new ArrayBuffer(0), 7)).toBe(false);
      jest.advanceTimersByTime(50);
      expect(told).toEqual([]); // the borrower's own deadline, plus grace
      jest.advanceTimersByTime(5000);
      expect(told).toEqual([['ferry.loan.lost', h, 7]]);
      expect(blobs.state(h)).toBe(BLOB.LOST);
      // If it still arrives, it is home again.
      // From its borrower (7) only.
      expect(blobs.returned(1, xfer[0], 8)).toBe(false);
      expect(blobs.returned(1, xfer[0], 7)).toBe(true);
      expect(blobs.state(h)).toBe(BLOB.HOME);
      expect(told[1]).toEqual(['ferry.loan.home', h, 7]);
    } finally {
      jest.useRealTimers();
    }
  });
});
