// loans.mjs - blobs an actor lent to this thread (ferry_blob_lend): the
// host holds each lent buffer here until it goes home, by release(buf),
// by its deadline, or when the host stops needing it (the owner is down).
// Holding it here also means it cannot be lost to the garbage collector
// while it is out: the owner always gets it back or is told.
import { FerryError } from '../wire/errors.mjs';
import { Deadlines } from '../wire/deadlines.mjs';

/** @typedef {{owner: import('./actor.mjs').ActorRecord, loan: number}} Loan */

/** @type {Map<ArrayBuffer, Loan>} */
const book = new Map();
// Loans with a deadline go home by themselves then (one timer for all).
const due = new Deadlines((buf) => giveBack(buf));

/** Records that buf was lent to us by actor record `owner` under id loan. */
export function borrowed(buf, owner, loan, deadlineMs) {
  book.set(buf, { owner, loan });
  if (deadlineMs > 0) due.add(buf, deadlineMs);
}

function giveBack(buf) {
  const entry = book.get(buf);
  if (!entry) return false;
  book.delete(buf);
  due.delete(buf);
  if (entry.owner.state !== 'down') {
    // Detached here at once: the borrower's views of it are dead from now
    // on (ActorRecord.returnLoan, RemoteActor.returnLoan).
    entry.owner.returnLoan(entry.loan, buf);
  }
  return true;
}

/**
 * Gives a borrowed buffer back to the actor that lent it. x: the
 * Uint8Array (or ArrayBuffer) the reply carried. It is detached here
 * afterwards. Throws FerryError EINVAL for a buffer that is not on loan to
 * this thread (never lent, or already given back).
 */
export function release(x) {
  const buf = ArrayBuffer.isView(x) ? x.buffer : x;
  if (!(buf instanceof ArrayBuffer)) throw new FerryError('EINVAL', 'release() takes the Uint8Array or ArrayBuffer of a lent blob');
  if (!book.has(buf)) throw new FerryError('EINVAL', 'release(): this buffer is not on loan to this thread (never lent, or already given back)');
  giveBack(buf);
}

/** Whether x is a buffer on loan to this thread now. */
export function isBorrowed(x) {
  return book.has(ArrayBuffer.isView(x) ? x.buffer : x);
}

/** Loans of owner `a` held here (its stats, and tests). */
export function loansFrom(a) {
  let n = 0;
  for (const e of book.values()) if (e.owner === a) n++;
  return n;
}

/** Gives back every loan of owner `a` held here (this thread stops
 * talking to it: RemoteActor.close()). */
export function returnAll(a) {
  for (const [buf, e] of [...book]) if (e.owner === a) giveBack(buf);
}

/** The owner went down: its loans are void (nobody to give them to). */
export function forgetOwner(a) {
  for (const [buf, e] of book) {
    if (e.owner !== a) continue;
    due.delete(buf);
    book.delete(buf);
  }
}
