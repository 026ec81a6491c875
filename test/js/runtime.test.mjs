// The actor runtime with real workers and real wasm: C actors from
// test/actors/test_actors.c and the examples, built by ferry-build into
// build/wasm/test-actors.wasm.
import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { jest } from '@jest/globals';
import { System, transfer, FerryError, postItems } from '../../glue/index.mjs';
import { encodeToArrayBuffer } from '../../glue/serializer.mjs';
import { wasmDir, mustExist, rejection } from './paths.mjs';

jest.setTimeout(60000);

const modulePath = path.join(wasmDir, 'test-actors.wasm');
let sys;
// Resolved when an actor's "hold" reaches the host: from then on it waits
// for the host's answer and leaves other messages in its mailbox.
let holding = null;
const holdStarted = () => new Promise((r) => (holding = r));

beforeAll(async () => {
  sys = await System.start({ module: mustExist(modulePath) });
  sys.handle('hold.wait', async (ms) => {
    holding?.();
    await new Promise((r) => setTimeout(r, typeof ms === 'number' ? ms : 200));
    return 'held';
  });
  sys.handle('never', () => new Promise(() => {}));
  sys.handle('late', async () => {
    await new Promise((r) => setTimeout(r, 100));
    return 'late';
  });
});

afterAll(async () => {
  await sys?.shutdown();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('calls and sends', () => {
  test('echo answers a call with the value sent', async () => {
    const echo = await sys.spawn('echo');
    const value = { text: 'hi', n: 5, list: [1, 2.5, 'x'], big: 2n ** 60n, bytes: new Uint8Array([1, 2, 3]) };
    const r = await echo.call('get', value, { timeout: 5000 });
    expect({ ...r, bytes: [...r.bytes] }).toEqual({ ...value, bytes: [1, 2, 3] });
    await echo.stop();
  });

  test('struct decoding in C: values, and errors that name the field', async () => {
    const s = await sys.spawn('structs');
    const order = { id: 77, customer: 'ann', items: [{ sku: 1, qty: 2, gift: false }, { sku: 2, qty: 5, gift: true }] };
    expect(await s.call('total', order)).toEqual({ order_id: 77, items: 2, qty: 7 });
    const e = await rejection(s.call('total', { ...order, items: [{ sku: 1, qty: 300, gift: false }] }));
    expect(e).toBeInstanceOf(FerryError);
    expect(e.code).toBe('ERANGE');
    expect(e.message).toBe('order.items[0].qty: 300 does not fit uint8');
    const e2 = await rejection(s.call('total', { id: 1, customer: 'x' }));
    expect(e2.code).toBe('EMISSING');
    expect(e2.message).toBe('order.items: required field missing');
    // Still serving after the errors.
    expect(await s.call('total', order)).toEqual({ order_id: 77, items: 2, qty: 7 });
    await s.stop();
  });

  test('spawn passes an init value; ferry_self is the id', async () => {
    const t = await sys.spawn('talker', { init: { a: 1, b: 'two' } });
    expect(await t.call('init?')).toEqual({ a: 1, b: 'two' });
    expect(await t.call('self')).toEqual({ rc: 0, extra: t.id });
    await t.stop();
  });

  test('sends from C to the host arrive at onmessage, in order', async () => {
    const t = await sys.spawn('talker');
    const got = [];
    const all = new Promise((resolve) => {
      t.onmessage = (m) => got.push(m) === 50 && resolve();
    });
    await t.call('notify', 50);
    await all;
    expect(got.map((m) => m.value)).toEqual([...Array(50).keys()]);
    expect(got.every((m) => m.type === 'note' && m.from === t.id)).toBe(true);
    await t.stop();
  });

  test('100,000 messages between two actors arrive in order', async () => {
    const counter = await sys.spawn('counter');
    const producer = await sys.spawn('producer');
    // The producer's reply comes after the counter answered its own "get",
    // sent behind the 100,000 on the same port: all of them were counted.
    expect(await producer.call('produce', { to: counter.id, n: 100000 })).toEqual({ rc: 0 });
    expect(await counter.call('get')).toEqual({ count: 100000, out_of_order: 0 });
    await Promise.all([counter.stop(), producer.stop()]);
  });

  test('messages from the host to one actor arrive in order', async () => {
    const counter = await sys.spawn('counter');
    for (let i = 0; i < 20000; i++) counter.send('n', i);
    expect(await counter.call('get')).toEqual({ count: 20000, out_of_order: 0 });
    await counter.stop();
  });

  test('64 actors alive at once', async () => {
    const refs = await Promise.all(Array.from({ length: 64 }, () => sys.spawn('echo')));
    expect(new Set(refs.map((r) => r.id)).size).toBe(64);
    const replies = await Promise.all(refs.map((r, i) => r.call('n', i)));
    expect(replies).toEqual([...Array(64).keys()]);
    expect(refs.every((r) => r.alive)).toBe(true);
    await Promise.all(refs.map((r) => r.stop()));
  });
});

describe('actor to actor', () => {
  test('C calls C over a direct channel; ping-pong runs', async () => {
    const [echo, relay] = await Promise.all([sys.spawn('echo'), sys.spawn('relay')]);
    expect(await relay.call('relay', { to: echo.id, type: 'x', timeout: 5000 })).toEqual({ rc: 0, extra: 6 });
    const [pong, ping] = await Promise.all([sys.spawn('pong'), sys.spawn('ping')]);
    expect(await ping.call('run', { peer: pong.id, n: 1000 })).toEqual({ rounds: 1000 });
    await Promise.all([echo.stop(), relay.stop(), pong.stop(), ping.stop()]);
  });

  test('ferry_spawn from C starts an actor and calls it', async () => {
    const relay = await sys.spawn('relay');
    const r = await relay.call('spawn', 'echo');
    expect(r.rc).toBe(0);
    const child = sys.actors.find((a) => a.id === r.extra);
    expect(child?.name).toBe('echo');
    expect(await child.call('ping', 'pong')).toBe('pong');
    const bad = await relay.call('spawn', 'no-such-type');
    expect(bad.rc).toBe(-16); // FERRY_ENOTFOUND
    await Promise.all([relay.stop(), child.stop()]);
  });

  test('a call to a crashed, stopped or unknown actor fails with EDOWN / ENOTFOUND', async () => {
    const [crash, relay] = await Promise.all([sys.spawn('crash'), sys.spawn('relay')]);
    expect(await relay.call('relay', { to: crash.id, type: 'trap', timeout: 5000 })).toEqual({ rc: -12, extra: 0 });
    expect((await crash.down).name).toBe('Trap');
    // Known down: fails at once.
    expect(await relay.call('relay', { to: crash.id, type: 'x', timeout: 0 })).toEqual({ rc: -12, extra: 0 });
    expect(await relay.call('relay', { to: 99999, type: 'x', timeout: 5000 })).toEqual({ rc: -16, extra: 0 });
    await relay.stop();
  });

  test('a send to an actor that is gone comes back as an error message', async () => {
    const [relay, victim] = await Promise.all([sys.spawn('relay'), sys.spawn('echo')]);
    const undelivered = new Promise((resolve) => {
      relay.onmessage = (m) => m.type === 'undelivered' && resolve(m.value);
    });
    expect(await relay.call('send_to', { to: 424242, type: 'x', timeout: 0 })).toEqual({ rc: 0 });
    expect(await undelivered).toEqual({ rc: -16 });
    await victim.stop();
    expect(await relay.call('send_to', { to: victim.id, type: 'x', timeout: 0 })).toEqual({ rc: -12 });
    await relay.stop();
  });
});

describe('failures', () => {
  test('a trap in the middle of 1,000 pending calls: every call settles, none hang', async () => {
    const crash = await sys.spawn('crash');
    const calls = [];
    for (let i = 0; i < 1000; i++) calls.push(crash.call(i === 500 ? 'trap' : 'ok', i));
    let timer;
    const settled = await Promise.race([
      Promise.allSettled(calls),
      new Promise((r) => (timer = setTimeout(() => r('hung'), 20000))),
    ]);
    clearTimeout(timer);
    expect(settled).not.toBe('hung');
    const ok = settled.filter((s) => s.status === 'fulfilled').length;
    const failed = settled.filter((s) => s.status === 'rejected');
    expect(ok).toBe(500);
    expect(failed.length).toBe(500);
    for (const f of failed) {
      expect(f.reason).toBeInstanceOf(FerryError);
      expect(f.reason.code).toBe('EDOWN');
    }
    const reason = await crash.down;
    expect(reason).toMatchObject({ code: 'EDOWN', name: 'Trap', actor: crash.id });
    expect(reason.message).toMatch(/trapped: unreachable/);
    expect(crash.alive).toBe(false);
    // The System keeps serving the others.
    const echo = await sys.spawn('echo');
    expect(await echo.call('x', 1)).toBe(1);
    await echo.stop();
  });

  test.each([
    ['abort', 'Exit', /abort/],
    ['exit', 'Exit', /exit\(3\)/],
    ['oob', 'Trap', /out of bounds/],
  ])('%s stops that actor only, with a reason', async (what, name, message) => {
    const [crash, other] = await Promise.all([sys.spawn('crash'), sys.spawn('echo')]);
    const e = await rejection(crash.call(what));
    expect(e.code).toBe('EDOWN');
    const reason = await crash.down;
    expect(reason.name).toBe(name);
    expect(reason.message).toMatch(message);
    expect(await other.call('still', 'here')).toBe('here');
    const after = await rejection(crash.call('ok'));
    expect(after.code).toBe('EDOWN');
    expect(() => crash.send('ok')).toThrow(FerryError);
    await other.stop();
  });

  test('an actor that returns stops with its exit code; only 0 is normal', async () => {
    const crash = await sys.spawn('crash');
    expect(await crash.call('return')).toEqual({ rc: 0 });
    expect(await crash.down).toMatchObject({ name: 'Stopped', exitCode: 7, normal: false });
  });

  test('a malformed envelope gets a clear error and the actor keeps running', async () => {
    const echo = await sys.spawn('echo');
    const errors = [];
    const three = new Promise((resolve) => {
      echo.onerror = (e) => errors.push(e) === 3 && resolve();
    });
    echo.postRaw(new Uint8Array([0x84, 0x00, 0x61]).buffer); // truncated
    echo.postRaw(encodeToArrayBuffer([9, 'x', 0, null])); // bad kind
    echo.postRaw(encodeToArrayBuffer({ not: 'an envelope' }));
    expect(await echo.call('after', 'fine')).toBe('fine');
    await three;
    expect(errors.length).toBe(3);
    expect(errors[0].code).toBe('ETRUNCATED');
    expect(errors[0].message).toMatch(/rejected a malformed message: error at byte \d+: /);
    expect(errors[1].code).toBe('EINVALID');
    expect(errors[1].message).toMatch(/kind must be 0..3/);
    expect(errors[2].message).toMatch(/array of 4/);
    await echo.stop();
  });
});

describe('timeouts, cancellation, overflow', () => {
  test('a JS call times out with ETIMEDOUT; the actor goes on', async () => {
    const w = await sys.spawn('waiter');
    const e = await rejection(w.call('hold', 300, { timeout: 50 }));
    expect(e.code).toBe('ETIMEDOUT');
    expect(e.message).toMatch(/timed out after 50 ms/);
    expect(await w.call('ping')).toEqual({ rc: 0 });
    await w.stop();
  });

  test('C-side timeouts: ferry_recv and ferry_call return ETIMEDOUT; late replies are dropped', async () => {
    const w = await sys.spawn('waiter');
    expect(await w.call('recv', 30)).toEqual({ rc: -13 });
    expect(await w.call('call_host', 30)).toEqual({ rc: -13 });
    // The host answers "late" after 100 ms, after C gave up at 20 ms.
    let answered;
    const lateAnswer = new Promise((r) => (answered = r));
    sys.handle('never', async () => {
      await sleep(100); // the simulated slow host, not a wait for the test
      answered();
      return 'too late';
    });
    expect(await w.call('call_host', 20)).toEqual({ rc: -13 });
    // The late reply leaves in the same flush as the call below (or just
    // before it), on the same port: it reaches the actor while that
    // ferry_recv waits, which would return it if it were not dropped.
    await lateAnswer;
    // The stray reply did not land in the mailbox.
    expect(await w.call('recv', 30)).toEqual({ rc: -13 });
    sys.handle('never', () => new Promise(() => {}));
    await w.stop();
  });

  test('a call can be cancelled with an AbortSignal', async () => {
    const w = await sys.spawn('waiter');
    const ac = new AbortController();
    const p = w.call('hold', 300, { signal: ac.signal });
    ac.abort(new Error('user gave up'));
    const e = await rejection(p);
    expect(e.code).toBe('ECANCELED');
    expect(e.cause.message).toBe('user gave up');
    const pre = await rejection(w.call('ping', null, { signal: AbortSignal.abort() }));
    expect(pre.code).toBe('ECANCELED');
    expect(await w.call('ping')).toEqual({ rc: 0 });
    await w.stop();
  });

  test('messages that arrive during a call stay queued, in order', async () => {
    const w = await sys.spawn('waiter');
    const seen = new Promise((resolve) => {
      w.onmessage = (m) => m.type === 'seen' && resolve(m.value);
    });
    const started = holdStarted();
    const hold = w.call('hold', 100);
    await started;
    for (const t of ['s1', 's2', 's3', 's4']) w.send(t, null);
    expect(await hold).toEqual({ rc: 0 });
    expect(await seen).toBe('s1,s2,s3,s4,');
    await w.stop();
  });

  test('a full mailbox is reported to the sender (EFULL), nothing dropped silently', async () => {
    const w = await sys.spawn('waiter', { mailbox: { messages: 5 } });
    const errors = [];
    w.onerror = (e) => errors.push(e);
    const seen = new Promise((resolve) => {
      w.onmessage = (m) => m.type === 'seen' && resolve(m.value);
    });
    const started = holdStarted();
    const hold = w.call('hold', 200);
    await started;
    for (let i = 0; i < 20; i++) w.send('a', i);
    const extra = await rejection(w.call('one-more'));
    expect(extra.code).toBe('EFULL');
    expect(extra.message).toMatch(/mailbox of actor \d+ \(waiter\) is full/);
    expect(await hold).toEqual({ rc: 0 });
    expect(await seen).toBe('a,a,a,a,a,');
    expect(errors.length).toBe(15);
    expect(errors.every((e) => e.code === 'EFULL')).toBe(true);
    await w.stop();
  });
  test('the mailbox byte bound is enforced too', async () => {
    const w = await sys.spawn('waiter', { mailbox: { bytes: 2000 } });
    const errors = [];
    w.onerror = (e) => errors.push(e);
    const started = holdStarted();
    const hold = w.call('hold', 200);
    await started;
    for (let i = 0; i < 6; i++) w.send('big', new Uint8Array(600));
    // The bounces were posted when the sends arrived, before the hold's
    // reply and on the same port: they are all in once it resolves.
    expect(await hold).toEqual({ rc: 0 });
    // About 3 fit in 2000 bytes; the rest were reported, none vanished.
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.length).toBeLessThanOrEqual(4);
    expect(errors[0].code).toBe('EFULL');
    expect(errors[0].message).toMatch(/bytes/);
    await w.stop();
  });
});

describe('transfer and blobs', () => {
  test('an envelope buffer is detached after posting', () => {
    const { port1, port2 } = new MessageChannel();
    const buf = encodeToArrayBuffer([0, 'x', 0, null]);
    expect(buf.byteLength).toBeGreaterThan(0);
    postItems(port1, [{ buf, xfer: null }]);
    expect(buf.byteLength).toBe(0);
    const a = encodeToArrayBuffer([0, 'a', 0, 1]);
    const b = encodeToArrayBuffer([0, 'b', 0, 2]);
    postItems(port1, [{ buf: a, xfer: null }, { buf: b, xfer: null }]);
    expect(a.byteLength + b.byteLength).toBe(0);
    port1.close();
    port2.close();
  });

  test('a 20 MB blob makes a round trip without a copy', async () => {
    const blobs = await sys.spawn('blobs');
    const n = 20 * 1024 * 1024;
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i += 4096) data[i] = (i >> 12) & 255;
    const before = await blobs.stats();
    expect(await blobs.call('put', { data: transfer(data) })).toEqual({ rc: 0, extra: n });
    expect(data.byteLength).toBe(0); // moved, not copied
    expect(await blobs.call('size')).toEqual({ rc: 0, extra: n });
    const back = await blobs.call('take');
    expect(back.data).toBeInstanceOf(Uint8Array);
    expect(back.data.length).toBe(n);
    let same = true;
    for (let i = 0; i < n; i += 4096) same &&= back.data[i] === ((i >> 12) & 255);
    expect(same).toBe(true);
    const after = await blobs.stats();
    // Only envelopes crossed wasm memory: far less than one copy of the blob.
    expect(after.bytesIn + after.bytesOut - before.bytesIn - before.bytesOut).toBeLessThan(1024);
    expect(after.blobs).toBe(0);
    await blobs.stop();
  });

  test('blob dup, read, from; bad blob requests are errors', async () => {
    const blobs = await sys.spawn('blobs');
    const src = Uint8Array.from({ length: 1000 }, (_, i) => i & 255);
    await blobs.call('put', { data: transfer(src.slice()) });
    const dup = await blobs.call('dup');
    expect([...dup.data]).toEqual([...src]);
    expect(await blobs.call('size')).toEqual({ rc: 0, extra: 1000 }); // the original stays
    const part = await blobs.call('read', { off: 10, len: 5 });
    expect([...part.data]).toEqual([10, 11, 12, 13, 14]);
    const bad = await rejection(blobs.call('read', { off: 999, len: 5 }));
    expect(bad.code).toBe('EINVAL');
    const made = await blobs.call('from', 300);
    expect(made.data.length).toBe(300);
    expect(made.data[7]).toBe((7 * 13 + 5) & 255);
    // A blob field pointing past the message's transfer list.
    const e = await rejection(blobs.call('put', { data: new (await import('../../glue/serializer.mjs')).OutOfBand(3) }));
    expect(e.code).toBe('ERANGE');
    expect(e.message).toBe('blob_msg.data: blob 3 but the message carries 0');
    expect(() => transfer(new Uint8Array(new ArrayBuffer(8), 2, 4))).toThrow(/whole ArrayBuffer/);
    await blobs.stop();
  });

  test('a 20 MB bytes field crosses wasm memory once per side', async () => {
    const blobs = await sys.spawn('blobs');
    const n = 20 * 1024 * 1024;
    const data = new Uint8Array(n);
    data[0] = 1;
    data[n - 1] = 2;
    const before = await blobs.stats();
    const r = await blobs.call('bytes', { data });
    expect(r.data.length).toBe(n);
    expect(r.data[0] + r.data[n - 1]).toBe(3);
    const after = await blobs.stats();
    const moved = after.bytesIn + after.bytesOut - before.bytesIn - before.bytesOut;
    expect(moved).toBeGreaterThanOrEqual(2 * n);
    expect(moved).toBeLessThan(2 * n + 4096); // in once, out once
    await blobs.stop();
  });
});

describe('System errors', () => {
  test('spawn of an unknown type names the types the module has', async () => {
    const e = await rejection(sys.spawn('nope'));
    expect(e.code).toBe('ENOTFOUND');
    expect(e.message).toMatch(/no actor type "nope" in this module \(it has: .*echo.*\)/);
  });

  test('System.start refuses modules it cannot use', async () => {
    await expect(System.start({})).rejects.toThrow(/module/);
    await expect(System.start({ module: '/nonexistent.wasm' })).rejects.toThrow(/cannot compile/);
    const notFerry = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    await expect(System.start({ module: notFerry })).rejects.toThrow(/no ferry actors/);
  });

  test('after shutdown nothing new starts', async () => {
    const other = await System.start({ module: sys.module });
    const echo = await other.spawn('echo');
    await other.shutdown();
    expect((await echo.down).code).toBe('ECLOSED');
    expect((await rejection(other.spawn('echo'))).code).toBe('ECLOSED');
    expect((await rejection(echo.call('x'))).code).toBe('ECLOSED');
  });

  test('bad arguments are clear errors', async () => {
    const echo = await sys.spawn('echo');
    expect(() => echo.send(42, 'x')).toThrow(/message type must be a string/);
    await expect(echo.call('x', 1, { timeout: -1 })).rejects.toThrow(/timeout must be/);
    await expect(sys.spawn('')).rejects.toThrow(/non-empty string/);
    expect(await echo.call('still', 'ok')).toBe('ok');
    await echo.stop();
  });
});
