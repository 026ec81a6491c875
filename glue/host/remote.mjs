// remote.mjs - an actor reached from another JS thread: a web app's own
// worker (one that verifies or decodes chunks, say) talks to an actor
// directly, not through the thread that started the System.
//
//   // the System's thread
//   const port = ref.connect();
//   myWorker.postMessage({ port }, [port]);
//   // in myWorker
//   import { connect, release } from 'ferry';
//   const cache = await connect(port);
//   const r = await cache.call('get', { key: 'a' });
//
// The port is one end of a MessageChannel whose other end the actor's
// worker holds as if this thread were another actor (an id of its own):
// envelopes, blobs and loans travel on it exactly as between actors. The
// System posts a hello on it first, carrying a second port on which it
// says when the actor goes down.
import { KIND, CTL, isControl } from '../wire/protocol.mjs';
import { FerryError, errorFromBody } from '../wire/errors.mjs';
import { unpack, Outbox } from '../wire/framing.mjs';
import { onMessage } from '../platform.mjs';
import { encodeEnvelope, decodeEnvelope, writer, rejectUndecodable } from './envelope.mjs';
import { borrowed, returnAll, forgetOwner } from './loans.mjs';
import { awaitReply, callOptions } from './actor.mjs';
import { takePooled } from './pool.mjs';

/** The hello the System posts first on a connection's port. */
export const HELLO = 'hello';

/** An actor as seen from another JS thread: send, call, down. */
export class RemoteActor {
  #port;
  #status;
  #out;
  #pending = new Map(); // corr -> Pending (actor.mjs)
  #nextCorr = 1;
  #queued = false;

  constructor(port, hello) {
    this.#port = port;
    this.#status = hello.status;
    this.#out = new Outbox(port);
    // Big envelopes go in buffers this thread gave back (recycle()).
    this.#out.take = takePooled;
    /** The actor's id and type, and this thread's id as the actor sees it. */
    this.id = hello.actor;
    this.name = hello.name;
    this.self = hello.self;
    /** 'running' or 'down' (the loan book reads it). */
    this.state = 'running';
    this.reason = null;
    /** Called with ({type, value, from}) for sends the actor makes to this thread. */
    this.onmessage = null;
    /** Called with a FerryError for sends that could not be delivered. */
    this.onerror = null;
    this.down = new Promise((r) => (this.resolveDown = r));
    onMessage(this.#status, (msg) => {
      if (msg && msg.ctl === CTL.DOWN) {
        this.#gone(msg.reason);
        this.#status.close?.();
        this.#port.close?.();
      }
    });
  }

  /** The actor's port handler (set up by connect()). */
  _receive(data) {
    if (isControl(data)) return;
    unpack(data, (u8, xfer, loans) => this.#envelope(u8, xfer, loans));
  }

  get alive() {
    return this.state === 'running';
  }

  /** Sends a one-way message. */
  send(type, value) {
    this.#check();
    this.#post(encodeEnvelope(KIND.SEND, type, 0, value));
  }

  /** Calls the actor; as ActorRef.call. */
  call(type, value, opts) {
    let timeout;
    let signal;
    try {
      this.#check();
      ({ timeout, signal } = callOptions(opts));
    } catch (e) {
      return Promise.reject(e);
    }
    if (signal?.aborted) return Promise.reject(new FerryError('ECANCELED', `call "${type}" was cancelled`, { cause: signal.reason, actor: this.id }));
    const corr = this.#nextCorr++;
    try {
      this.#post(encodeEnvelope(KIND.CALL, type, corr, value));
    } catch (e) {
      return Promise.reject(e);
    }
    return awaitReply(this.#pending, corr, this, type, this, { timeout, signal });
  }

  /** Ends this thread's connection (calls still out reject ECLOSED). */
  close() {
    // What the actor lent to this thread goes home before the port closes.
    returnAll(this);
    this.#gone({ code: 'ECLOSED', name: 'Closed', message: 'the connection was closed' });
    this.#port.close?.();
    this.#status.close?.();
  }

  /** For the loan book: a lent buffer goes home, at once. */
  returnLoan(loan, buf) {
    this.control({ ctl: CTL.LOAN_RETURN, loan, buf }, [buf]);
  }

  /** For the loan book: sends a control message to the actor's worker. */
  control(msg, xfer) {
    this.#port.postMessage(msg, xfer);
  }

  #check() {
    if (this.state === 'down') throw new FerryError(this.reason.code === 'ECLOSED' ? 'ECLOSED' : 'EDOWN', `actor ${this.id} (${this.name}) is down: ${this.reason.message}`, { actor: this.id });
  }

  #post(xfer) {
    this.#out.addWriter(writer, xfer);
    if (xfer) {
      // Not detached yet: posting detaches them (envelope.mjs). A failure
      // throws to the send or call.
      this.#out.flush();
      return;
    }
    if (!this.#queued) {
      this.#queued = true;
      queueMicrotask(() => {
        this.#queued = false;
        this.#out.flush();
      });
    }
  }

  #envelope(u8, xfer, loans) {
    let env;
    try {
      env = decodeEnvelope(u8, xfer);
    } catch (e) {
      // As System: a reply that cannot be decoded still settles its call.
      if (rejectUndecodable(u8, xfer, loans, this.#pending, this, e)) return;
      console.error(`ferry: malformed envelope from actor ${this.id}: ${e.message}`);
      return;
    }
    if (loans) for (let j = 0; j + 2 < loans.length; j += 3) borrowed(xfer[loans[j]], this, loans[j + 1], loans[j + 2]);
    const { kind, type, corr, body } = env;
    if (kind === KIND.REPLY || kind === KIND.ERROR) {
      const p = corr ? this.#pending.get(corr) : null;
      if (p) {
        if (kind === KIND.REPLY) p.resolve(body);
        else p.reject(errorFromBody(body, this.id));
      } else if (!corr) {
        const err = errorFromBody(body, this.id);
        if (this.onerror) this.onerror(err);
        else console.warn(`ferry: ${err.message}`);
      }
      return;
    }
    if (kind === KIND.SEND) this.onmessage?.({ type, value: body, from: this.id });
  }

  #gone(reason) {
    if (this.state === 'down') return;
    if (reason.code !== 'ECLOSED') forgetOwner(this);
    this.state = 'down';
    this.reason = reason;
    for (const p of [...this.#pending.values()]) {
      p.reject(new FerryError(reason.code === 'ECLOSED' ? 'ECLOSED' : 'EDOWN', `actor ${this.id} (${this.name}) is down: ${reason.message}`, { actor: this.id }));
    }
    this.resolveDown({ ...reason, actor: this.id });
  }
}

/**
 * Turns a port from ref.connect() (posted to this thread) into a
 * RemoteActor, once the System's hello arrives on it.
 * @param {MessagePort} port
 * @returns {Promise<RemoteActor>}
 */
export function connect(port) {
  if (!port || typeof port.postMessage !== 'function') {
    return Promise.reject(new FerryError('EINVAL', 'connect() takes the MessagePort that ref.connect() returned'));
  }
  return new Promise((resolve) => {
    let remote = null;
    onMessage(port, (data) => {
      if (remote) return remote._receive(data);
      if (data && data.ctl === HELLO) {
        remote = new RemoteActor(port, data);
        resolve(remote);
      }
    });
  });
}
