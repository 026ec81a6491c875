// blobs.mjs - the blobs an actor holds: ArrayBuffers kept here, in the
// worker, never in wasm memory; C holds their handles (ferry/blob.h).
//
// How a blob moves: an envelope arrives with buffers beside it (framing);
// when C takes the message, its buffers get consecutive handles here
// (adopt); C refers to them by handle; when C posts a message with blob
// handles, they leave this table and go in the transfer list (release), so
// the sender's handles are invalid from then on.
//
// How a blob is lent: C marks a blob it owns (lend); the next post that
// carries it sends the buffer (zero copies) but keeps the handle, LENT,
// under a loan id. The borrower's table holds it BORROWED, with the
// owner's id and the loan id; when its C frees it, drops the message, or
// the deadline passes, the buffer goes back (a LOAN_RETURN control on the
// port to the owner) and comes HOME here under the same handle. If the
// borrower goes down first, the owner's entry is LOST (and comes back to
// life if the buffer still arrives).
import { BLOB } from './abi.mjs';
import { Deadlines } from '../wire/deadlines.mjs';

// How long after a loan's deadline the owner waits for the buffer before it
// calls the loan lost (the borrower returns it at the deadline).
const OVERDUE_GRACE_MS = 2000;

/**
 * @typedef {object} Entry
 * @property {ArrayBuffer|null} buf null while LENT or LOST
 * @property {number} state a BLOB value
 * @property {number} lend a pending lend: its deadline in ms (0: none), -1 none
 * @property {number} loan loan id (LENT/LOST: ours; BORROWED: the owner's)
 * @property {number} peer LENT/LOST: the borrower; BORROWED: the owner
 */

export class Blobs {
  #map = new Map(); // handle -> Entry
  #next = 1; // 0 is FERRY_BLOB_NONE
  #nextLoan = 1;
  #lent = new Map(); // our loan id -> handle
  // Deadlines (deadlines.mjs: one timer for all): a borrowed blob goes home
  // at its deadline; a loan of ours not back some time after its deadline
  // is lost.
  #borrowedDue = new Deadlines((h) => this.free(h));
  #lentDue = new Deadlines((loan) => this.#overdue(loan));

  /**
   * @param {object} hooks
   * @param {(owner: number, loan: number, buf: ArrayBuffer) => void} hooks.giveBack
   *   sends a borrowed buffer home
   * @param {(type: string, handle: number, borrower: number) => void} hooks.notify
   *   tells C that a lent blob came home or is lost
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.stats = { lent: 0, returned: 0, lost: 0, borrowed: 0, gaveBack: 0 };
  }

  /** Blobs held here (home or borrowed). */
  get size() {
    let n = 0;
    for (const e of this.#map.values()) if (e.buf) n++;
    return n;
  }

  /** Our blobs out on loan now. */
  get out() {
    return this.#lent.size;
  }

  /**
   * Holds the buffers of a received message; returns the first handle
   * (they are consecutive), or 0 when there are none. loans: triples
   * (index, loan id, deadline ms) of the ones lent to us by `from`.
   */
  adopt(list, loans, from) {
    const n = list ? list.length : 0;
    if (!n) return 0;
    const base = this.#next;
    for (let i = 0; i < n; i++) this.#map.set(this.#next++, { buf: list[i], state: BLOB.HOME, lend: -1, loan: 0, peer: 0 });
    for (let j = 0; loans && j + 2 < loans.length; j += 3) {
      const h = base + loans[j];
      const e = this.#map.get(h);
      if (!e) continue;
      e.state = BLOB.BORROWED;
      e.loan = loans[j + 1];
      e.peer = from;
      this.stats.borrowed++;
      if (loans[j + 2] > 0) this.#borrowedDue.add(h, loans[j + 2]);
    }
    return base;
  }

  /** Holds one new buffer of ours; returns its handle. */
  add(buf) {
    this.#map.set(this.#next, { buf, state: BLOB.HOME, lend: -1, loan: 0, peer: 0 });
    return this.#next++;
  }

  /** The buffer of h if it is held here (home or borrowed), else null. */
  get(h) {
    const e = this.#map.get(h);
    return e && e.buf ? e.buf : null;
  }

  /** BLOB state of h, or 0 when h is not known here. */
  state(h) {
    const e = this.#map.get(h);
    return e ? e.state : 0;
  }

  /** Marks a blob of ours, at home, to be lent by the next post. */
  lend(h, deadlineMs) {
    const e = this.#map.get(h);
    if (!e) return false;
    if (e.state !== BLOB.HOME) return false;
    e.lend = deadlineMs;
    return true;
  }

  /**
   * Takes the buffers of these handles out for a message to `to`. Moved
   * blobs leave the table; lent ones stay LENT. Returns {xfer, loans} or
   * {error: 'EINVAL'|'EBUSY'} (and nothing taken) when a handle is not
   * held here, is lent out, or is borrowed (a borrower cannot pass it on).
   */
  release(handles, to) {
    for (let i = 0; i < handles.length; i++) {
      const e = this.#map.get(handles[i]);
      if (!e) return { error: 'EINVAL' };
      if (e.state === BLOB.LENT || e.state === BLOB.LOST) return { error: 'EBUSY' };
      if (e.state === BLOB.BORROWED) return { error: 'EINVAL' };
      for (let j = 0; j < i; j++) if (handles[j] === handles[i]) return { error: 'EINVAL' };
    }
    const xfer = new Array(handles.length);
    let loans = null;
    for (let i = 0; i < handles.length; i++) {
      const h = handles[i];
      const e = this.#map.get(h);
      xfer[i] = e.buf;
      if (e.lend >= 0) {
        const id = this.#nextLoan++;
        (loans ??= []).push(i, id, e.lend);
        e.state = BLOB.LENT;
        e.loan = id;
        e.peer = to;
        e.size = e.buf.byteLength;
        e.buf = null;
        // The borrower's side enforces the deadline; if nothing has come
        // back some time after it (the borrower vanished without a word, a
        // JS thread that ended), the owner is told it is lost.
        if (e.lend > 0) this.#lentDue.add(id, e.lend + OVERDUE_GRACE_MS);
        e.lend = -1;
        this.#lent.set(id, h);
        this.stats.lent++;
      } else this.#map.delete(h);
    }
    return { xfer, loans };
  }

  /** C lets go of h: ours is dropped, a borrowed one goes home. */
  free(h) {
    const e = this.#map.get(h);
    if (!e) return;
    this.#map.delete(h);
    if (e.state === BLOB.BORROWED) {
      this.#borrowedDue.delete(h);
      this.stats.gaveBack++;
      this.hooks.giveBack(e.peer, e.loan, e.buf);
    } else if (e.state === BLOB.LENT || e.state === BLOB.LOST) {
      this.#lent.delete(e.loan);
      this.#lentDue.delete(e.loan);
    }
  }

  /** A buffer we lent came back from peer `from`. False when we no
   * longer want it. */
  returned(loan, buf, from) {
    const h = this.#lent.get(loan);
    if (h === undefined) return false;
    const e = this.#map.get(h);
    // Only the borrower brings it home (another thread connected to us
    // could guess loan ids), and only the buffer that left: a borrower
    // that sent it on cannot hand back an empty (detached) one instead.
    if (e.peer !== from) return false;
    if (!(buf instanceof ArrayBuffer) || buf.byteLength !== e.size) return false;
    this.#lent.delete(loan);
    this.#lentDue.delete(loan);
    const borrower = e.peer;
    e.buf = buf;
    e.state = BLOB.HOME;
    e.loan = 0;
    e.peer = 0;
    this.stats.returned++;
    this.hooks.notify('ferry.loan.home', h, borrower);
    return true;
  }

  /** A loan of ours whose message never left (undelivered): home again,
   * without a notice (the undelivered report says it). */
  unlend(loan, buf) {
    const h = this.#lent.get(loan);
    if (h === undefined) return;
    this.#lent.delete(loan);
    this.#lentDue.delete(loan);
    const e = this.#map.get(h);
    Object.assign(e, { buf, state: BLOB.HOME, loan: 0, peer: 0 });
  }

  #overdue(loan) {
    const h = this.#lent.get(loan);
    const e = h === undefined ? null : this.#map.get(h);
    if (!e || e.state !== BLOB.LENT || e.loan !== loan) return;
    e.state = BLOB.LOST;
    this.stats.lost++;
    this.hooks.notify('ferry.loan.lost', h, e.peer);
  }

  /** Actor id went down: what we lent it is lost (unless it still comes). */
  peerDown(id) {
    for (const h of this.#lent.values()) {
      const e = this.#map.get(h);
      if (e.peer !== id || e.state !== BLOB.LENT) continue;
      this.#lentDue.delete(e.loan);
      e.state = BLOB.LOST;
      this.stats.lost++;
      this.hooks.notify('ferry.loan.lost', h, id);
    }
  }

  /** This actor ends: every borrowed buffer goes home. */
  returnAll() {
    for (const [h, e] of this.#map) if (e.state === BLOB.BORROWED) this.free(h);
  }
}
