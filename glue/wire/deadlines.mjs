// deadlines.mjs - many deadlines on one timer. Nearly every loan
// (ferry_blob_lend's deadline_ms) comes home long before its deadline, and
// a setTimeout armed and cleared per loan cost the lender and the borrower
// a few microseconds per cache hit each. Here a deadline is an entry in a
// Map; one timer is armed at the earliest, and when it fires it runs what
// is due and re-arms for the next. A deadline that is met is only deleted:
// the timer stays armed and, when it fires, finds nothing due.
//
// In Node the timer is unref'd: a deadline alone does not keep a process
// alive (the workers and ports it belongs to do, while they exist).

export class Deadlines {
  #at = new Map(); // key -> performance.now() when it is due
  #due;
  #timer = null;
  #timerAt = Infinity;

  /** @param {(key: any) => void} due called with each key whose time came */
  constructor(due) {
    this.#due = due;
    this.fire = this.fire.bind(this);
  }

  /** Keys waiting. */
  get size() {
    return this.#at.size;
  }

  /** Runs due(key) in ms milliseconds unless delete(key) comes first. */
  add(key, ms) {
    const at = performance.now() + ms;
    this.#at.set(key, at);
    if (at < this.#timerAt) this.#arm(at);
  }

  /** The deadline of key is off (met, or moot). */
  delete(key) {
    this.#at.delete(key);
  }

  /** Every deadline is off, and the timer too. */
  clear() {
    this.#at.clear();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = Infinity;
  }

  #arm(at) {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(this.fire, Math.max(0, Math.ceil(at - performance.now())));
    this.#timer.unref?.();
  }

  /** The timer's callback (public for tests): runs what is due, re-arms. */
  fire() {
    this.#timer = null;
    this.#timerAt = Infinity;
    // Timers may fire up to a millisecond early (they round): due is due.
    const now = performance.now() + 1;
    let next = Infinity;
    let due = null;
    for (const [key, at] of this.#at) {
      if (at <= now) (due ??= []).push(key);
      else if (at < next) next = at;
    }
    if (due) for (const key of due) this.#at.delete(key);
    if (next < Infinity) this.#arm(next);
    if (due) for (const key of due) this.#due(key);
  }
}
