// Hostile input at every door (issue 12): a JS thread connected to an actor
// with ref.connect() that posts garbage instead of ferry's port messages,
// and API misuse from JS, each answered by a FerryError with a code.
// The fuzz targets behind these doors are in test/fuzz/js (fuzz.test.mjs
// runs them briefly; `npm run fuzz` runs them long).
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { jest } from '@jest/globals';
import { System, connect } from '../../glue/index.mjs';
import { wasmDir, mustExist } from './paths.mjs';

jest.setTimeout(120000);

const modulePath = path.join(wasmDir, 'test-actors.wasm');
let sys;

beforeAll(async () => {
  sys = await System.start({ module: mustExist(modulePath) });
});

afterAll(async () => {
  await sys?.shutdown();
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
