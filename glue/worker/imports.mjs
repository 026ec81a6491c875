// imports.mjs - the env imports of a ferry module: what the C runtime
// (src/runtime) calls in its worker. The names and types are declared in
// abi.mjs; makeImports() fails loudly if this file and abi.mjs drift apart.
//
// Every envelope byte crosses wasm memory here, and only here: fy_take
// copies a received envelope in, fy_post copies an outgoing one out (one
// copy per byte, segment by segment, straight into the outgoing buffer),
// and the blob calls copy only when C asks for bytes (fy_blob_read,
// fy_blob_from, fy_blob_write) or the engine to copy (fy_blob_dup). The
// counters in actor.stats.copies say how many bytes, by kind.
import { KIND } from '../wire/protocol.mjs';
import { ERRNO } from '../wire/errors.mjs';
import { MAX_BATCH, PACK_MAX } from '../wire/framing.mjs';
import { freshBuffer, sliceOf } from '../wire/writer.mjs';
import { IMPORTS, META, SEG, BLOB } from './abi.mjs';

// Below this many bytes a byte loop beats TypedArray.set's call overhead.
const SHORT_COPY = 32;

/**
 * Copies nsegs segments, listed at word s0 of heap32, into dst at off.
 * Returns the offset after them.
 */
function gather(heap8, heap32, s0, nsegs, dst, off) {
  for (let i = 0; i < nsegs; i++) {
    const w = s0 + SEG.WORDS * i;
    const p = heap32[w + SEG.PTR];
    const n = heap32[w + SEG.LEN];
    if (n < SHORT_COPY) for (let j = 0; j < n; j++) dst[off + j] = heap8[p + j];
    else dst.set(heap8.subarray(p, p + n), off);
    off += n;
  }
  return off;
}

/**
 * The env import object for one actor.
 * @param {import('./actor.mjs').WorkerActor} actor
 */
export function makeImports(actor) {
  const { ports, blobs, stats, mem } = actor;
  const copies = stats.copies;
  // A blob handle C may read or write: held here, not out on loan.
  const usable = (h) => {
    const st = blobs.state(h);
    return st === BLOB.HOME || st === BLOB.BORROWED ? 0 : st ? ERRNO.EBUSY : ERRNO.EINVAL;
  };
  const env = {
    fy_wait(timeout, corr) {
      return actor.wait(timeout, corr);
    },

    fy_take(dst, meta) {
      const m = actor.takeCurrent();
      const heap8 = mem.u8();
      const u8 = m.u8;
      const len = u8.length;
      if (dst) {
        if (len < 64) for (let i = 0; i < len; i++) heap8[dst + i] = u8[i];
        else heap8.set(u8, dst);
        // Its bytes are in wasm memory now: the buffer can carry our next
        // envelope back to where it came from (framing.mjs, Outbox.spare).
        // An envelope that starts its buffer has it to itself: a lone one,
        // or {e, n} in a bigger buffer (the host's recycled buffers,
        // host/pool.mjs, or a peer's reused one); packed ones start later.
        if (u8.byteOffset === 0) {
          const out = ports.outFor(m.from);
          if (out) out.spare = u8.buffer;
        }
      }
      if (dst) copies.envelopeIn += len;
      stats.messagesIn++;
      const n = m.xfer ? m.xfer.length : 0;
      const heap32 = mem.u32();
      const mi = meta >>> 2;
      heap32[mi + META.FROM] = m.from;
      heap32[mi + META.BLOB_BASE] = blobs.adopt(m.xfer, m.loans, m.from);
      heap32[mi + META.NBLOBS] = n;
    },

    fy_post(to, kind, corr, segs, nsegs, blobList, nblobs) {
      if (ports.isDown(to)) return ERRNO.EDOWN;
      const heap8 = mem.u8();
      const heap32 = mem.u32();
      const s0 = segs >>> 2;
      let total = 0;
      for (let i = 0; i < nsegs; i++) total += heap32[s0 + SEG.WORDS * i + SEG.LEN];
      let xfer = null;
      let loans = null;
      if (nblobs) {
        const b0 = blobList >>> 2;
        // They move (or, marked by fy_blob_lend, are lent) with the message.
        const r = blobs.release(heap32.subarray(b0, b0 + nblobs), to);
        if (r.error) return ERRNO[r.error];
        xfer = r.xfer;
        loans = r.loans;
      }
      copies.envelopeOut += total;
      stats.messagesOut++;
      if (kind === KIND.CALL) actor.callSent(corr, to);
      const toSelf = to === actor.id;
      // Small envelopes go into the port's packed batch (framing.mjs).
      const out = toSelf ? null : ports.outFor(to);
      if (out && !xfer && total <= PACK_MAX) {
        const at = out.reserve(total); // may replace out.pack: read it after
        gather(heap8, heap32, s0, nsegs, out.pack, at);
        if (out.count >= MAX_BATCH) out.flush();
        ports.queued(out);
        return 0;
      }
      // A spare buffer from the same port: of exactly this size, or (for a
      // big envelope without blobs, sent as {e, n}) up to twice it.
      const reuse = out ? out.spare : null;
      if (reuse && (reuse.byteLength === total ||
          (actor.reusePartial && !xfer && reuse.byteLength > total && reuse.byteLength <= 2 * total))) {
        out.spare = null;
        const dst = new Uint8Array(reuse);
        gather(heap8, heap32, s0, nsegs, dst, 0);
        if (reuse.byteLength > total) {
          dst.fill(0, total);
          out.addPartial(reuse, total);
        } else out.addItem(reuse, xfer, loans);
        ports.queued(out);
        return 0;
      }
      let buf;
      if (nsegs === 1) {
        const p = heap32[s0 + SEG.PTR];
        buf = sliceOf(heap8, p, p + total);
      } else {
        buf = freshBuffer(total); // gather writes every byte
        gather(heap8, heap32, s0, nsegs, new Uint8Array(buf), 0);
      }
      ports.route(to, buf, xfer, loans);
      return 0;
    },

    fy_self_id() {
      return actor.id;
    },

    fy_started() {
      actor.started();
    },

    fy_blob_size(h) {
      const st = blobs.state(h);
      if (!st) return ERRNO.EINVAL;
      const b = blobs.get(h);
      return b ? b.byteLength : ERRNO.EBUSY;
    },

    fy_blob_read(h, off, dst, len) {
      const bad = usable(h);
      if (bad) return bad;
      const b = blobs.get(h);
      if (off + len > b.byteLength) return ERRNO.EINVAL;
      mem.u8().set(new Uint8Array(b, off, len), dst);
      copies.blobRead += len;
      return 0;
    },

    fy_blob_write(h, off, src, len) {
      const bad = usable(h);
      if (bad) return bad;
      const b = blobs.get(h);
      if (off + len > b.byteLength) return ERRNO.EINVAL;
      new Uint8Array(b, off, len).set(mem.u8().subarray(src, src + len));
      copies.blobWrite += len;
      return 0;
    },

    fy_blob_from(src, len) {
      let b;
      try {
        b = sliceOf(mem.u8(), src, src + len);
      } catch {
        return 0;
      }
      copies.blobFrom += len;
      return blobs.add(b);
    },

    fy_blob_alloc(size) {
      let b;
      try {
        b = new ArrayBuffer(size);
      } catch {
        return 0; // the engine could not: C sees FERRY_BLOB_NONE
      }
      return blobs.add(b);
    },

    fy_blob_dup(h) {
      if (usable(h)) return 0;
      const b = blobs.get(h);
      copies.blobDup += b.byteLength;
      return blobs.add(b.slice(0));
    },

    fy_blob_free(h) {
      blobs.free(h);
    },

    fy_blob_lend(h, deadlineMs) {
      const st = blobs.state(h);
      if (st !== BLOB.HOME) return st === BLOB.LENT || st === BLOB.LOST ? ERRNO.EBUSY : ERRNO.EINVAL;
      blobs.lend(h, deadlineMs);
      return 0;
    },

    fy_blob_state(h) {
      return blobs.state(h) || ERRNO.EINVAL;
    },

    fy_deadline(corr, timeoutMs) {
      actor.deadline(corr, timeoutMs);
    },

    fy_monitor(id, on) {
      return actor.monitor(id, on !== 0);
    },

    fy_oom(increment) {
      actor.oom = { increment, at: mem.byteLength };
    },

    // emscripten's memory growth hook; the views renew themselves (mem).
    // A grow that succeeds after a refused one: memory was found after all.
    emscripten_notify_memory_growth() {
      actor.oom = null;
    },
  };
  for (const name of Object.keys(IMPORTS)) {
    if (typeof env[name] !== 'function') throw new Error(`ferry glue: import ${name} of abi.mjs is not implemented`);
  }
  return new Proxy(env, {
    get: (t, k) => t[k] ?? (() => {
      throw new Error(`the C code called env.${String(k)}, which ferry does not provide`);
    }),
  });
}
