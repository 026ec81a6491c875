// system.mjs - a System of C actors: compiles the module once, spawns one
// worker per actor, routes what actors send to the host, connects actors
// to each other, and reports actors that stop.
import { KIND, CTL, isControl } from '../wire/protocol.mjs';
import { FerryError, errorFromBody } from '../wire/errors.mjs';
import { errorEnvelope } from '../wire/head.mjs';
import { unpack } from '../wire/framing.mjs';
import { EXPORTS } from '../worker/abi.mjs';
import { encodeEnvelope, envelopeBuffer, decodeEnvelope, bufferFree } from './envelope.mjs';
import { ActorRecord, ActorRef, STATE } from './actor.mjs';
import { onMessage, onWorkerError, compileModule } from '../platform.mjs';
import { newWorker } from '../new-worker.mjs';

export class System {
  #module;
  #opts;
  /** @type {Map<number, ActorRecord>} */
  #actors = new Map();
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
    if (!exports.includes(EXPORTS.START)) {
      throw new FerryError('EINVAL', `System.start: this wasm module has no ferry actors (no ${EXPORTS.START} export); build it with ferry-build`);
    }
    const sys = new System();
    sys.#module = module;
    sys.#opts = { mailbox: { messages: 10000, bytes: 256 << 20 }, asyncStack: 256 << 10, reusePartial: true, ...opts };
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
    const { worker, url: scriptURL } = newWorker();
    const a = new ActorRecord(id, name, worker);
    this.#actors.set(id, a);
    const onEnvelope = (u8, xfer) => this.#envelopeFromActor(a, u8, xfer);
    onMessage(worker, (data) => {
      if (isControl(data)) this.#control(a, data);
      else unpack(data, onEnvelope);
    });
    onWorkerError(worker, (err) => {
      if (a.state === STATE.DOWN) return;
      this._down(a, { code: 'EDOWN', name: err?.name || 'Error', message: `actor ${id} (${name}) worker failed: ${err?.message ?? err}`, stack: err?.stack });
    }, scriptURL);
    const mailbox = { ...this.#opts.mailbox, ...(opts.mailbox || {}) };
    /** @type {import('../wire/protocol.mjs').InitCtl} */
    const msg = {
      ctl: CTL.INIT, module: this.#module, id, name, init: init.buf, initXfer: init.xfer,
      limits: mailbox, asyncStack: this.#opts.asyncStack, reusePartial: this.#opts.reusePartial,
    };
    a.control(msg, [init.buf, ...(init.xfer || [])]);
    return a.readyPromise.then(() => a.ref);
  }

  /** Actors that are running (or starting). */
  get actors() {
    return [...this.#actors.values()].filter((a) => a.state !== STATE.DOWN).map((a) => a.ref).filter(Boolean);
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
      if (a.state !== STATE.DOWN) {
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
    if (a.state === STATE.DOWN) throw new FerryError('EDOWN', `actor ${a.id} (${a.name}) is down: ${a.reason.message}`, { actor: a.id });
  }

  /** @param {ActorRecord} a */
  #control(a, msg) {
    switch (msg.ctl) {
      case CTL.STARTED:
        a.state = STATE.RUNNING;
        a.ref = new ActorRef(this, a);
        a.ready.resolve();
        a.runWaiters();
        break;
      case CTL.FAILED:
        a.ready.reject(new FerryError(msg.code, msg.message, { actor: a.id }));
        this._down(a, { code: msg.code, name: 'SpawnFailed', message: msg.message });
        break;
      case CTL.DOWN:
        this._down(a, msg.reason);
        break;
      case CTL.CONNECT:
        this.#connect(a, msg.to);
        break;
      case CTL.STATS:
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
    if (!b || b.state === STATE.DOWN) {
      const code = b ? 'EDOWN' : 'ENOTFOUND';
      const message = b ? `actor ${to} (${b.name}) is down: ${b.reason.message}` : `there is no actor ${to}`;
      a.control({ ctl: CTL.PEER_FAIL, id: to, code, message });
      return;
    }
    if (b.state === STATE.STARTING) {
      b.waiters.push(() => this.#connect(a, to));
      return;
    }
    if (a.state === STATE.DOWN) return;
    const { port1, port2 } = new MessageChannel();
    a.control({ ctl: CTL.PEER, id: b.id, port: port1 }, [port1]);
    b.control({ ctl: CTL.PEER, id: a.id, port: port2 }, [port2]);
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
    if (a.state !== STATE.DOWN && bufferFree(u8, body)) a.out.spare = u8.buffer;
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
      if (a.state === STATE.DOWN) return;
      if (kind === KIND.ERROR) {
        a.postBuffer(errorEnvelope(type, corr, value.code, value.message), null);
        return;
      }
      let x;
      try {
        x = encodeEnvelope(KIND.REPLY, type, corr, value);
      } catch (e) {
        a.postBuffer(errorEnvelope(type, corr, 'EINVAL', `the host's reply to "${type}" cannot be sent: ${e.message}`), null);
        return;
      }
      a.post(x);
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
    if (a.state === STATE.DOWN) return;
    const wasStarting = a.state === STATE.STARTING;
    a.state = STATE.DOWN;
    a.reason = reason;
    a.worker?.terminate();
    a.out?.drop();
    if (wasStarting) {
      a.ready.reject(new FerryError(reason.code === 'ENOTFOUND' ? 'ENOTFOUND' : 'EDOWN', reason.message, { actor: a.id }));
    }
    a.runWaiters();
    for (const p of [...this._pending.values()]) {
      if (p.a === a) {
        p.reject(new FerryError(reason.code === 'ECLOSED' ? 'ECLOSED' : 'EDOWN',
          `call "${p.type}" failed: ${reason.message}`, { actor: a.id }));
      }
    }
    for (const b of this.#actors.values()) {
      if (b !== a && b.state !== STATE.DOWN) b.control({ ctl: CTL.PEER_DOWN, id: a.id, code: 'EDOWN', message: `actor ${a.id} (${a.name}) is down: ${reason.message}` });
    }
    a.resolveDown({ ...reason, actor: a.id });
  }
}
