// ports.mjs - where an actor's envelopes go: the host's port, a direct
// MessageChannel port per peer actor (asked of the host on first use), or
// its own mailbox. What one turn sends to one port leaves in one
// postMessage (framing.mjs, Outbox): while C runs, at the moment it blocks
// or returns; otherwise in a microtask.
import { HOST, KIND, CTL, isControl } from '../wire/protocol.mjs';
import { EnvelopeHead, errorEnvelope } from '../wire/head.mjs';
import { Outbox } from '../wire/framing.mjs';
import { onMessage } from '../platform.mjs';

/**
 * @typedef {object} Peer
 * @property {MessagePort|null} port
 * @property {Outbox|null} out null while the port is not there yet
 * @property {{buf: ArrayBuffer, xfer: ArrayBuffer[]|null, loans: number[]|null}[]|null} pending
 *   envelopes waiting for the port
 */

// How long a dead peer's port stays open to drain what it had posted.
const LINGER_MS = 2000;
// How long calls to a dead peer wait for replies it sent before it died.
const DRAIN_MS = 30;

export class Ports {
  /**
   * @param {object} actor the WorkerActor: receive(u8, xfer, from), wake(),
   *   callsTo(id), and the fields id, label, stopped
   * @param {MessagePort} host the port to the host
   */
  constructor(actor, host) {
    this.actor = actor;
    this.host = host;
    this.hostOut = new Outbox(host);
    /** @type {Map<number, Peer>} */
    this.peers = new Map();
    this.downPeers = new Map(); // id -> {code, message}
    this.open = 0; // ports this worker holds open (ref.stats().ports)
    // Outboxes with something queued: dirty[0, ndirty). A count, not
    // `length = 0`, which showed in the per-message profile.
    this.dirty = [];
    this.ndirty = 0;
    this.flushQueued = false;
    this.inWasm = false; // C runs: flush when it returns or blocks
    this.head = new EnvelopeHead();
    this.flush = this.flush.bind(this);
  }

  /** The outbox for actor `to`, or null while its port is not there yet. */
  outFor(to) {
    if (to === HOST) return this.hostOut;
    const peer = this.peers.get(to);
    return peer ? peer.out : null;
  }

  /** Marks an outbox as having something to post. */
  queued(out) {
    if (!out.dirtyMark) {
      out.dirtyMark = true;
      this.dirty[this.ndirty++] = out;
    }
    if (!this.inWasm && !this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flush);
    }
  }

  /** Posts everything queued since the last flush, one postMessage per port. */
  flush() {
    this.flushQueued = false;
    const dirty = this.dirty;
    for (let i = 0; i < this.ndirty; i++) {
      const out = dirty[i];
      dirty[i] = null;
      out.dirtyMark = false;
      if (out.closed) continue;
      try {
        out.flush();
      } catch (e) {
        console.error(`ferry: actor ${this.actor.id} (${this.actor.label}) cannot post: ${e.message}`);
      }
    }
    this.ndirty = 0;
  }

  /** Routes an envelope that is an ArrayBuffer of its own, with its blobs
   * (loans: which of them are lent, see framing.mjs). */
  route(to, buf, xfer, loans = null) {
    const actor = this.actor;
    if (to === actor.id) {
      queueMicrotask(() => {
        if (actor.stopped) return;
        actor.receive(new Uint8Array(buf), xfer, actor.id, loans);
        actor.wake();
      });
      return;
    }
    const out = this.outFor(to);
    if (out) {
      out.addItem(buf, xfer, loans);
      this.queued(out);
      return;
    }
    let peer = this.peers.get(to);
    if (!peer) {
      this.peers.set(to, (peer = { port: null, out: null, pending: [] }));
      this.host.postMessage({ ctl: CTL.CONNECT, to });
    }
    peer.pending.push({ buf, xfer, loans });
  }

  /** Sends a borrowed buffer back to its owner (a control message on the
   * port to it, outside the mailbox: the owner's C never sees it). */
  giveBack(owner, loan, buf) {
    const msg = { ctl: CTL.LOAN_RETURN, loan, buf };
    if (owner === this.actor.id) {
      queueMicrotask(() => this.actor.loanReturned(loan, buf, owner));
      return;
    }
    const target = owner === HOST ? this.host : this.peers.get(owner)?.port;
    if (!target) return; // the owner is gone: nobody wants it
    try {
      target.postMessage(msg, [buf]);
    } catch (e) {
      console.error(`ferry: actor ${this.actor.id} (${this.actor.label}) cannot return a loan: ${e.message}`);
    }
  }

  /** The host gave us a port to actor id (or to a JS thread that
   * connected, `thread`): envelopes that waited for it go. */
  connect(id, port, thread = false) {
    const actor = this.actor;
    const peer = this.peers.get(id) || { port: null, out: null, pending: [] };
    peer.port = port;
    peer.out = new Outbox(port);
    this.open++;
    this.peers.set(id, peer);
    const receive = (u8, xfer, loans) => actor.receive(u8, xfer, id, loans);
    const bad = (why) => actor.rejected(id, why);
    const ret = (loan, buf) => actor.loanReturned(loan, buf, id);
    onMessage(port, (data) => {
      if (actor.stopped) return;
      if (isControl(data)) {
        if (data.ctl === CTL.LOAN_RETURN) actor.loanReturned(data.loan, data.buf, id);
        return;
      }
      actor.takeIn(data, receive, bad, ret);
    });
    // A port whose other end closes (a JS thread that connected with
    // ref.connect() and ended; Node says so, browsers may not) is a peer
    // that went away: loans to it are lost, calls to it fail.
    const closed = () => {
      if (this.peers.get(id) === peer) this.gone(id, 'EDOWN', `the thread connected as ${id} closed its port`);
    };
    // (Only for threads: an actor's down comes from the host, with its
    // reason, and must not be beaten by the port's close.)
    if (thread && typeof port.on === 'function') port.on('close', closed);
    else if (thread) port.addEventListener?.('close', closed);
    for (const it of peer.pending || []) peer.out.addItem(it.buf, it.xfer, it.loans);
    peer.pending = null;
    if (!peer.out.empty) this.queued(peer.out);
  }

  /**
   * Peer id is gone (down, or it never existed): every call of ours still
   * waiting on it fails with code, in our own mailbox, so C sees an error
   * reply; sends that waited for its port come back as undelivered
   * reports with their blobs; monitors and loans hear of it.
   * @param {object} [reason] the stop reason (name, normal, exitCode)
   */
  gone(id, code, message, reason) {
    const actor = this.actor;
    this.downPeers.set(id, { code, message, reason });
    const peer = this.peers.get(id);
    this.peers.delete(id);
    if (peer?.out) {
      peer.out.closed = true;
      peer.out.drop();
    }
    // The port closes later, not now: what the peer posted before it went
    // down (a borrowed buffer going home) may still wait in the port's
    // queue, and closing a port drops its queue.
    if (peer?.port) {
      setTimeout(() => {
        peer.port.close?.();
        this.open--;
      }, LINGER_MS);
    }
    if (actor.stopped) return;
    // First what never left (its blobs come back with the report; a call's
    // report is its error reply), then the calls that did.
    const h = this.head;
    for (const it of peer?.pending || []) {
      if (!h.parse(new Uint8Array(it.buf))) continue;
      actor.undelivered(h, new Uint8Array(it.buf), it.xfer, it.loans, id, code, message);
    }
    // Calls that did leave fail a moment later, not at once: replies the
    // peer sent before it went down may still wait in its port's queue
    // (the host's news travels on another port and can overtake them), and
    // a reply that was sent must count as the reply.
    const failCalls = () => {
      if (actor.stopped) return;
      for (const corr of actor.callsTo(id)) {
        actor.receive(new Uint8Array(errorEnvelope('ferry.down', corr, code, message)), null, id);
      }
      actor.wake();
    };
    if (peer?.port) setTimeout(failCalls, DRAIN_MS);
    else failCalls();
    actor.peerDown(id, code, message, reason);
    actor.wake();
  }

  /** Whether actor id is known to be down. */
  isDown(id) {
    return this.downPeers.has(id);
  }

  /** Closes every port (the actor stopped). */
  close() {
    for (const p of this.peers.values()) {
      if (p.out) p.out.closed = true;
      p.port?.close?.();
    }
  }
}
