// protocol.mjs - what the host and the workers say to each other: the
// message kinds of an envelope, the control messages, and one typedef per
// form a port message can take (docs/wire-format.md is the full account).
// Values only; the code that writes and reads them is in head.mjs
// (envelope heads), framing.mjs (port messages) and writer.mjs (CBOR).
//
// This folder (glue/wire) imports nothing outside itself, so that a
// worker's module graph has no bare specifiers (browsers apply no import
// map inside module workers).

/** Envelope kinds, as on the wire and in enum ferry_kind_msg (actor.h). */
export const KIND = Object.freeze({ SEND: 0, CALL: 1, REPLY: 2, ERROR: 3 });

/** The actor id of the host (FERRY_HOST). */
export const HOST = 0;

/** Control message names (`ctl`), host -> worker and worker -> host. */
export const CTL = Object.freeze({
  // host -> worker
  INIT: 'init', //        InitCtl: start the actor
  PEER: 'peer', //        PeerCtl: a port to another actor
  PEER_FAIL: 'peer-fail', // PeerFailCtl: no port can be had (no such actor, down)
  PEER_DOWN: 'down', //   PeerDownCtl: another actor stopped
  STATS: 'stats', //      StatsCtl: asks for counters (answered with StatsReplyCtl)
  // either way, and between actors on their own ports
  LOAN_RETURN: 'loan-return', // LoanReturnCtl: a lent buffer goes home
  // worker -> host
  STARTED: 'started', //  the actor type was found and runs
  READY: 'ready', //      it waits for its first message: spawn resolves
  MONITOR: 'monitor', //  MonitorCtl: tell me when actor id goes down
  FAILED: 'failed', //    FailedCtl: it could not start
  CONNECT: 'connect', //  ConnectCtl: asks for a port to another actor
  DOWN: 'down', //        DownCtl: this actor stopped
});

/**
 * One port message (every buffer in it is in the transfer list):
 * @typedef {ArrayBuffer} EnvelopeMsg one envelope without transferables
 * @typedef {[ArrayBuffer, ...ArrayBuffer[]]} BlobEnvelopeMsg one envelope
 *   and its blobs: tag 41999(i) in the body is element i + 1
 * @typedef {{p: ArrayBuffer}} PackedMsg a run of small envelopes without
 *   transferables, each a 4-byte little-endian length and its bytes
 * @typedef {{e: ArrayBuffer, n: number}} PartialMsg one envelope in the
 *   first n bytes of e, the rest zeros (a reused received buffer)
 * @typedef {{l: [ArrayBuffer, ...ArrayBuffer[]], loans: number[]}} LoanEnvelopeMsg
 *   one envelope and its blobs, some of them lent, not moved: loans holds
 *   triples (index into l minus one, loan id, deadline ms or 0)
 * @typedef {EnvelopeMsg|BlobEnvelopeMsg|PackedMsg|PartialMsg|LoanEnvelopeMsg} EnvelopeItem
 * @typedef {{b: EnvelopeItem[]}} BatchMsg up to MAX_BATCH envelopes, in order
 * @typedef {EnvelopeItem|BatchMsg} DataMsg
 *
 * Control messages:
 * @typedef {{ctl: 'init', module: WebAssembly.Module, id: number, name: string,
 *   init: ArrayBuffer, initXfer: ArrayBuffer[]|null,
 *   limits: {messages: number, bytes: number}, asyncStack: number,
 *   reusePartial?: boolean, memory: {initial: number, maximum: number}|null}} InitCtl
 *   memory: the pages of the memory the worker makes (null: the module
 *   defines its own)
 * @typedef {{ctl: 'peer', id: number, port: MessagePort, thread?: boolean}} PeerCtl
 *   thread: the port leads to a JS thread (ref.connect()), not an actor
 * @typedef {{ctl: 'peer-fail', id: number, code: string, message: string}} PeerFailCtl
 * @typedef {{ctl: 'down', id: number, code: string, message: string,
 *   reason?: DownReason}} PeerDownCtl
 * @typedef {{ctl: 'loan-return', loan: number, buf: ArrayBuffer}} LoanReturnCtl
 *   sent by a borrower to the owner's worker (buf transferred)
 * @typedef {{ctl: 'monitor', id: number}} MonitorCtl
 * @typedef {{ctl: 'stats', seq: number}} StatsCtl
 * @typedef {{ctl: 'stats', seq: number, stats: object}} StatsReplyCtl
 * @typedef {{ctl: 'started'}} StartedCtl
 * @typedef {{ctl: 'ready'}} ReadyCtl
 * @typedef {{ctl: 'failed', code: string, message: string}} FailedCtl
 * @typedef {{ctl: 'connect', to: number}} ConnectCtl
 * @typedef {{ctl: 'down', reason: DownReason}} DownCtl
 * @typedef {{code: string, name: string, message: string, stack?: string,
 *   exitCode?: number, normal?: boolean}} DownReason
 */

/** Whether a port message is a control message. */
export const isControl = (data) => data !== null && typeof data === 'object' && typeof data.ctl === 'string';
