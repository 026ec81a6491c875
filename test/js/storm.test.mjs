// The fault storm: 64 actors, 1,000 pending calls, and faults of every kind
// injected in the middle of them — trap, abort, return, stack overflow,
// out of memory (at a 32 MiB cap), an infinite loop ended by stop(), a
// worker terminated from outside, and borrowers that die holding a loan.
// Every call must settle exactly once with the right outcome, every loan
// come home or be reported lost, the survivors keep serving, and nothing
// leak. Actors: test/actors/faults.c ("hog") and runtime_pieces.c
// ("lender", "borrower"). Figures go to build/storm.json.
import fs from 'node:fs';
import path from 'node:path';
import { jest } from '@jest/globals';
import { System, FerryError } from '../../glue/index.mjs';
import { buildDir, wasmDir, mustExist } from './paths.mjs';

jest.setTimeout(120000);

const MiB = 1024 * 1024;
const ACTORS = 64;
const CALLS = 1000;
const FAULT_AT = 8; // the fault is the 9th call an actor gets (of 15 or 16)
const BLOB = { HOME: 1, LENT: 2, LOST: 4 };

// Victims: kind -> [actor type, the call that injects the fault, down
// reason expected].
const FAULTS = {
  trap: ['hog', 'trap', { code: 'EDOWN', name: 'Trap', message: /trapped: unreachable/ }],
  abort: ['hog', 'abort', { code: 'EDOWN', name: 'Exit', message: /abort\(\)/ }],
  return: ['hog', 'return', { code: 'EDOWN', name: 'Stopped', message: /returned 5/, exitCode: 5 }],
  stack: ['hog', 'deep', { code: 'EDOWN', name: 'RangeError', message: /call stack/ }],
  oom: ['hog', 'eat_trap', { code: 'ENOMEM', name: 'Trap', message: /after running out of memory/ }],
  spin: ['hog', 'spin', { code: 'EDOWN', name: 'Stopped', message: /stopped by the host/, normal: true }],
  kill: ['hog', 'spin', { code: 'EDOWN', message: /worker failed: worker exited/ }],
  loanTrap: ['borrower', 'trap', { code: 'EDOWN', name: 'Trap', message: /trapped/ }],
  loanKill: ['borrower', 'spin', { code: 'EDOWN', message: /worker failed: worker exited/ }],
};
const PLAN = { trap: 3, abort: 3, return: 3, stack: 3, oom: 3, spin: 3, kill: 3, loanTrap: 2, loanKill: 1 };

const say = process.env.STORM_DEBUG ? (...a) => console.error(Math.round(performance.now()), ...a) : () => {};
const ports = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;

async function until(what, check, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('fault storm: 64 actors, 1,000 pending calls, every kind of fault', async () => {
  const t0 = performance.now();
  const sys = await System.start({ module: mustExist(path.join(wasmDir, 'test-actors.wasm')), maxMemory: 32 * MiB });
  const basePorts = ports();
  try {
    // --- the cast: victims, the lenders of the borrowers, survivors.
    const roles = [];
    for (const [kind, n] of Object.entries(PLAN)) for (let i = 0; i < n; i++) roles.push({ kind, type: FAULTS[kind][0] });
    const borrowers = roles.filter((r) => r.type === 'borrower');
    for (let i = 0; i < borrowers.length; i++) roles.push({ kind: 'lender', type: 'lender' });
    while (roles.length < ACTORS) roles.push({ kind: 'survivor', type: 'hog' });
    const refs = await Promise.all(roles.map((r) => sys.spawn(r.type)));
    const byId = new Map();
    roles.forEach((r, i) => {
      r.ref = refs[i];
      r.spinning = new Promise((res) => (r.nowSpinning = res));
      byId.set(r.ref.id, r);
    });
    sys.handle('spinning', (_, ref) => {
      byId.get(ref.id).nowSpinning();
      return null;
    });
    const spawned = performance.now();
    say('spawned');
    // Every worker holds ports of its own: the count we watch for leaks.
    expect(ports()).toBeGreaterThanOrEqual(basePorts + ACTORS);

    // --- loans: each lender lends a 1 MiB blob to its borrower.
    const lenders = roles.filter((r) => r.kind === 'lender');
    await Promise.all(borrowers.map(async (b, i) => {
      const l = lenders[i];
      b.lender = l;
      l.borrower = b;
      expect((await l.ref.call('make', { size: MiB })).rc).toBe(0);
      expect((await l.ref.call('give', { to: b.ref.id })).rc).toBe(0);
      let last;
      await until('the loan to arrive', async () => (last = await b.ref.call('check')).rc === 3 /* BORROWED */).catch((e) => {
        throw new Error(`${e.message}: ${JSON.stringify(last)}`);
      });
      expect((await l.ref.call('state')).rc).toBe(BLOB.LENT);
    }));

    say('loans set');
    // --- 1,000 calls, round robin; a victim's 9th call is its fault.
    const calls = [];
    const settledCount = new Uint8Array(CALLS);
    const perActor = roles.map(() => []);
    const tStorm = performance.now();
    let lastSettled = 0;
    for (let i = 0; i < CALLS; i++) {
      const a = i % ACTORS;
      const r = roles[a];
      const pos = perActor[a].length;
      const fault = r.kind in FAULTS && pos === FAULT_AT;
      const type = fault ? FAULTS[r.kind][1] : 'echo';
      const c = { i, a, pos, fault, type, outcome: null };
      c.p = r.ref.call(type, i).then(
        (v) => ({ ok: true, v }), (e) => ({ ok: false, e }),
      ).then((o) => {
        settledCount[i]++;
        c.outcome = o;
        lastSettled = performance.now();
      });
      calls.push(c);
      perActor[a].push(c);
    }

    // The spinners call the host ("spinning") just before their loop, after
    // the replies to their earlier calls have left; once the reply to that
    // is in, the actor loops and no longer answers even stats(). Then
    // stop(), or its worker is terminated from outside, behind ferry's back.
    const spinners = roles.filter((r) => ['spin', 'kill', 'loanKill'].includes(r.kind));
    await Promise.all(spinners.map(async (r) => {
      const a = roles.indexOf(r);
      await r.spinning;
      const before = await Promise.all(perActor[a].slice(0, FAULT_AT).map((c) => c.p.then(() => c.outcome.ok)));
      expect(before.every(Boolean)).toBe(true);
      // (The reply to "spinning" goes out with the next flush of the
      // host's outbox: give it that turn before asking for stats.)
      await new Promise((res) => setTimeout(res, 50));
      let timer;
      const answered = await Promise.race([
        r.ref.stats().then(() => true),
        new Promise((res) => (timer = setTimeout(() => res(false), 500))),
      ]);
      clearTimeout(timer);
      expect(answered).toBe(false);
      say('spinning', r.kind, r.ref.id);
      if (r.kind === 'spin') await r.ref.stop();
      else await sys._worker(r.ref.id).terminate(); // not through ferry
    }));

    say('spinners handled');
    let timer;
    const all = await Promise.race([
      Promise.all(calls.map((c) => c.p)).then(() => 'settled'),
      new Promise((res) => (timer = setTimeout(() => res('hung'), 60000))),
    ]);
    clearTimeout(timer);
    expect(all).toBe('settled');
    const settleMs = lastSettled - tStorm;

    say('settled');
    // --- every call settled once, with the right outcome.
    expect([...settledCount].every((n) => n === 1)).toBe(true);
    expect(sys._pending.size).toBe(0);
    const tally = { fulfilled: 0, EDOWN: 0, other: 0 };
    for (const c of calls) {
      const r = roles[c.a];
      const victim = r.kind in FAULTS;
      const shouldFail = victim && (c.pos > FAULT_AT || (c.pos === FAULT_AT && r.kind !== 'return'));
      const o = c.outcome;
      if (!shouldFail) {
        if (!o.ok) throw new Error(`call ${c.i} "${c.type}" to ${r.kind} (${c.pos}) failed: ${o.e.message}`);
        if (r.type === 'hog') expect(o.v).toBe(c.i);
        else expect(o.v).toMatchObject({ rc: 0 });
        tally.fulfilled++;
      } else {
        if (o.ok) throw new Error(`call ${c.i} "${c.type}" to ${r.kind} (${c.pos}) should have failed`);
        expect(o.e).toBeInstanceOf(FerryError);
        expect(o.e.code).toBe('EDOWN');
        tally[o.e.code === 'EDOWN' ? 'EDOWN' : 'other']++;
      }
    }

    // --- each victim is down for its own reason.
    for (const r of roles.filter((x) => x.kind in FAULTS)) {
      const reason = await r.ref.down;
      const { message, ...rest } = FAULTS[r.kind][2];
      expect(reason).toMatchObject({ ...rest, actor: r.ref.id });
      expect(reason.message).toMatch(message);
      expect(r.ref.alive).toBe(false);
    }

    say('victims checked');
    // --- loans: home from a trapped borrower (the glue outlives the wasm),
    // reported lost when the borrower's worker was killed.
    for (const l of lenders) {
      const lost = l.borrower.kind === 'loanKill';
      const st = await until('the loan to settle', async () => {
        const s = await l.ref.call('state');
        return s.rc === (lost ? BLOB.LOST : BLOB.HOME) ? s : null;
      });
      if (lost) {
        expect(st).toMatchObject({ a: 0, b: 1, d: 0 });
        // The lost loan stays on the books until C lets go of its handle
        // (a buffer that still arrives would bring it back): "make" frees
        // it and makes a new blob.
        expect((await l.ref.stats()).loans.out).toBe(1);
        expect((await l.ref.call('make', { size: 1000 })).rc).toBe(0);
      } else {
        expect(st).toMatchObject({ a: 1, d: 0 });
      }
    }

    say('loans checked');
    // --- survivors keep serving: a round of calls, all answered.
    const survivors = roles.filter((r) => !(r.kind in FAULTS));
    expect(sys.actors.length).toBe(survivors.length);
    const round = await Promise.all(survivors.flatMap((r) => [1, 2, 3].map((k) => r.ref.call('echo', k))));
    for (const v of round) expect(v === 1 || v === 2 || v === 3 || v?.rc === 0).toBe(true);
    // ... with nothing left behind in them.
    for (const r of survivors) {
      const s = await r.ref.stats();
      expect(s.mailbox).toBe(0);
      expect(s.loans.out).toBe(0);
      expect(s.blobs).toBe(r.kind === 'lender' ? 1 : 0);
      expect(s.memory).toBeLessThanOrEqual(32 * MiB);
    }

    say('survivors served');
    // --- nothing leaks: stop them all; workers and ports go away.
    await Promise.all(survivors.map((r) => r.ref.stop()));
    expect(sys.actors.length).toBe(0);
    expect(sys._pending.size).toBe(0);
    await until('ports and workers back to the baseline', () => ports() <= basePorts);
    const figures = {
      actors: ACTORS, calls: CALLS,
      faults: Object.fromEntries(Object.entries(PLAN)),
      victims: roles.filter((r) => r.kind in FAULTS).length,
      survivors: survivors.length,
      outcomes: tally,
      spawnMs: Math.round(spawned - t0),
      settleMs: Math.round(settleMs),
      totalMs: Math.round(performance.now() - t0),
      basePorts, portsAfter: ports(),
    };
    fs.mkdirSync(buildDir, { recursive: true });
    fs.writeFileSync(path.join(buildDir, 'storm.json'), JSON.stringify(figures, null, 2) + '\n');
    expect(tally.other).toBe(0);
    expect(tally.fulfilled + tally.EDOWN).toBe(CALLS);
  } finally {
    await sys.shutdown();
  }
});
