// actor.mjs - the host's view of one actor: its record (worker, state,
// outbox, waiters), the calls waiting for its replies, and the ActorRef
// the application holds.
import { KIND, CTL } from '../wire/protocol.mjs';
import { FerryError } from '../wire/errors.mjs';
import { Outbox } from '../wire/framing.mjs';
import { encodeEnvelope, writer } from './envelope.mjs';
import { takePooled, poolStats } from './pool.mjs';

// What this turn posts to each worker leaves in one postMessage per worker
// (framing.mjs, Outbox), flushed in a microtask: a loop of sends becomes
// one packed message, a lone call costs no more than a microtask. An
// envelope with blobs is the exception: it leaves at once, with what was
// queued before it (ActorRecord.post; envelope.mjs says why).
const dirty = []; // records with something queued: dirty[0, ndirty)
let ndirty = 0;
let flushQueued = false;
// Loans on their way home wait for the next envelope to their owner, or
// for the end of the turn (a macrotask), whichever comes first.
let lateQueued = false;
const later = typeof setImmediate === 'function' ? setImmediate : (fn) => setTimeout(fn, 0);
// Where detaching a buffer without posting it is cheap: structuredClone
// with transfer moves the memory without copying it (Node 2-3 us; Firefox
// 2.6 us; in Chromium and Firefox a 20 MiB buffer detached that way posts
// as fast as one posted straight away, test/bench/probe/detach.mjs and
// docs/runs/detach-*.json). Not ArrayBuffer.prototype.transfer: in
// Chromium a buffer from transfer() posts like a fresh one (77 ms per
// 20 MiB round trip against 1.5).
const DETACH_CHEAP = typeof structuredClone === 'function' && typeof process !== 'undefined';

function flushAll() {
  flushQueued = false;
  lateQueued = false;
  for (let i = 0; i < ndirty; i++) {
    const a = dirty[i];
    dirty[i] = null;
    a.flush();
  }
  ndirty = 0;
}

/** Actor states, in the order they happen. */
export const STATE = Object.freeze({ STARTING: 'starting', RUNNING: 'running', DOWN: 'down' });

/** Everything the host keeps about one actor. */
export class ActorRecord {
  /**
   * @param {number} id
   * @param {string} name actor type
   * @param {Worker} worker its worker (created by the System)
   */
  constructor(id, name, worker) {
    this.id = id;
    this.name = name;
    this.state = STATE.STARTING;
    /** Its type was found in the module and its function runs (it may
     * still be in its init: spawn resolves at READY). */
    this.typeFound = false;
    this.worker = worker;
    this.out = new Outbox(worker);
    // Big envelopes go in buffers the application gave back (recycle()).
    this.out.take = takePooled;
    this.dirty = false;
    /** @type {ActorRef|null} set once the actor runs */
    this.ref = null;
    /** The stop reason, once down. */
    this.reason = null;
    /** Run when the actor leaves STARTING (peers waiting to connect). */
    this.waiters = [];
    /** Ids of the actors it has a channel with (one per pair). */
    this.linked = new Set();
    /** ref.stats() calls waiting: seq -> resolve. */
    this.statsWaiters = new Map();
    /** Status ports of other JS threads connected to it (ref.connect()). */
    this.threads = [];
    this.downPromise = new Promise((r) => (this.resolveDown = r));
    this.ready = null; // {resolve, reject} of spawn()
    this.readyPromise = new Promise((resolve, reject) => (this.ready = { resolve, reject }));
  }

  /** Queues the envelope now in the host's writer (envelope.mjs); one
   * with transferables (not detached yet) leaves at once, with what was
   * queued before it: posting detaches them (envelope.mjs says why). */
  post(xfer) {
    this.out.addWriter(writer, xfer);
    if (xfer) this.flush();
    else this.#queued();
  }

  /** Queues an envelope that is an ArrayBuffer of its own. */
  postBuffer(buf, xfer) {
    this.out.addItem(buf, xfer);
    this.#queued();
  }

  /** Posts what is queued (called once per turn). */
  flush() {
    this.dirty = false;
    if (this.state === STATE.DOWN) {
      this.out.drop();
      return;
    }
    try {
      this.out.flush();
    } catch (e) {
      console.error(`ferry: cannot post to actor ${this.id} (${this.name}): ${e.message}`);
    }
  }

  /**
   * A lent buffer goes home (release(), loans.mjs). It is detached here at
   * once, as release() promises; it then waits in the outbox and
   * travels with the next envelope to this actor (a cache client's next
   * get, typically): one postMessage and one wake of the actor instead of
   * two. Where there is no structuredClone to detach it with, it is posted
   * at once, on its own.
   */
  returnLoan(loan, buf) {
    if (!DETACH_CHEAP) {
      this.control({ ctl: CTL.LOAN_RETURN, loan, buf }, [buf]);
      return;
    }
    this.out.addReturn(loan, structuredClone(buf, { transfer: [buf] }));
    if (!this.dirty) {
      this.dirty = true;
      dirty[ndirty++] = this;
    }
    if (!lateQueued && !flushQueued) {
      lateQueued = true;
      later(() => lateQueued && flushAll());
    }
  }

  /** Sends a control message to the worker. */
  control(msg, xfer) {
    this.worker.postMessage(msg, xfer);
  }

  /** The actor's type and its start completed or failed: run the waiters. */
  runWaiters() {
    for (const w of this.waiters) w();
    this.waiters = [];
  }

  #queued() {
    if (!flushQueued) {
      flushQueued = true;
      queueMicrotask(flushAll);
    }
    if (!this.dirty) {
      this.dirty = true;
      dirty[ndirty++] = this;
    }
  }
}

/** A call waiting for its reply, in a map corr -> Pending. */
export class Pending {
  constructor(map, corr, a, type) {
    this.map = map;
    this.corr = corr;
    this.a = a;
    this.type = type;
    this.res = null;
    this.rej = null;
    this.timer = null;
    this.cleanup = null;
  }

  settle() {
    this.map.delete(this.corr);
    if (this.timer) clearTimeout(this.timer);
    if (this.cleanup) this.cleanup();
  }

  resolve(v) {
    this.settle();
    this.res(v);
  }

  reject(e) {
    this.settle();
    this.rej(e);
  }
}

/**
 * Checks the options of a call (ActorRef and RemoteActor): a FerryError
 * EINVAL for a timeout setTimeout cannot hold or a signal that is not an
 * AbortSignal. Returns the options, {} for none.
 */
export function callOptions(opts) {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object') throw new FerryError('EINVAL', `call options must be an object, got ${typeof opts}`);
  const { timeout, signal } = opts;
  if (timeout !== undefined && timeout !== Infinity && !(typeof timeout === 'number' && timeout >= 0 && timeout <= 0x7fffffff)) {
    throw new FerryError('EINVAL', `timeout must be a number of milliseconds from 0 to 2147483647 (or Infinity: none), got ${typeof timeout === 'number' ? timeout : typeof timeout}`);
  }
  if (signal !== undefined && signal !== null && (typeof signal !== 'object' || typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function')) {
    throw new FerryError('EINVAL', 'signal must be an AbortSignal');
  }
  return { timeout: timeout === Infinity ? undefined : timeout, signal: signal ?? undefined };
}

/**
 * Registers call corr of `type` to actor `who` ({id, name}) in map and
 * returns the promise of its reply, with the call's timeout and
 * AbortSignal. Used by ActorRef and RemoteActor alike.
 */
export function awaitReply(map, corr, a, type, who, { timeout, signal } = {}) {
  const p = new Pending(map, corr, a, type);
  const promise = new Promise((resolve, reject) => {
    p.res = resolve;
    p.rej = reject;
  });
  if (timeout !== undefined) {
    p.timer = setTimeout(() => p.reject(new FerryError('ETIMEDOUT',
      `call "${type}" to actor ${who.id} (${who.name}) timed out after ${timeout} ms`, { actor: who.id })), timeout);
  }
  if (signal) {
    const onAbort = () => p.reject(new FerryError('ECANCELED',
      `call "${type}" to actor ${who.id} was cancelled`, { cause: signal.reason, actor: who.id }));
    signal.addEventListener('abort', onAbort, { once: true });
    p.cleanup = () => signal.removeEventListener('abort', onAbort);
  }
  map.set(corr, p);
  return promise;
}

/** A running (or stopped) actor, as seen from JavaScript. */
export class ActorRef {
  #sys;
  #a;
  /**
   * @param {import('./system.mjs').System} sys
   * @param {ActorRecord} a
   */
  constructor(sys, a) {
    this.#sys = sys;
    this.#a = a;
    this.id = a.id;
    this.name = a.name;
    /** Resolves with the reason when the actor stops or crashes. */
    this.down = a.downPromise;
    /** Called with ({type, value}) for messages the actor sends to the host. */
    this.onmessage = null;
    /** Called with a FerryError for sends that could not be delivered. */
    this.onerror = null;
  }

  get alive() {
    return this.#a.state === STATE.RUNNING;
  }

  /** Sends a one-way message. Delivery failures arrive at onerror. */
  send(type, value) {
    this.#sys._check(this.#a);
    this.#a.post(encodeEnvelope(KIND.SEND, type, 0, value));
  }

  /** Calls the actor; resolves with its reply or rejects with a FerryError
   * (EREMOTE for an error reply, EDOWN, ETIMEDOUT, ECANCELED, EFULL). */
  call(type, value, opts) {
    const a = this.#a;
    const sys = this.#sys;
    let timeout;
    let signal;
    try {
      sys._check(a);
      ({ timeout, signal } = callOptions(opts));
    } catch (e) {
      return Promise.reject(e);
    }
    if (signal?.aborted) {
      return Promise.reject(new FerryError('ECANCELED', `call "${type}" to actor ${this.id} was cancelled`, { cause: signal.reason, actor: this.id }));
    }
    const corr = sys._corr();
    let xfer;
    try {
      xfer = encodeEnvelope(KIND.CALL, type, corr, value);
    } catch (e) {
      return Promise.reject(e);
    }
    // Registered before the post: an envelope with blobs may be posted
    // right away, and one that cannot be posted rejects this call
    // (System's Outbox.onFail). No reply can come before this returns.
    const reply = awaitReply(sys._pending, corr, a, type, this, { timeout, signal });
    // Queued at once: the encoder's buffer is reused by the next message.
    a.post(xfer);
    return reply;
  }

  /** Posts a raw envelope (an ArrayBuffer, transferred). For tools and
   * tests of the wire format; malformed ones come back at onerror. */
  postRaw(buf) {
    this.#sys._check(this.#a);
    if (!(buf instanceof ArrayBuffer)) throw new FerryError('EINVAL', 'postRaw() takes an ArrayBuffer (it is transferred)');
    this.#a.postBuffer(buf, null);
  }

  /** Counters of the actor's worker: bytes and messages copied into and out
   * of wasm memory, blobs held, mailbox length, memory size; and `recycle`,
   * this thread's pool of buffers given back (pool.mjs), read when the
   * worker's counters arrive. */
  stats() {
    this.#sys._check(this.#a);
    return new Promise((resolve) => {
      const seq = this.#sys._corr();
      this.#a.statsWaiters.set(seq, (st) => resolve({ ...st, recycle: poolStats() }));
      this.#a.control({ ctl: CTL.STATS, seq });
    });
  }

  /**
   * A MessagePort another JS thread (a Web Worker or worker_threads
   * Worker of the app's own) turns into a working actor handle with
   * connect(port) from 'ferry': send, call, blobs and loans go straight
   * between that thread and the actor, not through this one.
   */
  connect() {
    this.#sys._check(this.#a);
    return this.#sys._connectThread(this.#a);
  }

  /** Stops the actor (terminates its worker); resolves when it is down. */
  async stop() {
    if (this.#a.state !== STATE.DOWN) {
      this.#sys._down(this.#a, { code: 'EDOWN', name: 'Stopped', message: `actor ${this.id} (${this.name}) was stopped by the host`, normal: true });
    }
    return this.down;
  }
}
