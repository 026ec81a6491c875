// Deadlines on one timer (glue/wire/deadlines.mjs), which the loans of
// the host (host/loans.mjs) and of workers (worker/blobs.mjs) use. Real
// timers, short deadlines. No workers, no wasm.
import { jest } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { Deadlines } from '../../glue/wire/deadlines.mjs';

// (sleep is node:timers/promises', not the global setTimeout the test spies on.)

test('each key comes due at its time, earliest first; deleted keys never do', async () => {
  const fired = [];
  const d = new Deadlines((k) => fired.push(k));
  d.add('late', 60);
  d.add('early', 10);
  d.add('gone', 20);
  d.add('mid', 30);
  d.delete('gone');
  expect(d.size).toBe(3);
  await sleep(45);
  expect(fired).toEqual(['early', 'mid']);
  await sleep(40);
  expect(fired).toEqual(['early', 'mid', 'late']);
  expect(d.size).toBe(0);
});

test('a stream of deadlines met in time arms one timer, not one per deadline', async () => {
  const spy = jest.spyOn(globalThis, 'setTimeout');
  try {
    const fired = [];
    const d = new Deadlines((k) => fired.push(k));
    const before = spy.mock.calls.length;
    for (let i = 0; i < 1000; i++) {
      d.add(i, 50);
      d.delete(i); // met: the loan came home
    }
    expect(spy.mock.calls.length - before).toBe(1);
    await sleep(70);
    // The timer fired, found nothing due and armed nothing more.
    expect(fired).toEqual([]);
    expect(spy.mock.calls.length - before).toBe(1);
  } finally {
    spy.mockRestore();
  }
});

test('a key added again gets its new deadline; clear() ends them all', async () => {
  const fired = [];
  const d = new Deadlines((k) => fired.push(k));
  d.add('a', 10);
  d.add('a', 50);
  await sleep(30);
  expect(fired).toEqual([]);
  await sleep(40);
  expect(fired).toEqual(['a']);
  d.add('b', 10);
  d.clear();
  await sleep(30);
  expect(fired).toEqual(['a']);
});

test('a callback that adds a deadline of its own is served too', async () => {
  const fired = [];
  const d = new Deadlines((k) => {
    fired.push(k);
    if (k === 'first') d.add('second', 10);
  });
  d.add('first', 5);
  await sleep(50);
  expect(fired).toEqual(['first', 'second']);
});
