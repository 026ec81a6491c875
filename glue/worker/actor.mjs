// actor.mjs - the life of the one actor in this worker: messages arriving
// into its mailbox, the Asyncify wait that suspends the C code until one it
// wants is there, running and resuming it, and its end.
//
// C blocks only in the import fy_wait (abi.mjs). If a matching message is
// already queued it returns at once (no unwind); otherwise it starts an
// unwind, the start export returns to this event loop, and the actor is
// rewound when a message arrives (wake) or its timeout fires.
import { KIND, CTL } from '../wire/protocol.mjs';
import { ERRNO } from '../wire/errors.mjs';
import { EnvelopeHead, errorEnvelope, noticeEnvelope } from '../wire/head.mjs';
import { splitLoans, unpack } from '../wire/framing.mjs';
import { closeSelf } from '../platform.mjs';
import { ASYNCIFY, EXPORTS } from './abi.mjs';
import { Blobs } from './blobs.mjs';
import { Mailbox } from './mailbox.mjs';
import { Ports } from './ports.mjs';
import { ExitError } from './wasi.mjs';

/** Views of wasm memory, renewed when it grows (the old buffer is then
 * detached and its views have length 0). */
class MemoryViews {
  #memory = null;
  #u8 = new Uint8Array(0);
  #u32 = new Uint32Array(0);

  attach(memory) {
    this.#memory = memory;
  }

  u8() {
    if (this.#u8.length === 0) this.#renew();
    return this.#u8;
  }

  u32() {
    if (this.#u32.length === 0) this.#renew();
    return this.#u32;
  }

  get byteLength() {
    return this.#memory ? this.#memory.buffer.byteLength : 0;
  }

  #renew() {
    const b = this.#memory.buffer;
    this.#u8 = new Uint8Array(b);
    this.#u32 = new Uint32Array(b);
  }
}

export class WorkerActor {
  /**
   * @param {MessagePort} host the port to the host
   * @param {import('../wire/protocol.mjs').InitCtl} init
   */
  constructor(host, init) {
    this.host = host;
    this.id = init.id;
    this.label = init.name;
    this.asyncStack = init.asyncStack || 256 << 10;
    this.reusePartial = init.reusePartial !== false;
    this.mailbox = new Mailbox({ messages: 10000, bytes: 256 << 20, ...(init.limits || {}) });
    this.blobs = new Blobs({
      giveBack: (owner, loan, buf) => this.ports.giveBack(owner, loan, buf),
      notify: (type, blob, borrower) => this.notice(type, borrower, { blob, borrower }),
    });
    this.ports = new Ports(this, host);
    this.mem = new MemoryViews();
    this.maxMemory = 0; // bytes the memory may grow to (0: the module's own memory, no cap)
    this.oom = null; // {increment, at}: sbrk was refused memory (memory.c)
    // Every copy ferry makes in this worker, in bytes, by kind (ref.stats(),
    // docs/api.md): moving or lending a blob copies nothing and is not here.
    this.stats = {
      messagesIn: 0, messagesOut: 0, rejected: 0,
      runs: 0, // times C was started or resumed (each costs a rewind)
      copies: { envelopeIn: 0, envelopeOut: 0, blobRead: 0, blobWrite: 0, blobFrom: 0, blobDup: 0 },
    };
    this.monitors = new Set(); // actor ids C asked to hear the down of
    this.deadlines = new Map(); // corr of an async call -> performance.now() deadline
    this.deadlineMs = new Map(); // corr -> its timeout, for the error's words
    this.deadlineTimer = null;
    this.deadlineAt = Infinity;
    this.readySent = false;
    this.ex = null; // wasm exports
    this.dataPtr = 0; // Asyncify data: two words, then the unwind stack
    this.stopped = false;
    this.hasStarted = false; // the actor type was found and its function runs
    this.head = new EnvelopeHead();
    // Calls C made: corr -> destination id, and corrs C gave up on (their
    // late replies are dropped).
    this.outstanding = new Map();
    this.abandoned = new Set();
    // The wait: what C is suspended for.
    this.current = null; // the message handed to C by fy_wait, taken by fy_take
    this.waiting = false; // suspended in fy_wait, for:
    this.waitCorr = 0; // the reply with this corr (0: any message)
    this.waitDeadline = Infinity; // performance.now() when the wait times out
    this.suspended = false;
    this.resumeValue = 0;
    this.unpacking = false; // inside takeIn(): notices do not wake C yet
    // One timer serves every wait with a timeout: a wait records its
    // deadline and (re)arms the timer only if it would fire too late; a
    // message that ends the wait leaves it armed, and when it fires it
    // finds nothing to do or re-arms for the wait now pending. So a stream
    // of calls with a timeout costs no timer per call.
    this.waitTimer = null;
    this.waitTimerAt = Infinity;
    this.onWaitTimer = this.onWaitTimer.bind(this);
  }

  /** Instantiated: the exports, and room for Asyncify's data. */
  attach(exports, memory) {
    this.ex = exports;
    this.mem.attach(memory);
    this.dataPtr = exports.malloc(this.asyncStack + 8);
    if (!this.dataPtr) throw Object.assign(new Error('out of memory for the Asyncify stack'), { code: 'ENOMEM' });
  }

  // ----------------------------------------------------------- arriving

  /**
   * Puts one received envelope in the mailbox, or answers it: a late reply
   * is dropped (its blobs go back), a message that does not fit bounces
   * (with its blobs). Blob bytes count against the byte bound.
   */
  receive(u8, xfer, from, loans = null) {
    let kind = -1;
    let corr = 0;
    const h = this.head;
    if (h.parse(u8)) {
      kind = h.kind;
      corr = h.corr;
    }
    let size = u8.length;
    if (xfer) for (let i = 0; i < xfer.length; i++) size += xfer[i].byteLength;
    if ((kind === KIND.REPLY || kind === KIND.ERROR) && corr) {
      if (this.abandoned.delete(corr)) {
        // Its caller gave up. Nothing that holds a blob vanishes: they go
        // back to the replier, told why.
        if (xfer) this.sendBack(u8, xfer, loans, from, 'ETIMEDOUT', `actor ${this.id} (${this.label}) had stopped waiting for this reply; its blobs come back`);
        return;
      }
      this.outstanding.delete(corr);
      this.clearDeadline(corr);
    } else if (!this.mailbox.fits(size)) {
      this.bounce(u8, xfer, loans, from, kind < 0 ? KIND.SEND : kind, corr,
        `mailbox of actor ${this.id} (${this.label}) is full (${this.mailbox.describe()})`);
      return;
    }
    this.mailbox.push({ u8, xfer, loans, from, kind, corr, size });
  }

  /**
   * A port message from `from` that is not of a form ferry posts (framing
   * unpack said why): counted in stats().rejected and answered with an
   * EMALFORMED error envelope, as C answers a malformed envelope.
   */
  rejected(from, why) {
    this.stats.rejected++;
    if (this.stopped) return;
    this.ports.route(from, errorEnvelope('ferry.malformed', 0, 'EMALFORMED',
      `actor ${this.id} (${this.label}) rejected a port message: ${why}`));
  }

  /** Puts an envelope of the runtime's own straight in the mailbox. */
  deliver(buf, xfer, from, kind, corr) {
    const u8 = new Uint8Array(buf);
    let size = u8.length;
    if (xfer) for (let i = 0; i < xfer.length; i++) size += xfer[i].byteLength;
    this.mailbox.push({ u8, xfer, loans: null, from, kind, corr, size });
  }

  /** A notice for C ("ferry.down", "ferry.loan.home", ...), from `from`. */
  notice(type, from, fields) {
    if (this.stopped) return;
    this.deliver(noticeEnvelope(type, fields), null, from, KIND.SEND, 0);
    if (!this.unpacking) this.wake();
  }

  /**
   * Takes in one port message (a batch, perhaps) and then wakes C once:
   * a notice raised while unpacking (a loan that came home with the next
   * call, typically) waits for the rest of the batch, so C handles both
   * in one run instead of being resumed for the notice and suspending
   * again before the call is in its mailbox.
   */
  takeIn(data, receive, bad, ret) {
    this.unpacking = true;
    try {
      unpack(data, receive, bad, ret);
    } finally {
      this.unpacking = false;
    }
    this.wake();
  }

  // Tells the sender; for a call, its caller gets the error as the reply.
  // The message's blobs go back with it (lent ones straight home). An
  // error is not answered with an error (an actor sending to itself could
  // loop); its blobs still go back.
  bounce(u8, xfer, loans, from, kind, corr, why) {
    if (kind === KIND.ERROR) {
      if (xfer) this.sendBack(u8, xfer, loans, from, 'EFULL', why);
      return;
    }
    let type = 'ferry.full';
    const h = this.head;
    if (h.parse(u8)) type = h.type(u8) ?? type;
    const moved = this.giveBackLoans(xfer, loans, from);
    const extra = { to: this.id, type, corr };
    this.ports.route(from, errorEnvelope(type, kind === KIND.CALL ? corr : 0, 'EFULL', why, extra), moved);
  }

  // Returns what a dropped message carried to its sender: lent buffers to
  // their owner's table, moved ones in an error envelope (corr 0).
  sendBack(u8, xfer, loans, from, code, why) {
    let type = 'ferry.returned';
    const h = this.head;
    let corr = 0;
    if (h.parse(u8)) {
      type = h.type(u8) ?? type;
      corr = h.corr;
    }
    const moved = this.giveBackLoans(xfer, loans, from);
    if (moved) this.ports.route(from, errorEnvelope(type, 0, code, why, { to: this.id, type, corr }), moved);
  }

  // Sends the lent ones of xfer home; returns the others (or null).
  giveBackLoans(xfer, loans, owner) {
    return splitLoans(xfer, loans, (loan, buf) => this.ports.giveBack(owner, loan, buf));
  }

  /**
   * A message of ours that never left (its peer is gone): a call gets its
   * error reply, a send an undelivered report naming what was sent; moved
   * blobs come back attached, lent ones are home again.
   */
  undelivered(head, u8, xfer, loans, to, code, message) {
    const moved = splitLoans(xfer, loans, (loan, buf) => this.blobs.unlend(loan, buf));
    const type = head.type(u8) ?? '';
    const corr = head.kind === KIND.CALL ? head.corr : 0;
    if (corr) {
      this.outstanding.delete(corr);
      this.clearDeadline(corr);
    }
    const words = `${head.kind === KIND.CALL ? 'call' : 'message'} "${type}" to actor ${to} was not delivered: ${message}`;
    this.deliver(errorEnvelope(type, corr, code, words, { to, type, corr: head.corr }), moved, to, KIND.ERROR, corr);
  }

  /** A lent buffer came home (LOAN_RETURN). */
  loanReturned(loan, buf, from) {
    if (this.stopped) return;
    this.blobs.returned(loan, buf, from);
  }

  /** Actor id is down: monitors fire, loans to it are lost. */
  peerDown(id, code, message, reason) {
    if (this.monitors.delete(id)) {
      this.notice('ferry.down', id, {
        id, code: ERRNO[code] ?? ERRNO.EDOWN, name: reason?.name || code, message,
        normal: !!reason?.normal, exitCode: reason?.exitCode ?? 0,
      });
    }
    this.blobs.peerDown(id);
  }

  /** fy_monitor: watch (or stop watching) actor id. */
  monitor(id, on) {
    if (!on) {
      this.monitors.delete(id);
      return 0;
    }
    if (id === this.id) return ERRNO.EINVAL;
    this.monitors.add(id);
    const known = this.ports.downPeers.get(id);
    if (known) this.peerDown(id, known.code, known.message, known.reason);
    else this.host.postMessage({ ctl: CTL.MONITOR, id });
    return 0;
  }

  // ------------------------------------------------------- async calls

  /** fy_deadline: the async call corr fails with ETIMEDOUT after ms. */
  deadline(corr, ms) {
    if (!this.outstanding.has(corr)) return;
    const at = performance.now() + ms;
    this.deadlines.set(corr, at);
    this.deadlineMs.set(corr, ms);
    if (this.deadlineTimer === null || at < this.deadlineAt) this.armDeadlines(at);
  }

  clearDeadline(corr) {
    if (this.deadlines.size) {
      this.deadlines.delete(corr);
      this.deadlineMs.delete(corr);
    }
  }

  armDeadlines(at) {
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.deadlineAt = at;
    this.deadlineTimer = setTimeout(() => this.onDeadlines(), Math.max(0, Math.ceil(at - performance.now())));
  }

  onDeadlines() {
    this.deadlineTimer = null;
    this.deadlineAt = Infinity;
    if (this.stopped) return;
    const now = performance.now();
    let next = Infinity;
    for (const [corr, at] of this.deadlines) {
      if (at <= now + 1) {
        const ms = this.deadlineMs.get(corr);
        this.clearDeadline(corr);
        const to = this.outstanding.get(corr);
        this.giveUp(corr);
        this.deliver(errorEnvelope('ferry.timeout', corr, 'ETIMEDOUT',
          `call ${corr} from actor ${this.id} (${this.label}) to actor ${to} timed out after ${ms} ms`), null, to ?? 0, KIND.ERROR, corr);
      } else if (at < next) next = at;
    }
    if (next < Infinity) this.armDeadlines(next);
    this.wake();
  }

  /** C posted a call: its reply is expected from `to`. */
  callSent(corr, to) {
    this.outstanding.set(corr, to);
  }

  /** The corrs of calls waiting on actor `to`, forgotten as they are listed. */
  callsTo(to) {
    const out = [];
    for (const [corr, dest] of this.outstanding) {
      if (dest !== to) continue;
      this.outstanding.delete(corr);
      out.push(corr);
    }
    return out;
  }

  // ------------------------------------------------------------ waiting

  /** fy_wait: the next message (corr 0) or the reply to corr. */
  wait(timeout, corr) {
    const ex = this.ex;
    if (ex.asyncify_get_state() === ASYNCIFY.REWINDING) {
      ex.asyncify_stop_rewind();
      return this.resumeValue;
    }
    if (corr === 0 && this.hasStarted && !this.readySent) {
      // The actor's init is done: it asks for its first message. spawn()
      // resolves now, not before (an actor that fails in init rejects it).
      this.readySent = true;
      this.host.postMessage({ ctl: CTL.READY });
    }
    // What C sent before asking for more leaves now, even when the next
    // message is already here: an actor that answers and then computes for
    // long (or loops until stopped) must not hold its answers back. Sends
    // made in one go between two asks still travel as one batch.
    if (this.ports.ndirty !== 0) this.ports.flush();
    const m = this.mailbox.take(corr);
    if (m) {
      this.current = m;
      return m.u8.length;
    }
    if (timeout === 0) {
      this.giveUp(corr);
      return ERRNO.ETIMEDOUT;
    }
    // The actor blocks (what it sent has left, above, before the unwind,
    // which is then off the critical path of the replies).
    this.waiting = true;
    this.waitCorr = corr;
    this.waitDeadline = timeout > 0 ? performance.now() + timeout : Infinity;
    if (timeout > 0) this.armWaitTimer(this.waitDeadline);
    const heap32 = this.mem.u32();
    heap32[this.dataPtr >>> 2] = this.dataPtr + 8;
    heap32[(this.dataPtr >>> 2) + 1] = this.dataPtr + 8 + this.asyncStack;
    ex.asyncify_start_unwind(this.dataPtr);
    return 0;
  }

  /** fy_take: the message fy_wait returned, handed over once. */
  takeCurrent() {
    const m = this.current;
    this.current = null;
    return m;
  }

  giveUp(corr) {
    if (!corr) return;
    this.abandoned.add(corr);
    this.outstanding.delete(corr);
  }

  /** After messages arrived: resumes the actor if one is what it waits for. */
  wake() {
    if (!this.suspended || !this.waiting) return;
    const m = this.mailbox.take(this.waitCorr);
    if (m) {
      this.waiting = false;
      this.current = m;
      this.resume(m.u8.length);
    }
  }

  armWaitTimer(deadline) {
    if (this.waitTimer !== null && this.waitTimerAt <= deadline) return;
    if (this.waitTimer !== null) clearTimeout(this.waitTimer);
    this.waitTimerAt = deadline;
    this.waitTimer = setTimeout(this.onWaitTimer, Math.max(0, Math.ceil(deadline - performance.now())));
  }

  onWaitTimer() {
    this.waitTimer = null;
    this.waitTimerAt = Infinity;
    if (!this.waiting || this.stopped || this.waitDeadline === Infinity) return;
    if (performance.now() + 1 < this.waitDeadline) {
      this.armWaitTimer(this.waitDeadline);
      return;
    }
    this.waiting = false;
    this.giveUp(this.waitCorr);
    this.resume(ERRNO.ETIMEDOUT);
  }

  // ------------------------------------------------------------ running

  /** Runs the C code until it returns or suspends. */
  run() {
    this.stats.runs++;
    const ex = this.ex;
    const ports = this.ports;
    let rc;
    ports.inWasm = true;
    try {
      rc = ex[EXPORTS.START]();
    } catch (e) {
      ports.inWasm = false;
      return this.die(e);
    }
    ports.inWasm = false;
    if (ex.asyncify_get_state() === ASYNCIFY.UNWINDING) {
      ex.asyncify_stop_unwind();
      this.suspended = true;
      ports.flush();
      return;
    }
    ports.flush();
    if (!this.hasStarted) {
      const names = this.readCString(ex[EXPORTS.TYPE_NAMES]());
      this.host.postMessage({
        ctl: CTL.FAILED, code: rc === ERRNO.ENOTFOUND ? 'ENOTFOUND' : 'EINVAL',
        message: rc === ERRNO.ENOTFOUND
          ? `no actor type "${this.label}" in this module (it has: ${names || 'none'})`
          : `actor "${this.label}" could not start (${rc})`,
      });
      return this.finish();
    }
    this.down({ code: 'EDOWN', name: 'Stopped', message: `actor ${this.id} (${this.label}) returned ${rc}`, exitCode: rc, normal: rc === 0 });
  }

  resume(value) {
    this.resumeValue = value;
    this.suspended = false;
    try {
      this.ex.asyncify_start_rewind(this.dataPtr);
    } catch (e) {
      return this.die(e);
    }
    this.run();
  }

  /** fy_started: the actor type exists and its function runs. */
  started() {
    this.hasStarted = true;
    this.host.postMessage({ ctl: CTL.STARTED });
  }

  // --------------------------------------------------------------- end

  die(e) {
    const oom = this.oom && this.outOfMemory();
    if (e instanceof ExitError) {
      return this.down({ code: oom ? 'ENOMEM' : 'EDOWN', name: 'Exit', message: `actor ${this.id} (${this.label}) called exit(${e.code}) or abort()${oom || ''}`, exitCode: e.code });
    }
    const trap = e instanceof WebAssembly.RuntimeError;
    this.down({
      code: oom ? 'ENOMEM' : 'EDOWN',
      name: trap ? 'Trap' : e?.name || 'Error',
      message: `actor ${this.id} (${this.label}) ${trap ? 'trapped' : 'failed'}: ${e?.message ?? e}${oom || ''}`,
      stack: e?.stack,
    });
  }

  // Why an actor that died after sbrk was refused memory went down (its
  // reason's code is then ENOMEM).
  outOfMemory() {
    const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;
    return ` after running out of memory (a request for ${this.oom.increment} more bytes was refused at ${mib(this.oom.at)}` +
      `${this.maxMemory ? `; its maxMemory is ${mib(this.maxMemory)}` : ''})`;
  }

  down(reason) {
    if (this.stopped) return;
    // What was lent to us goes home first (the JS side outlives a trap in
    // the wasm), ahead of the down report, which makes the host end us.
    this.blobs.returnAll();
    this.stopped = true;
    this.ports.flush();
    this.host.postMessage({ ctl: CTL.DOWN, reason });
    this.finish();
  }

  finish() {
    this.blobs.returnAll();
    this.stopped = true;
    if (this.waitTimer !== null) clearTimeout(this.waitTimer);
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.waitTimer = null;
    this.ports.close();
    closeSelf(this.host);
  }

  /** Counters for ref.stats(). */
  snapshot() {
    const c = this.stats.copies;
    return {
      // Totals across the wasm memory boundary (kept from earlier versions).
      bytesIn: c.envelopeIn + c.blobRead,
      bytesOut: c.envelopeOut + c.blobFrom + c.blobWrite,
      messagesIn: this.stats.messagesIn,
      messagesOut: this.stats.messagesOut,
      // Port messages refused before the mailbox (not of a form ferry posts).
      rejected: this.stats.rejected,
      // Times the actor's C ran (started, or resumed after a wait).
      runs: this.stats.runs,
      copies: { ...c },
      copiedBytes: c.envelopeIn + c.envelopeOut + c.blobRead + c.blobWrite + c.blobFrom + c.blobDup,
      blobs: this.blobs.size,
      loans: { out: this.blobs.out, ...this.blobs.stats },
      mailbox: this.mailbox.length,
      mailboxBytes: this.mailbox.bytes,
      memory: this.mem.byteLength,
      maxMemory: this.maxMemory,
      // For soaks: both must stay flat over a long run.
      ports: this.ports.open,
      pendingCalls: this.outstanding.size,
    };
  }

  readCString(ptr) {
    const u8 = this.mem.u8();
    let end = ptr;
    while (u8[end]) end++;
    return new TextDecoder().decode(u8.subarray(ptr, end));
  }
}
