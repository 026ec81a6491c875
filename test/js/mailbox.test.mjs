// The worker's Mailbox on its own (glue/worker/mailbox.mjs): order,
// selective receive, bounds. No workers, no wasm.
import { Mailbox } from '../../glue/worker/mailbox.mjs';
import { KIND } from '../../glue/wire/protocol.mjs';

const mail = (kind, corr, len = 10, tag = '') => ({ u8: new Uint8Array(len), xfer: null, from: 1, kind, corr, tag });

test('messages come out oldest first, and the byte total follows', () => {
  const mb = new Mailbox();
  for (let i = 0; i < 5; i++) mb.push(mail(KIND.SEND, 0, 10 + i, `m${i}`));
  expect(mb.length).toBe(5);
  expect(mb.bytes).toBe(10 + 11 + 12 + 13 + 14);
  const out = [];
  let m;
  while ((m = mb.take(0))) out.push(m.tag);
  expect(out).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  expect(mb.length).toBe(0);
  expect(mb.bytes).toBe(0);
  expect(mb.take(0)).toBeNull();
});

test('selective receive takes the reply with its corr from the middle; the rest keep their order', () => {
  const mb = new Mailbox();
  mb.push(mail(KIND.SEND, 0, 1, 'a'));
  mb.push(mail(KIND.CALL, 7, 1, 'call 7')); // a call with corr 7 is not a reply
  mb.push(mail(KIND.REPLY, 9, 1, 'reply 9'));
  mb.push(mail(KIND.SEND, 0, 1, 'b'));
  mb.push(mail(KIND.ERROR, 7, 1, 'error 7'));
  mb.push(mail(KIND.SEND, 0, 1, 'c'));
  expect(mb.find(8)).toBe(-1);
  expect(mb.take(7).tag).toBe('error 7');
  expect(mb.take(9).tag).toBe('reply 9');
  expect(mb.take(9)).toBeNull();
  const rest = [];
  let m;
  while ((m = mb.take(0))) rest.push(m.tag);
  expect(rest).toEqual(['a', 'call 7', 'b', 'c']);
});

test('fits() answers for the message count and the byte bound', () => {
  const mb = new Mailbox({ messages: 3, bytes: 100 });
  expect(mb.fits(100)).toBe(true);
  expect(mb.fits(101)).toBe(false);
  mb.push(mail(KIND.SEND, 0, 60));
  expect(mb.fits(40)).toBe(true);
  expect(mb.fits(41)).toBe(false);
  mb.push(mail(KIND.SEND, 0, 10));
  mb.push(mail(KIND.SEND, 0, 10));
  expect(mb.fits(1)).toBe(false); // three messages
  expect(mb.describe()).toBe('3 messages, 80 bytes; limits 3, 100');
  mb.take(0);
  expect(mb.fits(1)).toBe(true);
});

test('a long stream keeps order through compaction and reuse of the queue', () => {
  const mb = new Mailbox({ messages: 1e6, bytes: 1e9 });
  let next = 0;
  let expected = 0;
  let bad = 0;
  // Pushes outpace takes, so the head moves far (compaction), then drains.
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 300; i++) mb.push(mail(KIND.SEND, 0, 1, next++));
    for (let i = 0; i < 200; i++) if (mb.take(0).tag !== expected++) bad++;
  }
  let m;
  while ((m = mb.take(0))) if (m.tag !== expected++) bad++;
  expect(bad).toBe(0);
  expect(expected).toBe(next);
  expect(mb.bytes).toBe(0);
});

test('drain() hands back everything, oldest first, and empties the mailbox', () => {
  const mb = new Mailbox();
  for (const t of ['x', 'y', 'z']) mb.push(mail(KIND.SEND, 0, 2, t));
  mb.take(0);
  expect(mb.drain().map((m) => m.tag)).toEqual(['y', 'z']);
  expect([mb.length, mb.bytes]).toEqual([0, 0]);
});

test('limits are copied, not shared with the caller', () => {
  const limits = { messages: 1, bytes: 10 };
  const mb = new Mailbox(limits);
  limits.messages = 100;
  mb.push(mail(KIND.SEND, 0, 1));
  expect(mb.fits(1)).toBe(false);
});
