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
import { encode, decode, OutOfBand, TAG_OOB } from './cbor.mjs';
import { addExtension } from 'cbor-x';
import { KIND, HOST, FerryError, errorFromBody, unpackItems, peekHeader, errorEnvelope, postItems } from './protocol.mjs';
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

class Transfer {
  constructor(x) {
    let buf = x;
    if (ArrayBuffer.isView(x)) {
      if (x.byteOffset !== 0 || x.byteLength !== x.buffer.byteLength) {
        throw new TypeError('transfer() needs a view over a whole ArrayBuffer; use .slice() to make one');
      }
      buf = x.buffer;
    }
    if (!(buf instanceof ArrayBuffer)) throw new TypeError('transfer() takes an ArrayBuffer or a typed array');
    if (buf.detached) throw new TypeError('transfer(): this ArrayBuffer was already transferred (it is detached)');
    this.buffer = buf;
  }
}

// Transfers met while encoding one envelope; the encoder extension below
// writes tag 41999(i) for each and collects the buffers in order.
let collecting = null;
addExtension({
  Class: Transfer,
  tag: TAG_OOB,
  encode(t, encodeFn) {
    if (!collecting) throw new TypeError('transfer() values can only be sent in a message');
    collecting.push(t.buffer);
    return encodeFn(collecting.length - 1);
  },
  decode: (i) => new OutOfBand(i),
});

function envelope(kind, type, corr, value) {
  if (typeof type !== 'string') throw new TypeError(`message type must be a string, got ${typeof type}`);
  const xfer = [];
  collecting = xfer;
  let bytes;
  try {
    bytes = encode([kind, type, corr, value === undefined ? null : value]);
  } finally {
    collecting = null;
  }
  // cbor-x returns a view of its reusable buffer: copy it into a buffer of
  // its own, which can then be transferred (detached) safely.
  const buf = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buf).set(bytes);
  return { buf, xfer: xfer.length ? xfer : null };
}

// Replaces OutOfBand(i) in a decoded value by the transferred buffer i.
function attachTransfers(v, xfer) {
  if (v instanceof OutOfBand) return v.index < xfer.length ? new Uint8Array(xfer[v.index]) : v;
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = attachTransfers(v[i], xfer);
  } else for (const k in v) v[k] = attachTransfers(v[k], xfer);
  return v;
}

// ------------------------------------------------------------- batching

const batches = new Map(); // worker -> items
let flushQueued = false;
function post(target, item) {
  let list = batches.get(target);
  if (!list) batches.set(target, (list = []));
  list.push(item);
  if (!flushQueued) {
    flushQueued = true;
    queueMicrotask(flush);
  }
}
function flush() {
  flushQueued = false;
  for (const [target, items] of batches) postItems(target, items);
  batches.clear();
}

export { postItems };

// ---------------------------------------------------------------- refs

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
    post(this.#a.worker, envelope(KIND.SEND, type, 0, value));
  }

  /** Calls the actor; resolves with its reply or rejects with a FerryError
   * (EREMOTE for an error reply, EDOWN, ETIMEDOUT, ECANCELED, EFULL). */
  call(type, value, { timeout, signal } = {}) {
    try {
      this.#sys._check(this.#a);
    } catch (e) {
      return Promise.reject(e);
    }
    if (signal?.aborted) {
      return Promise.reject(new FerryError('ECANCELED', `call "${type}" to actor ${this.id} was cancelled`, { cause: signal.reason, actor: this.id }));
    }
    const corr = this.#sys._corr();
    let env;
    try {
      env = envelope(KIND.CALL, type, corr, value);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      const p = { resolve, reject, a: this.#a, type, timer: null, cleanup: null };
      const settle = () => {
        this.#sys._pending.delete(corr);
        if (p.timer) clearTimeout(p.timer);
        p.cleanup?.();
      };
      p.resolve = (v) => { settle(); resolve(v); };
      p.reject = (e) => { settle(); reject(e); };
      if (timeout !== undefined) {
        if (!(timeout >= 0)) throw new RangeError(`timeout must be a number of milliseconds >= 0, got ${timeout}`);
        p.timer = setTimeout(() => p.reject(new FerryError('ETIMEDOUT',
          `call "${type}" to actor ${this.id} (${this.name}) timed out after ${timeout} ms`, { actor: this.id })), timeout);
      }
      if (signal) {
        const onAbort = () => p.reject(new FerryError('ECANCELED',
          `call "${type}" to actor ${this.id} was cancelled`, { cause: signal.reason, actor: this.id }));
        signal.addEventListener('abort', onAbort, { once: true });
        p.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.#sys._pending.set(corr, p);
      post(this.#a.worker, env);
    });
  }

  /** Posts a raw envelope (an ArrayBuffer, transferred). For tools and
   * tests of the wire format; malformed ones come back at onerror. */
  postRaw(buf) {
    this.#sys._check(this.#a);
    post(this.#a.worker, { buf, xfer: null });
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
      init = envelope(KIND.SEND, name, 0, opts.init === undefined ? null : opts.init);
    } catch (e) {
      return Promise.reject(e);
    }
    const id = this.#nextId++;
    const a = { id, name, state: 'starting', worker: null, waiters: [], statsWaiters: new Map() };
    a.downPromise = new Promise((r) => (a.resolveDown = r));
    this.#actors.set(id, a);
    const worker = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
    a.worker = worker;
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
    for (const it of unpackItems(data, [])) this.#envelopeFromActor(a, it);
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

  #envelopeFromActor(a, it) {
    let env;
    try {
      env = decode(it.buf);
    } catch (e) {
      console.error(`ferry: malformed envelope from actor ${a.id} (${a.name}): ${e.message}`);
      return;
    }
    let [kind, type, corr, body] = env;
    if (it.xfer) body = attachTransfers(body, it.xfer);
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
      post(a.worker, kind === KIND.ERROR
        ? { buf: errorEnvelope(type, corr, value.code, value.message), xfer: null }
        : envelope(KIND.REPLY, type, corr, value));
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
