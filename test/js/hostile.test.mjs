// Hostile input at every door (issue 12): a JS thread connected to an actor
// with ref.connect() that posts garbage instead of ferry's port messages,
// and API misuse from JS, each answered by a FerryError with a code.
// The fuzz targets behind these doors are in test/fuzz/js (fuzz.test.mjs
// runs them briefly; `npm run fuzz` runs them long).
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { jest } from '@jest/globals';
import { Tag } from 'cbor-x';
import { System, connect, FerryError } from '../../glue/index.mjs';
import { unpack } from '../../glue/wire/framing.mjs';
import { wasmDir, mustExist, rejection } from './paths.mjs';

jest.setTimeout(120000);

const modulePath = path.join(wasmDir, 'test-actors.wasm');
let sys;

beforeAll(async () => {
  sys = await System.start({ module: mustExist(modulePath) });
});

afterAll(async () => {
  await sys?.shutdown();
});

describe('unpack refuses port messages of forms ferry never posts', () => {
  const run = (data) => {
    const got = [];
    const why = [];
    unpack(data, (u8, xfer, loans) => got.push([u8.length, xfer?.length ?? 0, loans]), (w) => why.push(w));
    return { got, why };
  };
  const b = (n) => new ArrayBuffer(n);

  test.each([
    [[1e9], /distinct ArrayBuffers only, got \[1000000000\]/],
    [[b(4), null], /distinct ArrayBuffers only/],
    [[], /distinct ArrayBuffers only/],
    [[new Uint8Array(4)], /distinct ArrayBuffers only, got \[Uint8Array\]/],
    [[b(4), new SharedArrayBuffer(4)], /distinct ArrayBuffers only/],
    [null, /not a port message: null/],
    [42, /not a port message: 42/],
    [{ b: 1 }, /not a port message: Object/],
    [{ e: b(8), n: -1 }, /n must be a whole number of bytes within e \(8\), got -1/],
    [{ e: b(8), n: 9 }, /within e/],
    [{ e: b(8), n: NaN }, /within e/],
    [{ p: Uint8Array.of(0xff, 0xff, 0xff, 0xff).buffer }, /overruns the 4 bytes of the run/],
    [{ p: Uint8Array.of(1, 0).buffer }, /2 bytes left over/],
    [{ l: [b(4), b(4)], loans: [1, 1, 0] }, /loans must be triples/],
    [{ l: [b(4), b(4)], loans: [0, 0, 0] }, /loans must be triples/],
    [{ l: [b(4), b(4)], loans: [0, 1, 2 ** 40] }, /loans must be triples/],
    [{ l: [b(4), b(4)], loans: 'all' }, /loans must be triples/],
  ])('%p is refused', (data, re) => {
    const { got, why } = run(data);
    expect(got).toEqual([]);
    expect(why).toHaveLength(1);
    expect(why[0]).toMatch(re);
  });

  test('a buffer cannot be two blobs', () => {
    const x = b(4);
    expect(run([b(4), x, x]).why[0]).toMatch(/distinct/);
  });

  test('in a batch the good items go through, each bad one is reported, batches do not nest', () => {
    let deep = { b: [b(4)] };
    for (let i = 0; i < 100000; i++) deep = { b: [deep] };
    const { got, why } = run({ b: [b(3), [null], { e: b(8), n: 5 }, { b: [b(1)] }, deep, [b(2), b(7)]] });
    expect(got).toEqual([[3, 0, null], [5, 0, null], [2, 1, null]]);
    expect(why).toHaveLength(3);
  });

  test('what the glue posts still unpacks', () => {
    const { got, why } = run({ b: [b(3), [b(4), b(5)], { p: Uint8Array.of(1, 0, 0, 0, 0xf6, 0, 0, 0, 0).buffer },
      { e: b(8), n: 8 }, { l: [b(6), b(7), b(8)], loans: [1, 3, 0, 0, 2, 250] }] });
    expect(why).toEqual([]);
    expect(got).toEqual([[3, 0, null], [4, 1, null], [1, 0, null], [0, 0, null], [8, 0, null], [6, 2, [1, 3, 0, 0, 2, 250]]]);
  });
});

describe('a rogue thread connected to an actor', () => {
  let echo;
  let good;
  let rogue;
  const errors = [];

  beforeAll(async () => {
    echo = await sys.spawn('echo');
    echo.onerror = (e) => errors.push(e);
    // A well-behaved client on another connection of the same actor.
    good = await connect(echo.connect());
    rogue = new Worker(new URL('./fixtures/rogue-thread.mjs', import.meta.url));
  });

  afterAll(async () => {
    await rogue?.terminate();
    good?.close();
    await echo?.stop();
  });

  // Posts one plan of garbage from the rogue thread; resolves with its report.
  const attack = (plan) => new Promise((resolve, reject) => {
    const port = echo.connect();
    rogue.once('message', resolve);
    rogue.once('error', reject);
    rogue.postMessage({ port, plan }, [port]);
  });

  // The actor is up and every other client is served, its values intact.
  async function stillServes(tag) {
    expect(echo.alive).toBe(true);
    expect(await echo.call('after', { tag, n: [1, 2, 3] })).toEqual({ tag, n: [1, 2, 3] });
    expect(await good.call('after', tag)).toBe(tag);
  }

  test('random bytes: each is rejected back to the rogue (EINVALID, ETRUNCATED, ...), the actor serves on', async () => {
    const r = await attack('bytes');
    expect(r.posted).toBe(200);
    // Every one of them was answered with an error envelope.
    expect(r.back.errors).toBe(200);
    await stillServes('bytes');
  });

  test('bad envelopes: malformed ones come back as errors; huge lengths allocate nothing', async () => {
    const r = await attack('envelopes');
    expect(r.posted).toBe(16);
    // All but the reply nobody waits for (dropped) are answered; the call
    // that names a blob that did not come is an error too.
    expect(r.back.errors).toBeGreaterThanOrEqual(14);
    expect(Object.keys(r.back.codes).every((c) => ['EINVALID', 'ETRUNCATED', 'ETRAILING', 'ELIMIT', 'EMALFORMED', 'EINVAL', 'ERANGE'].includes(c))).toBe(true);
    await stillServes('envelopes');
    expect((await echo.stats()).memory).toBeLessThan(64 << 20);
  });

  test('port messages of forms ferry never sends and wrong transferables are refused and counted', async () => {
    const before = (await echo.stats()).rejected;
    const r = await attack('forms');
    expect(r.posted).toBeGreaterThan(40);
    await stillServes('forms');
    const st = await echo.stats();
    // Each refused message is counted in stats().rejected and answered
    // with an EMALFORMED error envelope on the rogue's port.
    expect(st.rejected - before).toBeGreaterThanOrEqual(30);
    expect(r.back.codes.EMALFORMED).toBeGreaterThanOrEqual(30);
    expect(st.mailbox).toBe(0);
    expect(Number.isFinite(st.mailboxBytes)).toBe(true);
  });

  test('a flood past the mailbox bound is bounced (EFULL) or served, never kills the actor', async () => {
    const r = await attack('flood');
    expect(r.posted).toBe(20001);
    await stillServes('flood');
    const st = await echo.stats();
    expect(st.mailbox).toBe(0);
  });

  test('nothing of it reached the host as an error of the host\'s own', () => {
    expect(errors).toEqual([]);
  });
});

describe('loans and a rogue thread', () => {
  test('a thread cannot bring home a loan it was not lent (the owner takes a buffer back only from its borrower)', async () => {
    const { release } = await import('../../glue/index.mjs');
    const lender = await sys.spawn('lender');
    await lender.call('make', { size: 4096 });
    const r = await lender.call('get'); // lent to the host
    // A connected thread that guesses loan ids and offers zeros of the right size.
    const port = lender.connect();
    for (let loan = 1; loan <= 32; loan++) {
      const buf = new ArrayBuffer(4096);
      port.postMessage({ ctl: 'loan-return', loan, buf }, [buf]);
    }
    // Something the actor refuses, on the same port: its answer comes
    // after every loan-return before it was handled.
    const answered = new Promise((resolve) => port.on('message', (d) => {
      if (d instanceof ArrayBuffer || d?.b || d?.p) resolve();
    }));
    port.postMessage(42);
    await answered;
    const LENT = 2;
    const HOME = 1;
    let st = await lender.call('state');
    expect(st.rc).toBe(LENT);
    release(r.data);
    do st = await lender.call('state'); while (st.a === 0);
    expect(st.rc).toBe(HOME);
    expect(st.c).toBe(10); // byte 1 of its own pattern, not the thread's zeros
    port.close();
    await lender.stop();
  });
});

describe('calls C refuses', () => {
  test('a call whose body C cannot read (nested deeper than its limit) fails with that error instead of hanging', async () => {
    const echo = await sys.spawn('echo');
    let v = 1;
    for (let i = 0; i < 2000; i++) v = [v];
    const e = await rejection(echo.call('deep', v, { timeout: 5000 }));
    expect(e).toBeInstanceOf(FerryError);
    expect(e.code).toBe('ELIMIT');
    expect(e.message).toMatch(/rejected a malformed message: error at byte \d+: nesting deeper than 1024 levels/);
    expect(await echo.call('x', 'ok')).toBe('ok');
    await echo.stop();
  });
});

describe('replies the host cannot decode', () => {
  // Valid CBOR that cbor-x refuses (tag 258 around a non-array, tag 51
  // without its array): the echo actor sends the body back as it came.
  test('a reply with such a body rejects its call with EMALFORMED instead of leaving it pending', async () => {
    const echo = await sys.spawn('echo');
    const e = await rejection(echo.call('x', { set: new Tag(1, 258) }, { timeout: 5000 }));
    expect(e.code).toBe('EMALFORMED');
    expect(e.message).toMatch(/reply to call "x" from actor \d+ \(echo\) cannot be decoded/);
    expect(await echo.call('x', 'ok')).toBe('ok');
    await echo.stop();
  });

  test('so does one that comes to another thread connected with ref.connect()', async () => {
    const echo = await sys.spawn('echo');
    const remote = await connect(echo.connect());
    const e = await rejection(remote.call('x', new Tag([1], 51), { timeout: 5000 }));
    expect(e.code).toBe('EMALFORMED');
    expect(await remote.call('x', 'ok')).toBe('ok');
    remote.close();
    await echo.stop();
  });
});

describe('API misuse from JS: a FerryError with a code, and the System works on', () => {
  // What fn throws or rejects with.
  async function failure(fn) {
    try {
      await fn();
    } catch (e) {
      return e;
    }
    throw new Error('expected an error');
  }
  async function expectCode(fn, code, re) {
    const e = await failure(fn);
    expect(e).toBeInstanceOf(FerryError);
    expect(e.code).toBe(code);
    if (re) expect(e.message).toMatch(re);
    return e;
  }
  let echo;
  beforeAll(async () => {
    echo = await sys.spawn('echo');
  });
  afterAll(async () => {
    await echo.stop();
  });
  afterEach(async () => {
    expect(await echo.call('still', 'ok')).toBe('ok');
  });

  test('System.start with bad options', async () => {
    await expectCode(() => System.start(), 'EINVAL', /`module` \(the .wasm built by ferry-build\) is required/);
    await expectCode(() => System.start(null), 'EINVAL', /`module`/);
    await expectCode(() => System.start({ module: 42 }), 'EINVAL', /cannot compile 42/);
    await expectCode(() => System.start({ module: sys.module, mailbox: { messages: -1 } }), 'EINVAL', /mailbox.messages must be a whole number >= 1, got -1/);
    await expectCode(() => System.start({ module: sys.module, mailbox: { bytes: 'x' } }), 'EINVAL', /mailbox.bytes/);
    await expectCode(() => System.start({ module: sys.module, asyncStack: 'x' }), 'EINVAL', /asyncStack must be a whole number of bytes/);
  });

  test('bad actor names', async () => {
    for (const name of [undefined, 42, '', null, {}]) await expectCode(() => sys.spawn(name), 'EINVAL', /actor type name must be a non-empty string/);
    await expectCode(() => sys.spawn('a\0b'), 'EINVAL', /holds a NUL character/);
    await expectCode(() => sys.spawn('nope'), 'ENOTFOUND', /no actor type "nope"/);
  });

  test('bad spawn options', async () => {
    await expectCode(() => sys.spawn('echo', 5), 'EINVAL', /spawn: options must be an object/);
    await expectCode(() => sys.spawn('echo', { init: () => 1 }), 'EINVAL', /value: functions cannot be sent/);
    await expectCode(() => sys.spawn('echo', { mailbox: { messages: 0 } }), 'EINVAL', /mailbox.messages must be a whole number >= 1, got 0/);
    await expectCode(() => sys.spawn('echo', { mailbox: { bytes: NaN } }), 'EINVAL', /mailbox.bytes/);
    await expectCode(() => sys.spawn('echo', { mailbox: 7 }), 'EINVAL', /mailbox must be an object/);
    // null options are no options.
    const e = await sys.spawn('echo', null);
    expect(await e.call('x', 1)).toBe(1);
    await e.stop();
  });

  test('values CBOR cannot carry', async () => {
    const cyclic = {};
    cyclic.self = cyclic;
    await expectCode(() => echo.call('x', () => 1), 'EINVAL', /^value: functions cannot be sent/);
    await expectCode(() => echo.call('x', { s: Symbol('s') }), 'EINVAL', /^value\.s: symbols cannot be sent/);
    await expectCode(() => echo.call('x', cyclic), 'EINVAL', /^value\.self: a cycle/);
    await expectCode(() => echo.send('x', [1, () => 1]), 'EINVAL', /^value\[1\]: functions cannot be sent/);
  });

  test('bad message types', async () => {
    await expectCode(() => echo.send(42, 'x'), 'EINVAL', /message type must be a string, got number/);
    await expectCode(() => echo.send(), 'EINVAL', /message type must be a string, got undefined/);
    // C could not read it: the type would end at the NUL.
    await expectCode(() => echo.call('a\0b', 1), 'EINVAL', /message type "a\\u0000b" holds a NUL character/);
    await expectCode(() => echo.send('a\0b', 1), 'EINVAL', /NUL/);
  });

  test('bad call options', async () => {
    for (const timeout of [-1, NaN, '5', 2 ** 31, {}]) {
      await expectCode(() => echo.call('x', 1, { timeout }), 'EINVAL', /timeout must be a number of milliseconds from 0 to 2147483647/);
    }
    await expectCode(() => echo.call('x', 1, { signal: {} }), 'EINVAL', /signal must be an AbortSignal/);
    expect(await echo.call('x', 1, null)).toBe(1);
    expect(await echo.call('x', 2, { timeout: Infinity })).toBe(2);
  });

  test('transfer() of what is not a whole ArrayBuffer', async () => {
    const { transfer } = await import('../../glue/index.mjs');
    for (const x of [5, 'x', null, new SharedArrayBuffer(8), new MessageChannel().port1]) {
      await expectCode(() => transfer(x), 'EINVAL', /transfer\(\) takes an ArrayBuffer or a typed array/);
    }
    await expectCode(() => transfer(new Uint8Array(new ArrayBuffer(8), 1)), 'EINVAL', /whole ArrayBuffer/);
    const b = new ArrayBuffer(4);
    structuredClone(b, { transfer: [b] });
    await expectCode(() => transfer(b), 'EINVAL', /detached/);
  });

  test('connect(), postRaw() and handle() with the wrong things', async () => {
    await expectCode(() => connect(), 'EINVAL', /connect\(\) takes the MessagePort that ref.connect\(\) returned/);
    await expectCode(() => connect({}), 'EINVAL', /MessagePort/);
    await expectCode(() => echo.postRaw(5), 'EINVAL', /postRaw\(\) takes an ArrayBuffer/);
    await expectCode(() => echo.postRaw(new Uint8Array(4)), 'EINVAL', /postRaw\(\) takes an ArrayBuffer/);
    await expectCode(() => sys.handle(5, () => 1), 'EINVAL', /handle\(\): the message type must be a string/);
    await expectCode(() => sys.handle('x', 5), 'EINVAL', /handle\(\): the handler must be a function/);
  });

  test('after the actor stopped: EDOWN for everything', async () => {
    const e = await sys.spawn('echo');
    await e.stop();
    await expectCode(() => e.send('x', 1), 'EDOWN', /is down/);
    await expectCode(() => e.call('x', 1), 'EDOWN', /is down/);
    await expectCode(() => e.connect(), 'EDOWN');
    await expectCode(() => e.stats(), 'EDOWN');
    await expectCode(() => e.postRaw(new ArrayBuffer(4)), 'EDOWN');
    expect((await e.stop()).code).toBe('EDOWN'); // stopping again is harmless
  });

  test('after system.shutdown(): ECLOSED for everything', async () => {
    const other = await System.start({ module: sys.module });
    const e = await other.spawn('echo');
    await other.shutdown();
    await expectCode(() => other.spawn('echo'), 'ECLOSED');
    await expectCode(() => e.send('x', 1), 'ECLOSED');
    await expectCode(() => e.call('x', 1), 'ECLOSED');
    await expectCode(() => e.connect(), 'ECLOSED');
    await expectCode(() => e.stats(), 'ECLOSED');
    await other.shutdown(); // twice is harmless
  });

  test('a connection from another thread, misused', async () => {
    const remote = await connect(echo.connect());
    await expectCode(() => remote.send(7, 1), 'EINVAL', /message type must be a string/);
    await expectCode(() => remote.call('x', 1, { timeout: -5 }), 'EINVAL', /timeout must be/);
    await expectCode(() => remote.call('x', () => 1), 'EINVAL', /functions cannot be sent/);
    expect(await remote.call('x', 'fine')).toBe('fine');
    remote.close();
    await expectCode(() => remote.call('x', 1), 'ECLOSED');
    await expectCode(() => remote.send('x', 1), 'ECLOSED');
  });
});
