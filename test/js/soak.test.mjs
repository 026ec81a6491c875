// The soak (test/soak/, docs/reliability.md ("The soak")): its checker on made-up
// input (a lost, a duplicated, a reordered and a corrupted message must each
// be found; the slope on synthetic series), first contact between two
// actors, and the soak itself for 60 s in a child process, judged by its
// JSON.
import path from 'node:path';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { jest } from '@jest/globals';
import { System } from '../../glue/index.mjs';
import { PairChecker, Receiver, judge, slope, slopes, pattern, fillPattern, checkPattern } from '../soak/checker.mjs';
import { parseArgs, limitsFor, LIMITS } from '../soak/soak.mjs';
import { root, buildDir, wasmDir, mustExist } from './paths.mjs';

jest.setTimeout(240000);

// What a receiver saw of seqs, judged against `sent` from sender 1 to 2.
const verdict = (seqs, sent = 5) => {
  const c = new PairChecker(1);
  for (const s of seqs) c.observe(s);
  return judge([{ from: 1, to: 2, count: sent }], [{ ...c.report(), to: 2 }]).totals;
};

describe('the checker', () => {
  test('a clean sequence passes', () => {
    expect(verdict([0, 1, 2, 3, 4])).toMatchObject({ ok: true, sent: 5, delivered: 5, lost: 0, duplicated: 0, reordered: 0 });
  });

  test('a lost message is found, in the middle and at the end', () => {
    expect(verdict([0, 1, 3, 4])).toMatchObject({ ok: false, lost: 1, duplicated: 0, reordered: 0 });
    expect(verdict([0, 1, 2, 3])).toMatchObject({ ok: false, lost: 1, duplicated: 0, reordered: 0 });
    expect(verdict([])).toMatchObject({ ok: false, lost: 5 });
  });

  test('a duplicated message is found, late or at once', () => {
    expect(verdict([0, 1, 2, 2, 3, 4])).toMatchObject({ ok: false, lost: 0, duplicated: 1, reordered: 0 });
    expect(verdict([0, 1, 2, 3, 4, 1])).toMatchObject({ ok: false, lost: 0, duplicated: 1, reordered: 0 });
  });

  test('a reordered message is found and is not counted lost', () => {
    expect(verdict([0, 2, 1, 3, 4])).toMatchObject({ ok: false, lost: 0, duplicated: 0, reordered: 1 });
    expect(verdict([4, 0, 1, 2, 3])).toMatchObject({ ok: false, lost: 0, duplicated: 0, reordered: 4 });
  });

  test('a message the sender never counted is a duplicate (a phantom)', () => {
    expect(verdict([0, 1, 2, 3, 4, 5])).toMatchObject({ ok: false, duplicated: 1 });
  });

  test('a corrupted payload is found; a receiver that saw nothing is all lost', () => {
    const rx = new Receiver();
    rx.pair(7).observe(0);
    rx.pair(7).bad++;
    const j = judge(
      [{ from: 7, to: 0, count: 1 }, { from: 8, to: 0, count: 2 }],
      rx.report().map((r) => ({ ...r, to: 0 })),
    );
    expect(j.totals).toMatchObject({ ok: false, corrupted: 1, lost: 2, pairs: 2 });
  });

  test('the payload pattern: checked whole up to 1 MiB, sampled beyond', () => {
    const small = fillPattern(new Uint8Array(1000), 42);
    expect(checkPattern(small, 42, 1000)).toBe(true);
    expect(checkPattern(small, 43, 1000)).toBe(false);
    small[999] ^= 1;
    expect(checkPattern(small, 42, 1000)).toBe(false);
    const big = fillPattern(new Uint8Array(3 << 20), 7);
    expect(checkPattern(big, 7, 3 << 20)).toBe(true);
    big[(64 << 10) + (1 << 20) + 100] ^= 0xff; // a sampled byte (64 KiB + k MiB, 256 of them)
    expect(checkPattern(big, 7, 3 << 20)).toBe(false);
    expect(checkPattern(big.subarray(1), 7, 3 << 20)).toBe(false);
    // the same bytes as soak.c: ((i ^ seed) * 2654435761 + seed) >> 24, mod 2^32
    expect(pattern(0, 1)).toBe(0x9e);
    expect(pattern(0x01000000, 0)).toBe(0xb2);
  });

  test('slope: least squares per unit of x, flat only below the limit', () => {
    const xs = [0, 1, 2, 3, 4];
    expect(slope(xs, xs.map((x) => 3 * x + 10))).toBeCloseTo(3, 12);
    expect(slope(xs, [5, 5, 5, 5, 5])).toBe(0);
    expect(slope(xs, [1, -1, 1, -1, 1])).toBeCloseTo(0, 12);
    expect(slope([1], [1])).toBe(0);
    // samples each second for 3 minutes: a 2 MB/min leak under noise
    const samples = [];
    for (let t = 0; t <= 180; t++) samples.push({ t, leak: (2 << 20) * (t / 60) + ((t * 7919) % 13) * 65536, flat: 100 + (t % 5), shrinks: 1000 - t });
    const s = slopes(samples, {
      leak: { get: (x) => x.leak, limit: 1 << 20, unit: 'bytes' },
      flat: { get: (x) => x.flat, limit: 1, unit: 'n' },
      shrinks: { get: (x) => x.shrinks, limit: 1, unit: 'n' },
    }, 60);
    expect(s.leak.perMinute / (1 << 20)).toBeCloseTo(2, 1);
    expect(s.leak.flat).toBe(false);
    expect(s.flat.flat).toBe(true);
    expect(s.shrinks.flat).toBe(true);
    expect(s.leak.samples).toBe(121); // the warm-up is left out
  });

  test('options: defaults and clear errors', () => {
    expect(parseArgs([])).toMatchObject({ seconds: 600, actors: 16, sample: 5, warmup: 60 });
    expect(parseArgs(['--minutes', '2'])).toMatchObject({ seconds: 120, sample: 2, warmup: 40 });
    expect(limitsFor(600)).toBe(LIMITS);
    expect(limitsFor(60).arrayBuffers.limit).toBeGreaterThan(LIMITS.arrayBuffers.limit);
    expect(limitsFor(60).heapUsed).toBe(LIMITS.heapUsed);
    expect(() => parseArgs(['--minutes', 'x'])).toThrow(/--minutes wants a number/);
    expect(() => parseArgs(['--frobnicate'])).toThrow(/unknown option --frobnicate/);
    expect(() => parseArgs(['--actors', '1'])).toThrow(/--actors wants 2..60/);
  });
});

test('a bad option: exit status 2 and what is wrong', () => {
  const p = spawnSync(process.execPath, [path.join(root, 'test/soak/soak.mjs'), '--minutes', 'ten'], { encoding: 'utf8' });
  expect(p.status).toBe(2);
  expect(p.stderr).toMatch(/soak: --minutes wants a number, got "ten"/);
});

describe('first contact', () => {
  // Two actors that send to each other for the first time at the same
  // moment both ask the host for a channel. They must end up with one:
  // with two, each side's early messages go on one port and later ones on
  // the other, and the receiver can take them out of order (the soak
  // found 4 reordered messages of one pair in 75 s this way).
  test('two actors that first send to each other at once share one channel, in order', async () => {
    const sys = await System.start({ module: mustExist(path.join(wasmDir, 'soak.wasm')) });
    try {
      for (let round = 0; round < 4; round++) {
        const a = await sys.spawn('soak');
        const b = await sys.spawn('soak');
        await Promise.all([a.call('soak.burst', { to: b.id, n: 50, rounds: 4 }), b.call('soak.burst', { to: a.id, n: 50, rounds: 4 })]);
        const [ra, rb] = await Promise.all([a.call('soak.report', null), b.call('soak.report', null)]);
        const j = judge(
          [{ from: a.id, to: b.id, count: 200 }, { from: b.id, to: a.id, count: 200 }],
          [...ra.recv.map((r) => ({ ...r, to: a.id })), ...rb.recv.map((r) => ({ ...r, to: b.id }))],
        );
        expect(j.totals).toMatchObject({ ok: true, sent: 400, delivered: 400 });
        expect((await a.stats()).ports).toBe(1);
        expect((await b.stats()).ports).toBe(1);
        await a.stop();
        await b.stop();
      }
    } finally {
      await sys.shutdown();
    }
  });
});

describe('the soak, 60 s', () => {
  // 16 actors, the host and a connected JS thread; payloads up to 20 MB
  // between actors and from actors to JS, up to 4 MB from JS (20 MB
  // buffers the host allocates count in its arrayBuffers until the worker
  // that got them collects them: noise a 40 s window cannot tell from a
  // leak; the 10-minute run sends 20 MB from JS too). In a child process
  // of its own so that its heap samples are its own and --expose-gc holds.
  test('nothing lost, duplicated or reordered; every call one reply; memory flat', () => {
    const out = path.join(buildDir, 'soak-60s.json');
    fs.rmSync(out, { force: true });
    const p = spawnSync(process.execPath, ['--expose-gc', path.join(root, 'test/soak/soak.mjs'), '--seconds', '60', '--js-max-size', String(4 << 20), '--json', out, '--quiet'], {
      encoding: 'utf8',
      timeout: 200000,
    });
    const r = JSON.parse(fs.readFileSync(out, 'utf8'));
    const why = `${p.stdout}\n${p.stderr}`;
    expect({ status: p.status, why }).toMatchObject({ status: 0 });
    expect(r.ok).toBe(true);
    expect(r.totals.actors).toBe(16);
    expect(r.totals.messages).toBe(r.totals.messagesSent);
    expect(r.totals.messages).toBeGreaterThan(10000);
    expect(r.order).toMatchObject({ ok: true, lost: 0, duplicated: 0, reordered: 0, corrupted: 0 });
    expect(r.order.pairs).toBeGreaterThanOrEqual(16 * 15);
    expect(r.calls.ok).toBe(true);
    expect(r.calls.c.made).toBe(r.calls.c.replies);
    expect(r.calls.js.made).toBe(r.calls.js.replies);
    expect(r.calls.lends.asked).toBeGreaterThan(0);
    expect(r.loans).toMatchObject({ ok: true, lost: 0, out: 0 });
    expect(r.loans.lent).toBeGreaterThan(0);
    // rss is reported but not judged under 5 minutes (soak.mjs says why)
    expect(r.slopes.rss.judged).toBe(false);
    for (const [name, s] of Object.entries(r.slopes)) if (s.judged !== false) expect({ name, flat: s.flat }).toEqual({ name, flat: true });
    expect(r.settled).toMatchObject({ blobs: 0, loansOut: 0, pendingCalls: 0, mailbox: 0 });
    expect(r.samples.length).toBeGreaterThanOrEqual(12);
    expect(r.totals.received).toMatchObject({ minSize: 16, maxSize: 20 << 20 });
    expect(r.totals.received.of20MB).toBeGreaterThan(0);
    for (const how of ['bytesField', 'blob', 'loan']) expect(r.totals.received[how]).toBeGreaterThan(1000);
  });
});
