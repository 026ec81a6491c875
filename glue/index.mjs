// index.mjs - the `ferry` package: start a System of C actors, spawn them,
// send and call.
//
//   import { System, transfer } from 'ferry';
//   const sys = await System.start({ module: new URL('./app.wasm', import.meta.url) });
//   const echo = await sys.spawn('echo');
//   const r = await echo.call('get', { key: 'a' }, { timeout: 1000 });
//   await sys.shutdown();
//
// The wasm module is compiled once here and the compiled WebAssembly.Module
// is posted to every worker, which instantiates its own memory. Messages
// are CBOR envelopes in ArrayBuffers, always transferred.
import { KIND, HOST, FerryError, errorFromBody, unpack, peekHeader, errorEnvelope, postItems, Outbox } from './protocol.mjs';
import { Transfer, encodeEnvelope, envelopeBuffer, decodeEnvelope, bufferFree, writer } from './envelope.mjs';
import { isNode, onMessage, onWorkerError, compileModule } from './platform.mjs';

export { FerryError } from './protocol.mjs';
export { OutOfBand } from './cbor.mjs';

let Worker = globalThis.Worker;
if (!Worker && isNode) ({ Worker } = await import('node:worker_threads'));

// ------------------------------------------------------------ transfer

/** Marks an ArrayBuffer (or a view covering a whole one) to be moved, not
 * copied, as a blob. After sending, the buffer is detached here. */
export function transfer(x) {
  return new Transfer(x);
}

// ------------------------------------------------------------- batching

// What this turn posts to each worker leaves in one postMessage per worker
// (protocol.mjs, Outbox), flushed in a microtask: a loop of sends becomes
// one packed message, a lone call costs no more than a microtask.
const dirty = [];
let flushQueued = false;

function queued(a) {
  if (!flushQueued) {
    flushQueued = true;
    queueMicrotask(flush);
  }
  if (!a.dirty) {
    a.dirty = true;
    dirty.push(a);
  }
}

/** Queues the envelope now in `writer` for actor record a. */
function post(a, xfer) {
  a.out.addWriter(writer, xfer);
  queued(a);
}

/** Queues an envelope that is an ArrayBuffer of its own. */
function postBuffer(a, buf, xfer) {
  a.out.addItem(buf, xfer);
  queued(a);
}

function flush() {
  flushQueued = false;
  for (let i = 0; i < dirty.length; i++) {
    const a = dirty[i];
    a.dirty = false;
    if (a.state === 'down') {
      a.out.drop();
      continue;
    }
    try {
      a.out.flush();
    } catch (e) {
      console.error(`ferry: cannot post to actor ${a.id} (${a.name}): ${e.message}`);
    }
  }
  dirty.length = 0;
}

export { postItems };

// ---------------------------------------------------------------- refs

/** A call from the host waiting for its reply. */
class Pending {
  constructor(sys, corr, a, type) {
    this.sys = sys;
    this.corr = corr;
    this.a = a;
    this.type = type;
    this.res = null;
    this.rej = null;
    this.timer = null;
    this.cleanup = null;
  }

  settle() {
    this.sys._pending.delete(this.corr);
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

/** A running (or stopped) actor, as seen from JavaScript. */
class ActorRef {
  #sys;
  #a;
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
    return this.#a.state === 'running';
  }

  /** Sends a one-way message. Delivery failures arrive at onerror. */
  send(type, value) {
    this.#sys._check(this.#a);
    post(this.#a, encodeEnvelope(KIND.SEND, type, 0, value));
  }

  /** Calls the actor; resolves with its reply or rejects with a FerryError
   * (EREMOTE for an error reply, EDOWN, ETIMEDOUT, ECANCELED, EFULL). */
  call(type, value, { timeout, signal } = {}) {
    const a = this.#a;
    const sys = this.#sys;
    try {
      sys._check(a);
    } catch (e) {
      return Promise.reject(e);
    }
    if (signal?.aborted) {
      return Promise.reject(new FerryError('ECANCELED', `call "${type}" to actor ${this.id} was cancelled`, { cause: signal.reason, actor: this.id }));
    }
    if (timeout !== undefined && !(timeout >= 0)) {
      return Promise.reject(new RangeError(`timeout must be a number of milliseconds >= 0, got ${timeout}`));
    }
    const corr = sys._corr();
    try {
      // Queued at once: the encoder's buffer is reused by the next message.
      // It leaves in a microtask, so no reply can come before the pending
      // call is registered below.
      post(a, encodeEnvelope(KIND.CALL, type, corr, value));
    } catch (e) {
      return Promise.reject(e);
    }
    const p = new Pending(sys, corr, a, type);
    const promise = new Promise((resolve, reject) => {
      p.res = resolve;
      p.rej = reject;
    });
    if (timeout !== undefined) {
      p.timer = setTimeout(() => p.reject(new FerryError('ETIMEDOUT',
        `call "${type}" to actor ${this.id} (${this.name}) timed out after ${timeout} ms`, { actor: this.id })), timeout);
    }
    if (signal) {
      const onAbort = () => p.reject(new FerryError('ECANCELED',
        `call "${type}" to actor ${this.id} was cancelled`, { cause: signal.reason, actor: this.id }));
      signal.addEventListener('abort', onAbort, { once: true });
      p.cleanup = () => signal.removeEventListener('abort', onAbort);
    }
    sys._pending.set(corr, p);
    return promise;
  }

  /** Posts a raw envelope (an ArrayBuffer, transferred). For tools and
   * tests of the wire format; malformed ones come back at onerror. */
  postRaw(buf) {
    this.#sys._check(this.#a);
    postBuffer(this.#a, buf, null);
  }

  /** Counters of the actor's worker: bytes and messages copied into and out
   * of wasm memory, blobs held, mailbox length, memory size. */
  stats() {
    this.#sys._check(this.#a);
    return new Promise((resolve) => {
      const seq = this.#sys._corr();
      this.#a.statsWaiters.set(seq, resolve);
      this.#a.worker.postMessage({ ctl: 'stats', seq });
    });
  }

  /** Stops the actor (terminates its worker); resolves when it is down. */
  async stop() {
    if (this.#a.state !== 'down') {
      this.#sys._down(this.#a, { code: 'EDOWN', name: 'Stopped', message: `actor ${this.id} (${this.name}) was stopped by the host`, normal: true });
    }
    return this.down;
  }
}

// -------------------------------------------------------------- System

export class System {
  #module;
  #opts;
  #actors = new Map(); // id -> actor record
  #nextId = 1;
  #nextCorr = 1;
  #closed = false;
  #handlers = new Map();
  _pending = new Map(); // corr -> pending call from the host

  /**
   * Compiles the module once and returns a System.
   * @param {object} opts
   * @param {URL|string|ArrayBuffer|Uint8Array|Response|WebAssembly.Module} opts.module
   * @param {{messages?: number, bytes?: number}} [opts.mailbox] default mailbox bounds
   * @param {number} [opts.asyncStack] bytes reserved for Asyncify unwinds (256 KiB)
   */
  static async start(opts = {}) {
    if (!opts.module) throw new TypeError('System.start: `module` (the .wasm built by ferry-build) is required');
    let module;
    try {
      module = await compileModule(opts.module);
    } catch (e) {
      throw new FerryError('EINVAL', `System.start: cannot compile ${opts.module}: ${e.message}`, { cause: e });
    }
    const exports = WebAssembly.Module.exports(module).map((e) => e.name);
    if (!exports.includes('ferry__start')) {
      throw new FerryError('EINVAL', 'System.start: this wasm module has no ferry actors (no ferry__start export); build it with ferry-build');
    }
    const sys = new System();
    sys.#module = module;
    sys.#opts = { mailbox: { messages: 10000, bytes: 256 << 20 }, asyncStack: 256 << 10, ...opts };
    return sys;
  }

  /** The compiled module, shared by every worker. */
  get module() {
    return this.#module;
  }

  /**
   * Starts an actor of a type registered with FERRY_ACTOR in the module.
   * @param {string} name actor type
   * @param {{init?: any, mailbox?: {messages?: number, bytes?: number}}} [opts]
   * @returns {Promise<ActorRef>} once the actor runs
   */
  spawn(name, opts = {}) {
    if (this.#closed) return Promise.reject(new FerryError('ECLOSED', 'the System is shut down'));
    if (typeof name !== 'string' || !name) return Promise.reject(new TypeError('spawn: actor type name must be a non-empty string'));
    let init;
    try {
      init = envelopeBuffer(KIND.SEND, name, 0, opts.init === undefined ? null : opts.init);
    } catch (e) {
      return Promise.reject(e);
    }
    const id = this.#nextId++;
    const a = { id, name, state: 'starting', worker: null, out: null, dirty: false, waiters: [], statsWaiters: new Map() };
    a.downPromise = new Promise((r) => (a.resolveDown = r));
    this.#actors.set(id, a);
    const worker = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
    a.worker = worker;
    a.out = new Outbox(worker);
    a.onEnvelope = (u8, xfer) => this.#envelopeFromActor(a, u8, xfer);
    const ready = new Promise((resolve, reject) => (a.ready = { resolve, reject }));
    onMessage(worker, (data) => this.#fromWorker(a, data));
    onWorkerError(worker, (err) => {
      if (a.state === 'down') return;
      this._down(a, { code: 'EDOWN', name: err?.name || 'Error', message: `actor ${id} (${name}) worker failed: ${err?.message ?? err}`, stack: err?.stack });
    });
    const mailbox = { ...this.#opts.mailbox, ...(opts.mailbox || {}) };
    worker.postMessage({
      ctl: 'init', module: this.#module, id, name, init: init.buf, initXfer: init.xfer,
      limits: mailbox, asyncStack: this.#opts.asyncStack,
    }, [init.buf, ...(init.xfer || [])]);
    return ready.then(() => a.ref);
  }

  /** Actors that are running (or starting). */
  get actors() {
    return [...this.#actors.values()].filter((a) => a.state !== 'down').map((a) => a.ref).filter(Boolean);
  }

  /** Registers a handler for calls that actors make to the host
   * (ferry_call(FERRY_HOST, type, ...)); returns the value to reply. */
  handle(type, fn) {
    this.#handlers.set(type, fn);
  }

  /** Stops every actor; the System cannot be used afterwards. */
  async shutdown() {
    this.#closed = true;
    const downs = [];
    for (const a of this.#actors.values()) {
      if (a.state !== 'down') {
        this._down(a, { code: 'ECLOSED', name: 'Shutdown', message: `the System was shut down`, normal: true });
      }
      downs.push(a.downPromise);
    }
    await Promise.all(downs);
  }

  _corr() {
    return this.#nextCorr++;
  }

  _check(a) {
    if (this.#closed) throw new FerryError('ECLOSED', 'the System is shut down');
    if (a.state === 'down') throw new FerryError('EDOWN', `actor ${a.id} (${a.name}) is down: ${a.reason.message}`, { actor: a.id });
  }

  #fromWorker(a, data) {
    if (data && data.ctl) return this.#control(a, data);
    unpack(data, a.onEnvelope);
  }

  #control(a, msg) {
    switch (msg.ctl) {
      case 'started':
        a.state = 'running';
        a.ref = new ActorRef(this, a);
        a.ready.resolve();
        for (const w of a.waiters) w();
        a.waiters = [];
        break;
      case 'failed':
        a.ready.reject(new FerryError(msg.code, msg.message, { actor: a.id }));
        this._down(a, { code: msg.code, name: 'SpawnFailed', message: msg.message });
        break;
      case 'down':
        this._down(a, msg.reason);
        break;
      case 'connect':
        this.#connect(a, msg.to);
        break;
      case 'stats':
        a.statsWaiters.get(msg.seq)?.(msg.stats);
        a.statsWaiters.delete(msg.seq);
        break;
      default:
        break;
    }
  }

  // Gives actors a and b a direct MessageChannel (once b runs), so their
  // messages never pass through this thread.
  #connect(a, to) {
    const b = this.#actors.get(to);
    if (!b || b.state === 'down') {
      const code = b ? 'EDOWN' : 'ENOTFOUND';
      const message = b ? `actor ${to} (${b.name}) is down: ${b.reason.message}` : `there is no actor ${to}`;
      a.worker.postMessage({ ctl: 'peer-fail', id: to, code, message });
      return;
    }
    if (b.state === 'starting') {
      b.waiters.push(() => this.#connect(a, to));
      return;
    }
    if (a.state === 'down') return;
    const { port1, port2 } = new MessageChannel();
    a.worker.postMessage({ ctl: 'peer', id: b.id, port: port1 }, [port1]);
    b.worker.postMessage({ ctl: 'peer', id: a.id, port: port2 }, [port2]);
  }

  #envelopeFromActor(a, u8, xfer) {
    let env;
    try {
      env = decodeEnvelope(u8, xfer);
    } catch (e) {
      console.error(`ferry: malformed envelope from actor ${a.id} (${a.name}): ${e.message}`);
      return;
    }
    const { kind, type, corr, body } = env;
    // Nothing of the value points into the buffer: reuse it for the next
    // envelope of the same size to this actor (no allocation).
    if (a.state !== 'down' && bufferFree(u8, body)) a.out.spare = u8.buffer;
    if (kind === KIND.REPLY || kind === KIND.ERROR) {
      const p = corr ? this._pending.get(corr) : null;
      if (p) {
        if (kind === KIND.REPLY) p.resolve(body);
        else p.reject(errorFromBody(body, a.id));
      } else if (!corr) {
        // An undelivered send or a rejected message of ours.
        const err = errorFromBody(body, a.id);
        if (a.ref?.onerror) a.ref.onerror(err);
        else console.warn(`ferry: ${err.message}`);
      }
      return;
    }
    if (kind === KIND.SEND) {
      a.ref?.onmessage?.({ type, value: body, from: a.id });
      return;
    }
    if (kind === KIND.CALL) this.#callFromActor(a, type, corr, body);
  }

  async #callFromActor(a, type, corr, body) {
    const reply = (kind, value) => {
      if (a.state === 'down') return;
      if (kind === KIND.ERROR) {
        postBuffer(a, errorEnvelope(type, corr, value.code, value.message), null);
        return;
      }
      let x;
      try {
        x = encodeEnvelope(KIND.REPLY, type, corr, value);
      } catch (e) {
        postBuffer(a, errorEnvelope(type, corr, 'EINVAL', `the host's reply to "${type}" cannot be sent: ${e.message}`), null);
        return;
      }
      post(a, x);
    };
    try {
      if (type === 'ferry.spawn') {
        const ref = await this.spawn(body?.name, { init: body?.init ?? undefined });
        reply(KIND.REPLY, { id: ref.id });
        return;
      }
      const fn = this.#handlers.get(type);
      if (!fn) {
        reply(KIND.ERROR, { code: 'ENOTFOUND', message: `the host has no handler for "${type}"` });
        return;
      }
      reply(KIND.REPLY, await fn(body, a.ref));
    } catch (e) {
      reply(KIND.ERROR, { code: e instanceof FerryError ? e.code : 'EREMOTE', message: e.message });
    }
  }

  // Marks an actor down once: its worker ends, the host's pending calls to
  // it reject, other actors hear of it, and `down` resolves.
  _down(a, reason) {
    if (a.state === 'down') return;
    const wasStarting = a.state === 'starting';
    a.state = 'down';
    a.reason = reason;
    a.worker?.terminate();
    a.out?.drop();
    if (wasStarting) {
      a.ready.reject(new FerryError(reason.code === 'ENOTFOUND' ? 'ENOTFOUND' : 'EDOWN', reason.message, { actor: a.id }));
    }
    for (const w of a.waiters) w();
    a.waiters = [];
    for (const p of [...this._pending.values()]) {
      if (p.a === a) {
        p.reject(new FerryError(reason.code === 'ECLOSED' ? 'ECLOSED' : 'EDOWN',
          `call "${p.type}" failed: ${reason.message}`, { actor: a.id }));
      }
    }
    for (const b of this.#actors.values()) {
      if (b !== a && b.state !== 'down') b.worker.postMessage({ ctl: 'down', id: a.id, code: 'EDOWN', message: `actor ${a.id} (${a.name}) is down: ${reason.message}` });
    }
    a.resolveDown({ ...reason, actor: a.id });
  }
}

export { HOST, KIND, peekHeader };
