// pool.mjs - reply buffers the application gives back (recycle()), reused
// for this thread's next big envelopes.
//
// A caller that keeps a big reply's bytes keeps the reply envelope's
// buffer (envelope.mjs decodes byte strings as views of it), so each next
// big request needs fresh memory: per 20 MiB round trip, 20 MiB mapped in
// Node, or zero-filled and later collected as external memory in browsers
// (docs/performance.md, rt20m.bytes_vs_floor). recycle(reply.data) says
// "done with it": the buffer is detached from the caller's views at once
// and kept here, and the next envelope of about its size is written into
// it and posted as {e, n} (Outbox.addWriter, wire/framing.mjs), which the
// actor's worker then uses for its reply (worker/imports.mjs): a loop of
// big calls that recycles its replies needs no fresh memory on either side.
//
// One pool per JS thread (module state): the System's thread and every
// thread connected with connect() each have their own, shared by all the
// actors that thread talks to.
import { FerryError } from '../wire/errors.mjs';
import { isDetached } from './envelope.mjs';
import { isBorrowed } from './loans.mjs';

/** Buffers smaller than this are detached and dropped, not kept: below it
 * a fresh buffer costs little (and small replies may share one buffer,
 * a packed batch). Envelopes of this size or more are written into a
 * pooled buffer when one fits. */
export const POOL_MIN = 1 << 20;
/** The pool's bounds: beyond either, the oldest buffers are let go. */
export const POOL_BUFFERS = 4;
export const POOL_BYTES = 128 << 20;

const kept = []; // oldest first
let keptBytes = 0;
let recycled = 0;
let reused = 0;
let dropped = 0;

function describe(x) {
  if (x === null || typeof x !== 'object') return typeof x === 'string' ? 'a string' : String(x);
  return x.constructor?.name ?? 'an object';
}

/**
 * Takes back a buffer the caller is done with: x is a reply's Uint8Array
 * (any view; its whole ArrayBuffer is taken, so every other view of it
 * dies too) or an ArrayBuffer. It is detached at once; a big one is kept
 * for the next big envelope, a small one dropped. Throws FerryError EINVAL,
 * changing nothing, for what is not an ArrayBuffer or a view of one, a
 * SharedArrayBuffer, a detached buffer, a buffer lent to this thread
 * (release() sends those home) or one the engine will not detach.
 */
export function recycle(x) {
  const buf = ArrayBuffer.isView(x) ? x.buffer : x;
  // By tag, not instanceof: a buffer from another realm (an iframe, a vm
  // context; a WebAssembly.Memory's) is still told apart right.
  const tag = Object.prototype.toString.call(buf);
  if (tag === '[object SharedArrayBuffer]') {
    throw new FerryError('EINVAL', 'recycle(): a SharedArrayBuffer is shared, not owned: it cannot be given back');
  }
  if (tag !== '[object ArrayBuffer]') throw new FerryError('EINVAL', `recycle() takes the Uint8Array (or ArrayBuffer) of a reply, got ${describe(x)}`);
  if (isDetached(buf)) throw new FerryError('EINVAL', 'recycle(): this buffer is detached already (recycled, released or transferred before)');
  if (isBorrowed(buf)) throw new FerryError('EINVAL', 'recycle(): this buffer is on loan to this thread: give it back to its owner with release()');
  // Detached with structuredClone: the bytes move, uncopied, to a new
  // ArrayBuffer the caller never sees. Measured on 20 MiB buffers that came
  // from a worker, then written and posted to it again
  // (test/bench/probe/recycle-detach.mjs, docs/runs/recycle-detach-*.json):
  // Node 20 has no ArrayBuffer.prototype.transfer, and structuredClone takes
  // 2-3 us; in Chromium a buffer made by transfer() posts as slowly as a
  // fresh one (93 ms per round trip, against 2.5 ms after structuredClone;
  // the detach itself read 20 and 40 us there, on a coarse clock); in
  // Firefox both round trips take 1.5 ms (transfer() 2.6 us,
  // structuredClone 9.2 us). So structuredClone everywhere.
  let fresh;
  try {
    fresh = structuredClone(buf, { transfer: [buf] });
  } catch (e) {
    throw new FerryError('EINVAL', `recycle(): this buffer cannot be detached: ${e.message}`, { cause: e });
  }
  // Node copies instead of moving a buffer it marked untransferable (the
  // slab under small Buffers) and the memory of a WebAssembly.Memory:
  // then the caller's views live on, and the copy is simply dropped.
  if (!isDetached(buf)) {
    throw new FerryError('EINVAL', 'recycle(): this buffer cannot be detached (the memory of a WebAssembly.Memory, or Node\'s shared pool under small Buffers); nothing was changed');
  }
  recycled++;
  const n = fresh.byteLength;
  // A resizable buffer could be shrunk out from under its length; none of
  // ferry's envelopes is one.
  if (n < POOL_MIN || n > POOL_BYTES || fresh.resizable) {
    dropped++;
    return;
  }
  kept.push(fresh);
  keptBytes += n;
  while (kept.length > POOL_BUFFERS || keptBytes > POOL_BYTES) {
    keptBytes -= kept.shift().byteLength;
    dropped++;
  }
}

/**
 * For an envelope of n bytes: the smallest pooled buffer of n to 2n bytes,
 * taken out of the pool, or null (n below POOL_MIN, or none fits). The
 * caller writes the envelope into its first n bytes and posts it as
 * {e, n}, moved (Outbox.addWriter).
 */
export function takePooled(n) {
  if (n < POOL_MIN || !kept.length) return null;
  let best = -1;
  for (let i = 0; i < kept.length; i++) {
    const len = kept[i].byteLength;
    if (len >= n && len <= 2 * n && (best < 0 || len < kept[best].byteLength)) best = i;
  }
  if (best < 0) return null;
  const buf = kept[best];
  kept.splice(best, 1);
  keptBytes -= buf.byteLength;
  reused++;
  return buf;
}

/** This thread's pool: buffers recycle() took back, envelopes written
 * into one of them, buffers not kept (small, or beyond the bounds), and
 * what it holds now. */
export function poolStats() {
  return { recycled, reused, dropped, pooled: kept.length, pooledBytes: keptBytes };
}

/** Lets go of every pooled buffer (tests and probes: a measurement
 * without recycling starts from an empty pool). */
export function emptyPool() {
  dropped += kept.length;
  kept.length = 0;
  keptBytes = 0;
}
