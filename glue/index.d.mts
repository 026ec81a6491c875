// Types for the `ferry` package (glue/index.mjs).

/** FERRY_E* names; see include/ferry/error.h. */
export type FerryCode =
  | 'OK' | 'EINVAL' | 'ENOMEM' | 'ENOSPC' | 'ETRUNCATED' | 'EMALFORMED' | 'EINVALID'
  | 'ETRAILING' | 'ELIMIT' | 'ETYPE' | 'ERANGE' | 'EMISSING' | 'EDOWN' | 'ETIMEDOUT'
  | 'EFULL' | 'ECANCELED' | 'ENOTFOUND' | 'ECLOSED' | 'EREMOTE' | 'EBUSY';

export class FerryError extends Error {
  /** Thrown by a System.handle handler, code is what the calling actor
   * gets (FERRY_E*); any other error reaches it as EREMOTE. */
  constructor(code: FerryCode, message: string, options?: { cause?: unknown; actor?: number });
  readonly name: 'FerryError';
  /** 'EDOWN', 'ETIMEDOUT', ... */
  readonly code: FerryCode;
  /** The negative C value of code. */
  readonly errno: number;
  /** The actor involved, when there is one. */
  readonly actor?: number;
  readonly remoteName?: string;
  readonly remoteStack?: string;
  /** An undelivered or bounced message: where it was going, its type, its
   * corr (0 for a send). */
  readonly to?: number;
  readonly messageType?: string;
  readonly corr?: number;
  /** The blobs it carried, given back (nothing is lost). */
  readonly blobs?: Uint8Array[];
}

/** Why an actor stopped. */
export interface DownReason {
  code: FerryCode;
  /** 'Trap', 'Exit', 'Stopped', 'Shutdown', 'SpawnFailed', or an Error name. */
  name: string;
  message: string;
  stack?: string;
  exitCode?: number;
  /** true when it returned or was stopped, false when it failed. */
  normal?: boolean;
  actor: number;
}

export interface MailboxLimits {
  /** Messages waiting (default 10,000). */
  messages?: number;
  /** Bytes waiting (default 256 MiB). */
  bytes?: number;
}

export interface CallOptions {
  /** Milliseconds; rejects with ETIMEDOUT after. */
  timeout?: number;
  /** Rejects with ECANCELED when aborted. */
  signal?: AbortSignal;
}

/** Every copy ferry made in the actor's worker, in bytes, by kind
 * (docs/api.md). Moving or lending a blob copies nothing. */
export interface CopyStats {
  /** Received envelopes copied into wasm memory. */
  envelopeIn: number;
  /** Sent envelopes copied out of wasm memory. */
  envelopeOut: number;
  /** ferry_blob_read: blob bytes into wasm memory. */
  blobRead: number;
  /** ferry_blob_write: wasm memory into a blob. */
  blobWrite: number;
  /** ferry_blob_from: wasm memory into a new blob. */
  blobFrom: number;
  /** ferry_blob_dup: the engine's copy of a blob. */
  blobDup: number;
}

export interface LoanStats {
  /** Blobs of this actor out on loan now. */
  out: number;
  /** Loans made, came home, lost with their borrower, ever. */
  lent: number;
  returned: number;
  lost: number;
  /** Blobs lent to this actor, ever, and how many it gave back. */
  borrowed: number;
  gaveBack: number;
}

/** This JS thread's pool of buffers given back with recycle() (one pool
 * per thread, shared by every actor it talks to). */
export interface RecycleStats {
  /** Buffers recycle() took back (and detached), ever. */
  recycled: number;
  /** Envelopes written into a recycled buffer instead of a fresh one. */
  reused: number;
  /** Buffers let go: too small to keep (< 1 MiB), or beyond the bounds. */
  dropped: number;
  /** Buffers held now (at most 4), and their bytes (at most 128 MiB). */
  pooled: number;
  pooledBytes: number;
}

export interface ActorStats {
  /** Bytes across the wasm memory boundary, in and out (totals of copies). */
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
  /** Times the actor's C ran (started, or resumed after a wait). */
  runs: number;
  copies: CopyStats;
  /** The sum of copies. */
  copiedBytes: number;
  /** Blobs held (home or borrowed). */
  blobs: number;
  loans: LoanStats;
  /** Messages and bytes (blobs included) waiting in the mailbox. */
  mailbox: number;
  mailboxBytes: number;
  /** Bytes of wasm memory. */
  memory: number;
  /** The cap its wasm memory may grow to, in bytes (0: uncapped). */
  maxMemory: number;
  /** Ports open to other actors and JS threads. */
  ports: number;
  /** Calls this actor made that wait for their reply. */
  pendingCalls: number;
  /** This thread's recycle() pool (not the actor's worker). */
  recycle: RecycleStats;
}

/** Marks a buffer to be moved (as a blob), not copied. */
export interface Transferred {
  readonly buffer: ArrayBuffer;
}
export function transfer(buffer: ArrayBuffer | ArrayBufferView): Transferred;

/** A blob or other transferable referred to by index (tag 41999). */
export class OutOfBand {
  constructor(index: number);
  readonly index: number;
}

export interface ActorRef {
  readonly id: number;
  /** The actor type. */
  readonly name: string;
  readonly alive: boolean;
  /** Resolves when the actor stops or crashes. */
  readonly down: Promise<DownReason>;
  /** Sends from the actor to the host. */
  onmessage: ((msg: { type: string; value: unknown; from: number }) => void) | null;
  /** Sends that could not be delivered, rejected malformed messages. */
  onerror: ((err: FerryError) => void) | null;
  send(type: string, value?: unknown): void;
  call<T = unknown>(type: string, value?: unknown, options?: CallOptions): Promise<T>;
  stop(): Promise<DownReason>;
  stats(): Promise<ActorStats>;
  postRaw(envelope: ArrayBuffer): void;
  /** A port another JS thread turns into a RemoteActor with connect(). */
  connect(): MessagePort;
}

/** An actor reached from another JS thread (connect(port)). */
export interface RemoteActor {
  readonly id: number;
  readonly name: string;
  /** This thread's id as the actor sees it (the `from` of its messages). */
  readonly self: number;
  readonly alive: boolean;
  readonly down: Promise<DownReason>;
  onmessage: ((msg: { type: string; value: unknown; from: number }) => void) | null;
  onerror: ((err: FerryError) => void) | null;
  send(type: string, value?: unknown): void;
  call<T = unknown>(type: string, value?: unknown, options?: CallOptions): Promise<T>;
  /** Ends this thread's connection; calls still out reject ECLOSED. */
  close(): void;
}
export const RemoteActor: { prototype: RemoteActor };

/** In another JS thread: the port from ref.connect(), as a RemoteActor. */
export function connect(port: MessagePort): Promise<RemoteActor>;

/** Gives a blob an actor lent (ferry_blob_lend) back to it; the buffer is
 * detached here afterwards. EINVAL for a buffer not on loan here. */
export function release(buffer: ArrayBuffer | ArrayBufferView): void;
/** Whether buffer is on loan to this thread now. */
export function isBorrowed(buffer: ArrayBuffer | ArrayBufferView): boolean;
/** Gives a reply's buffer back when done with it (a view's whole
 * ArrayBuffer): it is detached at once, so every view of it is empty from
 * then on, and a buffer of 1 MiB or more is reused for this thread's next
 * envelope of its size. EINVAL for what is not an ArrayBuffer or a view
 * of one, a SharedArrayBuffer, a detached buffer, one on loan here (use
 * release()), or one the engine cannot detach. */
export function recycle(buffer: ArrayBuffer | ArrayBufferView): void;

export interface StartOptions {
  /** The .wasm built by ferry-build: its URL (or a path, in Node), its
   * bytes, a fetch Response, or the compiled module. (`& object` because
   * WebAssembly.Module is an empty interface, which a number would match.) */
  module: URL | string | ArrayBuffer | ArrayBufferView | Response | (WebAssembly.Module & object);
  /** Default mailbox bounds for every actor. */
  mailbox?: MailboxLimits;
  /** Bytes reserved for an unwound actor stack (256 KiB). */
  asyncStack?: number;
  /** Whether a worker may answer in the (bigger) buffer of the message it
   * received, as {e, n} (true; see docs/wire-format.md). A tuning switch,
   * measured by the rt16m.partial_reuse bench row. */
  reusePartial?: boolean;
  /** Default cap of each actor's wasm memory, in bytes (256 MiB), rounded
   * down to 64 KiB pages; past it malloc returns NULL (docs/api.md). */
  maxMemory?: number;
}

export interface SpawnOptions {
  /** The init value, the body of the actor's init message. */
  init?: unknown;
  mailbox?: MailboxLimits;
  /** Cap of this actor's wasm memory, in bytes (the System's default). */
  maxMemory?: number;
}

export class System {
  static start(options: StartOptions): Promise<System>;
  readonly module: WebAssembly.Module;
  readonly actors: ActorRef[];
  spawn(name: string, options?: SpawnOptions): Promise<ActorRef>;
  /** Answers actors' calls to the host (FERRY_HOST). */
  handle(type: string, fn: (value: unknown, from: ActorRef | undefined) => unknown): void;
  shutdown(): Promise<void>;
}

/** Posts envelope items (ArrayBuffers, transferred) on a port. */
export function postItems(
  target: { postMessage(data: unknown, transfer: Transferable[]): void },
  items: { buf: ArrayBuffer; xfer: ArrayBuffer[] | null }[],
): void;

export const HOST: 0;
export const KIND: Readonly<{ SEND: 0; CALL: 1; REPLY: 2; ERROR: 3 }>;
export function peekHeader(bytes: Uint8Array): { kind: number; corr: number } | null;
