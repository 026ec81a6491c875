// system.mjs - a System of C actors: compiles the module once, spawns one
// worker per actor, routes what actors send to the host, connects actors
// to each other, and reports actors that stop.
import { KIND, CTL, isControl } from '../wire/protocol.mjs';
import { FerryError, errorFromBody } from '../wire/errors.mjs';
import { errorEnvelope, EnvelopeHead } from '../wire/head.mjs';
import { unpack, envelopeOf, splitLoans } from '../wire/framing.mjs';
import { borrowed, forgetOwner } from './loans.mjs';
import { HELLO } from './remote.mjs';
import { EXPORTS } from '../worker/abi.mjs';
import { encodeEnvelope, envelopeBuffer, decodeEnvelope, bufferFree, rejectUndecodable } from './envelope.mjs';
import { ActorRecord, ActorRef, STATE } from './actor.mjs';
import { onMessage, onWorkerError, compileModule } from '../platform.mjs';
import { newWorker } from '../new-worker.mjs';
import { moduleMemory, capPages, DEFAULT_MAX_MEMORY } from './memory.mjs';

/** Gives an error the blobs that came back with it (undelivered, bounced). */
function withBlobs(err, xfer) {
  if (xfer && xfer.length) err.blobs = xfer.map((b) => new Uint8Array(b));
  return err;
}

/** Throws a FerryError EINVAL unless m is {messages?, bytes?} of whole
 * numbers >= 1 (a mailbox that holds nothing could not even take init). */
function checkMailbox(what, m) {
  if (m === null || typeof m !== 'object') throw new FerryError('EINVAL', `${what} must be an object {messages, bytes}, got ${m === null ? 'null' : typeof m}`);
  for (const k of ['messages', 'bytes']) {
    const v = m[k];
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 1)) {
      throw new FerryError('EINVAL', `${what}.${k} must be a whole number >= 1, got ${typeof v === 'number' ? v : typeof v}`);
    }
  }
}

export class System {
  #module;
  #opts;
  #memory; // the module's memory import {initial, maximum} in pages, or null
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
   * @param {number} [opts.maxMemory] default cap of each actor's wasm memory, in bytes (256 MiB)
   */
  static async start(opts = {}) {
    if (!opts?.module) throw new FerryError('EINVAL', 'System.start: `module` (the .wasm built by ferry-build) is required');
    if (opts.mailbox !== undefined) checkMailbox('System.start: mailbox', opts.mailbox);
    if (opts.asyncStack !== undefined && !(Number.isInteger(opts.asyncStack) && opts.asyncStack >= 1024 && opts.asyncStack <= 1 << 30)) {
      throw new FerryError('EINVAL', `System.start: asyncStack must be a whole number of bytes from 1024 to 2^30, got ${opts.asyncStack}`);
    }
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
    const memory = moduleMemory(module);
    const maxMemory = opts.maxMemory ?? DEFAULT_MAX_MEMORY;
    // Checked now, so that a bad default fails here and not at each spawn.
    capPages(maxMemory, memory, 'System.start');
    const sys = new System();
    sys.#module = module;
    sys.#memory = memory;
    sys.#opts = { mailbox: { messages: 10000, bytes: 256 << 20 }, asyncStack: 256 << 10, reusePartial: true, ...opts, maxMemory };
    return sys;
  }

  /** The compiled module, shared by every worker. */
  get module() {
    return this.#module;
  }

  /**
   * Starts an actor of a type registered with FERRY_ACTOR in the module.
   * @param {string} name actor type
   * @param {{init?: any, mailbox?: {messages?: number, bytes?: number}, maxMemory?: number}} [opts]
   *   maxMemory: cap of its wasm memory in bytes, rounded down to 64 KiB pages
   * @returns {Promise<ActorRef>} once the actor runs
   */
  spawn(name, opts) {
    if (this.#closed) return Promise.reject(new FerryError('ECLOSED', 'the System is shut down'));
    let init;
    let maxPages;
    try {
      if (typeof name !== 'string' || !name) throw new FerryError('EINVAL', `spawn: actor type name must be a non-empty string, got ${name === '' ? 'an empty one' : typeof name}`);
      if (name.indexOf('\0') >= 0) throw new FerryError('EINVAL', `spawn: actor type name ${JSON.stringify(name)} holds a NUL character`);
      if (opts === undefined || opts === null) opts = {};
      else if (typeof opts !== 'object') throw new FerryError('EINVAL', `spawn: options must be an object, got ${typeof opts}`);
      if (opts.mailbox !== undefined) checkMailbox('spawn: mailbox', opts.mailbox);
      maxPages = capPages(opts.maxMemory ?? this.#opts.maxMemory, this.#memory, `spawn("${name}")`);
      init = envelopeBuffer(KIND.SEND, name, 0, opts.init === undefined ? null : opts.init);
    } catch (e) {
      return Promise.reject(e);
    }
    const id = this.#nextId++;
    const { worker, url: scriptURL } = newWorker();
    const a = new ActorRecord(id, name, worker);
    // A message that cannot be posted fails alone, at once (framing.mjs).
    a.out.onFail = (item, e) => this.#postFailed(a, item, e);
    this.#actors.set(id, a);
    const onEnvelope = (u8, xfer, loans) => this.#envelopeFromActor(a, u8, xfer, loans);
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
      memory: this.#memory && { initial: this.#memory.initial, maximum: maxPages },
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
    if (typeof type !== 'string') throw new FerryError('EINVAL', `handle(): the message type must be a string, got ${typeof type}`);
    if (typeof fn !== 'function') throw new FerryError('EINVAL', `handle(): the handler must be a function, got ${typeof fn}`);
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

  /** The Worker actor `id` runs in (tests kill one from outside with it). */
  _worker(id) {
    return this.#actors.get(id)?.worker ?? null;
  }

  _corr() {
    return this.#nextCorr++;
  }

  // ref.connect(): a channel between another JS thread and actor a, which
  // sees that thread as one more peer with an id of its own.
  _connectThread(a) {
    const id = this.#nextId++;
    const data = new MessageChannel();
    const status = new MessageChannel();
    // The hello waits in the thread's end until it calls connect(port).
    data.port1.postMessage({ ctl: HELLO, actor: a.id, name: a.name, self: id, status: status.port2 }, [status.port2]);
    a.control({ ctl: CTL.PEER, id, port: data.port1, thread: true }, [data.port1]);
    a.threads.push(status.port1);
    return data.port2;
  }

  _check(a) {
    if (this.#closed) throw new FerryError('ECLOSED', 'the System is shut down');
    if (a.state === STATE.DOWN) throw new FerryError('EDOWN', `actor ${a.id} (${a.name}) is down: ${a.reason.message}`, { actor: a.id });
  }

  /** @param {ActorRecord} a */
  #control(a, msg) {
    switch (msg.ctl) {
      case CTL.STARTED:
        // The type exists and runs its init: peers may connect to it, and
        // what it sends to the host meanwhile reaches a ref.
        a.typeFound = true;
        a.ref = new ActorRef(this, a);
        a.runWaiters();
        break;
      case CTL.READY:
        // Its init is done (it waits for its first message).
        if (a.state !== STATE.STARTING) break;
        a.state = STATE.RUNNING;
        a.ready.resolve();
        break;
      case CTL.MONITOR:
        this.#monitor(a, msg.id);
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
      if (b) a.control({ ...this.#downCtl(b), ctl: CTL.PEER_FAIL });
      else a.control({ ctl: CTL.PEER_FAIL, id: to, code: 'ENOTFOUND', message: `there is no actor ${to}`, reason: { name: 'ENOTFOUND' } });
      return;
    }
    if (b.state === STATE.STARTING && !b.typeFound) {
      b.waiters.push(() => this.#connect(a, to));
      return;
    }
    if (a.state === STATE.DOWN) return;
    // Two actors that first send to each other at the same moment both ask.
    // The second ask gets nothing: the PEER posted for the first reaches
    // it too. Two channels would split each side's messages over two
    // ports, which the receiver may take out of order.
    if (a.linked.has(b.id)) return;
    a.linked.add(b.id);
    b.linked.add(a.id);
    const { port1, port2 } = new MessageChannel();
    a.control({ ctl: CTL.PEER, id: b.id, port: port1 }, [port1]);
    b.control({ ctl: CTL.PEER, id: a.id, port: port2 }, [port2]);
  }

  // An actor watches actor id: if that one is already down (or never
  // was), it hears so now; otherwise the down broadcast will tell it.
  #monitor(a, id) {
    const b = this.#actors.get(id);
    if (b && b.state !== STATE.DOWN) return;
    if (a.state === STATE.DOWN) return;
    if (!b) a.control({ ctl: CTL.PEER_FAIL, id, code: 'ENOTFOUND', message: `there is no actor ${id}`, reason: { name: 'ENOTFOUND' } });
    else a.control(this.#downCtl(b));
  }

  #downCtl(b) {
    const r = b.reason;
    return {
      ctl: CTL.PEER_DOWN, id: b.id, code: 'EDOWN',
      // Reasons the glue writes already name the actor; others get its name.
      message: r.message.startsWith(`actor ${b.id} `) ? r.message : `actor ${b.id} (${b.name}) is down: ${r.message}`,
      reason: { name: r.name, normal: !!r.normal, exitCode: r.exitCode ?? 0 },
    };
  }

  // A queued message could not be posted (framing.mjs, Outbox.onFail): its
  // call rejects, or its send is reported; the others went.
  #postFailed(a, item, e) {
    if (item.ctl === CTL.LOAN_RETURN) {
      console.error(`ferry: a loan of actor ${a.id} (${a.name}) cannot go home: ${e.message}`);
      return;
    }
    const u8 = envelopeOf(item);
    const h = new EnvelopeHead();
    const err = (what) => new FerryError('EINVAL', `${what} to actor ${a.id} (${a.name}) cannot be posted: ${e.message}`, { cause: e, actor: a.id });
    if (u8 && h.parse(u8) && h.kind === KIND.CALL) {
      const p = this._pending.get(h.corr);
      if (p) p.reject(err(`call "${h.type(u8)}"`));
      return;
    }
    const report = err(u8 && h.parse(u8) ? `message "${h.type(u8)}"` : 'a batch of messages');
    if (a.ref?.onerror) a.ref.onerror(report);
    else console.error(`ferry: ${report.message}`);
  }

  #envelopeFromActor(a, u8, xfer, loans) {
    let env;
    try {
      env = decodeEnvelope(u8, xfer);
    } catch (e) {
      // A reply must settle its call even when its body cannot be decoded
      // (valid CBOR that cbor-x refuses, e.g. tag 258 around a non-array).
      if (rejectUndecodable(u8, xfer, loans, this._pending, a, e)) return;
      console.error(`ferry: malformed envelope from actor ${a.id} (${a.name}): ${e.message}`);
      return;
    }
    const { kind, type, corr, body } = env;
    // Nothing of the value points into the buffer: reuse it for the next
    // envelope of the same size to this actor (no allocation).
    if (a.state !== STATE.DOWN && bufferFree(u8, body)) a.out.spare = u8.buffer;
    if (kind === KIND.REPLY || kind === KIND.ERROR) {
      const p = corr ? this._pending.get(corr) : null;
      if (p || !corr) this.#borrow(a, xfer, loans);
      if (p) {
        if (kind === KIND.REPLY) p.resolve(body);
        else p.reject(withBlobs(errorFromBody(body, a.id), xfer));
      } else if (!corr) {
        // An undelivered send or a rejected message of ours.
        const err = withBlobs(errorFromBody(body, a.id), xfer);
        if (a.ref?.onerror) a.ref.onerror(err);
        else console.warn(`ferry: ${err.message}`);
      } else if (xfer) {
        // A late reply (its call timed out or was cancelled): what it
        // carried goes back to the actor, which is told why.
        this.#sendBack(a, type, corr, xfer, loans);
      }
      return;
    }
    this.#borrow(a, xfer, loans);
    if (kind === KIND.SEND) {
      a.ref?.onmessage?.({ type, value: body, from: a.id });
      return;
    }
    if (kind === KIND.CALL) this.#callFromActor(a, type, corr, body);
  }

  // Lent buffers in a message that reaches the application: held in the
  // loan book until release(), their deadline, or the owner's down.
  #borrow(a, xfer, loans) {
    if (loans) for (let j = 0; j + 2 < loans.length; j += 3) borrowed(xfer[loans[j]], a, loans[j + 1], loans[j + 2]);
  }

  #sendBack(a, type, corr, xfer, loans) {
    if (a.state === STATE.DOWN) return;
    const moved = splitLoans(xfer, loans, (loan, buf) => a.returnLoan(loan, buf));
    if (!moved) return;
    a.postBuffer(errorEnvelope(type, 0, 'ETIMEDOUT', `the host had stopped waiting for this reply (call ${corr}); its blobs come back`,
      { to: 0, type, corr }), moved);
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
    for (const id of a.linked) this.#actors.get(id)?.linked.delete(a.id);
    a.linked.clear();
    a.worker?.terminate();
    a.out?.drop();
    forgetOwner(a);
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
    // (Not closed here: a port closed right after a post may drop it.
    // The other thread's RemoteActor closes its end.)
    for (const port of a.threads) port.postMessage({ ctl: CTL.DOWN, reason: { ...reason, actor: a.id } });
    a.threads = [];
    const notice = this.#downCtl(a);
    for (const b of this.#actors.values()) {
      if (b !== a && b.state !== STATE.DOWN) b.control(notice);
    }
    a.resolveDown({ ...reason, actor: a.id });
  }
}
