// traffic.mjs - the JS side's share of the soak: groups of 0-3 sends and
// one call to an actor, sizes from 16 B to 20 MB, payloads as a bytes field
// or a moved blob, and now and then a loan asked of the actor ("soak.lend"),
// checked and released. Used by the host (soak.mjs) and by the connected
// JS thread (remote-thread.mjs), each with its own seq per actor.
import { transfer, release, isBorrowed } from '../../glue/index.mjs';
import { fillPattern, checkPattern } from './checker.mjs';

export const BIG = 20 << 20;

/** xorshift32: the same run for the same seed. */
export function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** A size like soak.c's pick_size; big only when allowed (one in flight). */
export function pickSize(rnd, allowBig, maxSize) {
  const r = rnd() % 1000;
  let size;
  if (r < 600) size = 16 + (rnd() % 241);
  else if (r < 900) size = 256 + (rnd() % (16 << 10));
  else if (r < 985) size = (16 << 10) + (rnd() % (1 << 20));
  else if (r < 997 || !allowBig) size = (1 << 20) + (rnd() % (3 << 20));
  else size = BIG;
  return Math.min(size, maxSize);
}

export class Traffic {
  /**
   * @param {Array<{id, from, send, call}>} targets actors: id, our id as
   *   they see it (from), and send/call bound to them
   * @param {{seed, inFlight, maxSize, lendEvery}} opts
   */
  constructor(targets, { seed = 1, inFlight = 1, maxSize = BIG, lendEvery = 50 } = {}) {
    this.targets = targets;
    this.rnd = rng(seed);
    this.inFlight = inFlight;
    this.maxSize = maxSize;
    this.lendEvery = lendEvery;
    this.seq = new Map(targets.map((t) => [t.id, 0]));
    this.running = false;
    this.busy = 0;
    this.bigBusy = false;
    this.groups = 0;
    this.n = { msgsSent: 0, bytesSent: 0, calls: 0, replies: 0, callErrors: 0, badReplies: 0, lends: 0, lendsChecked: 0, lendsBad: 0, released: 0, errors: [] };
    this.idle = null;
  }

  start() {
    this.running = true;
    for (const t of this.targets) for (let i = 0; i < this.inFlight; i++) this.#loop(t);
  }

  /** Stops starting groups; resolves when every call has settled. */
  stop() {
    this.running = false;
    if (this.busy === 0) return Promise.resolve();
    return new Promise((r) => (this.idle = r));
  }

  /** The pairs this side sent on: [{from, to, count}]. */
  sent() {
    return this.targets.map((t) => ({ from: t.from, to: t.id, count: this.seq.get(t.id) }));
  }

  #message(t, size, mode) {
    const seq = this.seq.get(t.id);
    this.seq.set(t.id, seq + 1);
    const seed = this.rnd();
    const payload = fillPattern(new Uint8Array(size), seed);
    this.n.msgsSent++;
    this.n.bytesSent += size;
    const value = { seq, seed, size, mode };
    if (mode === 0) value.data = payload;
    else value.blob = transfer(payload);
    return value;
  }

  async #loop(t) {
    this.busy++;
    try {
      while (this.running) {
        this.groups++;
        if (this.lendEvery && this.groups % this.lendEvery === 0) await this.#borrow(t);
        const sends = this.rnd() % 4;
        for (let i = 0; i < sends; i++) t.send('soak.data', this.#message(t, pickSize(this.rnd, false, this.maxSize), this.rnd() % 2));
        const big = !this.bigBusy && this.rnd() % 100 === 0 && this.maxSize >= BIG;
        if (big) this.bigBusy = true;
        let msg = this.#message(t, big ? BIG : pickSize(this.rnd, false, this.maxSize), this.rnd() % 2);
        const seq = msg.seq;
        this.n.calls++;
        try {
          const reply = t.call('soak.data', msg, { timeout: 300000 });
          // The payload is in the envelope now: let it go, so that what
          // the heap samples see is what ferry holds, not what we do.
          msg = null;
          const r = await reply;
          this.n.replies++;
          if (!r || r.seq !== seq) this.n.badReplies++;
        } catch (e) {
          this.n.callErrors++;
          if (this.n.errors.length < 10) this.n.errors.push(`${t.id} ${e.code}: ${e.message}`);
        } finally {
          if (big) this.bigBusy = false;
        }
      }
    } finally {
      if (--this.busy === 0 && this.idle) this.idle();
    }
  }

  // A loan from the actor: checked, then given back.
  async #borrow(t) {
    const size = pickSize(this.rnd, false, Math.min(this.maxSize, 4 << 20));
    const seed = this.rnd();
    this.n.lends++;
    try {
      const data = await t.call('soak.lend', { seed, size }, { timeout: 300000 });
      this.n.lendsChecked++;
      if (!isBorrowed(data) || !checkPattern(data, seed, size)) this.n.lendsBad++;
      release(data);
      this.n.released++;
    } catch (e) {
      this.n.lendsBad++;
      if (this.n.errors.length < 10) this.n.errors.push(`lend ${t.id} ${e.code}: ${e.message}`);
    }
  }
}
