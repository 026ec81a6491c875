// mailbox.mjs - an actor's mailbox: the envelopes that arrived and were not
// yet taken by C, in arrival order, bounded by a count and a byte total.
//
// ferry_recv takes the oldest message; ferry_call takes the reply with its
// corr from anywhere in the queue (selective receive) and leaves the rest,
// in order. Admission (what to bounce, what is a late reply) is the
// worker's decision; the mailbox only answers whether one more fits.

/**
 * @typedef {object} Mail
 * @property {Uint8Array} u8 the envelope's bytes
 * @property {ArrayBuffer[]|null} xfer its blobs
 * @property {number} from sender's actor id
 * @property {number} kind KIND value, -1 when the head is not readable
 * @property {number} corr correlation id (0 for a send)
 * @property {number} [size] bytes it holds, blobs included (default: u8's)
 * @property {number[]|null} [loans] which blobs are lent (framing.mjs)
 */

const REPLY = 2;
const ERROR = 3;

export class Mailbox {
  // The queue is queue[head..tail): a moving head, and selective receive
  // removes from the middle. The array is reused (a push into spare room
  // costs no growth) and compacted when the head has moved far.
  #queue = [];
  #head = 0;
  #tail = 0;
  #bytes = 0;

  /** @param {{messages: number, bytes: number}} limits */
  constructor(limits = { messages: 10000, bytes: 256 << 20 }) {
    this.limits = { ...limits };
  }

  /** Messages queued. */
  get length() {
    return this.#tail - this.#head;
  }

  /** Envelope bytes queued. */
  get bytes() {
    return this.#bytes;
  }

  /** Whether one more message of len bytes (blobs included) is within both
   * bounds. */
  fits(len) {
    return this.length < this.limits.messages && this.#bytes + len <= this.limits.bytes;
  }

  /** Words for an EFULL report. */
  describe() {
    return `${this.length} messages, ${this.#bytes} bytes; limits ${this.limits.messages}, ${this.limits.bytes}`;
  }

  /** Appends a message (bounds are the caller's to check with fits()). */
  push(m) {
    if (this.#tail < this.#queue.length) this.#queue[this.#tail++] = m;
    else {
      this.#queue.push(m);
      this.#tail++;
    }
    this.#bytes += m.size ?? m.u8.length;
  }

  /** Index of the oldest message (corr 0) or of the reply or error with
   * this corr; -1 when there is none. */
  find(corr) {
    const q = this.#queue;
    for (let i = this.#head; i < this.#tail; i++) {
      const m = q[i];
      if (corr === 0 || ((m.kind === REPLY || m.kind === ERROR) && m.corr === corr)) return i;
    }
    return -1;
  }

  /** Removes and returns what find(corr) finds, or null. */
  take(corr) {
    const i = this.find(corr);
    return i < 0 ? null : this.removeAt(i);
  }

  /** Removes and returns the message at index i (from find). */
  removeAt(i) {
    const q = this.#queue;
    const m = q[i];
    if (i === this.#head) {
      q[this.#head++] = undefined;
      if (this.#head === this.#tail) {
        this.#head = this.#tail = 0; // empty again: start over at the front
        if (q.length > 4096) this.#queue = [];
      } else if (this.#head > 1024 && this.#head * 2 > this.#tail) {
        this.#queue = q.slice(this.#head, this.#tail);
        this.#tail -= this.#head;
        this.#head = 0;
      }
    } else {
      q.copyWithin(i, i + 1, this.#tail);
      q[--this.#tail] = undefined;
    }
    this.#bytes -= m.size ?? m.u8.length;
    return m;
  }

  /** Removes and returns every message, oldest first. */
  drain() {
    const out = this.#queue.slice(this.#head, this.#tail);
    this.#queue = [];
    this.#head = this.#tail = this.#bytes = 0;
    return out;
  }
}
