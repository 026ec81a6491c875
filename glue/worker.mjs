// worker.mjs - one actor per worker: instantiates the System's compiled
// wasm module with its own memory, keeps the actor's mailbox, ports and
// blobs, and suspends/resumes the C code with Asyncify.
//
// C blocks only in the import env.ferry_wait. If a matching message is
// already queued it returns at once (no unwind); otherwise it starts an
// unwind, the export returns to this event loop, and the actor is resumed
// (rewound) when a message arrives or its timeout fires.
import { KIND, HOST, ERRNO, MAX_BATCH, PACK_MAX, errorEnvelope, parseHead, head, readType, unpack, Outbox } from './protocol.mjs';
import { onMessage, hostPort, closeSelf } from './platform.mjs';

const host = await hostPort();

let ex = null; // wasm exports
let self_id = 0;
let label = '?';
let limits = { messages: 10000, bytes: 256 << 20 };
let dataPtr = 0;
let asyncStack = 256 << 10;

// ------------------------------------------------------------- mailbox
// A queue in queue[qhead..qtail): a moving head, and selective receive
// removes from the middle. The array is reused (a push into spare room
// costs no growth); it is compacted when the head has moved far.
let queue = [];
let qhead = 0;
let qtail = 0;
let qbytes = 0;
let current = null; // the message handed to C by ferry_wait, taken by ferry_take
let waiting = false; // the actor is suspended in ferry_wait, for:
let waitCorr = 0; // the reply with this corr (0: any message)
let waitDeadline = Infinity; // performance.now() when the wait times out
let suspended = false;
let resumeValue = 0;
let stopped = false;
let started = false; // the actor type was found and its function runs
const outstanding = new Map(); // corr of our calls -> destination id
const abandoned = new Set(); // corrs whose call timed out: drop late replies
const downPeers = new Map(); // id -> reason

// Bytes copied across the wasm memory boundary, for ref.stats(): blobs
// must never show up here.
const stats = { bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0 };

// --------------------------------------------------------------- blobs
const blobs = new Map(); // handle -> ArrayBuffer
let nextBlob = 1;

// ---------------------------------------------------------------- ports
const peers = new Map(); // id -> { port, out: Outbox | null, pending: [] | null }
const hostOut = new Outbox(host);
const dirty = []; // outboxes with something queued
let flushQueued = false;
let inWasm = false; // the actor's code runs: flush when it returns or blocks

// Envelope buffers that arrived from a port and whose bytes are now in
// wasm memory are kept (Outbox.spare, one per port) and reused for the
// next envelope to the same port that fits, instead of a fresh ArrayBuffer
// (whose allocation, and for a big one the first touch of its pages,
// costs more than the copy): a reply to a call usually has the call's
// size. Only towards the port the buffer came from, so no bytes of one
// actor's message ever reach another; an unused tail is zeroed.

// Cached views of wasm memory, renewed when it grows (the old buffer is
// then detached, so its views have length 0).
let heapU8 = new Uint8Array(0);
let heapU32 = new Uint32Array(0);
function views() {
  if (heapU8.length === 0) {
    const b = ex.memory.buffer;
    heapU8 = new Uint8Array(b);
    heapU32 = new Uint32Array(b);
  }
}
const mem = () => ex.memory.buffer;

function queued(out) {
  if (!out.dirtyMark) {
    out.dirtyMark = true;
    dirty.push(out);
  }
  if (!inWasm && !flushQueued) {
    flushQueued = true;
    queueMicrotask(flush);
  }
}

// Everything queued since the last flush leaves in one postMessage per
// port. While C runs, flush happens when it blocks (or returns): what it
// sent while draining its mailbox goes out as one batch.
function flush() {
  flushQueued = false;
  for (let i = 0; i < dirty.length; i++) {
    const out = dirty[i];
    out.dirtyMark = false;
    if (out.closed) continue;
    try {
      out.flush();
    } catch (e) {
      console.error(`ferry: actor ${self_id} (${label}) cannot post: ${e.message}`);
    }
  }
  dirty.length = 0;
}

/** The outbox for actor `to`, or null while its port is not there yet. */
function outFor(to) {
  if (to === HOST) return hostOut;
  const peer = peers.get(to);
  return peer && peer.out;
}

/** Routes an envelope that is an ArrayBuffer of its own. */
function route(to, buf, xfer) {
  if (to === self_id) {
    queueMicrotask(() => {
      if (stopped) return;
      take(new Uint8Array(buf), xfer, self_id);
      wake();
    });
    return;
  }
  const out = outFor(to);
  if (out) {
    out.addItem(buf, xfer);
    queued(out);
    return;
  }
  let peer = peers.get(to);
  if (!peer) {
    peers.set(to, (peer = { port: null, out: null, pending: [] }));
    host.postMessage({ ctl: 'connect', to });
  }
  peer.pending.push({ buf, xfer });
}

function connectPeer(id, port) {
  const peer = peers.get(id) || { port: null, out: null, pending: [] };
  peer.port = port;
  peer.out = new Outbox(port);
  peers.set(id, peer);
  onMessage(port, (data) => {
    if (stopped) return;
    fromPort = id;
    unpack(data, takeFromPort);
    wake();
  });
  for (const it of peer.pending || []) peer.out.addItem(it.buf, it.xfer);
  peer.pending = null;
  if (!peer.out.empty) queued(peer.out);
}

// A peer is gone: every call still waiting on it fails with EDOWN, in our
// own mailbox, so C sees an error reply; queued sends are reported too.
function peerGone(id, code, message) {
  downPeers.set(id, { code, message });
  const peer = peers.get(id);
  peers.delete(id);
  if (peer?.out) {
    peer.out.closed = true;
    peer.out.drop();
  }
  if (peer?.port) peer.port.close?.();
  if (stopped) return;
  for (const [corr, to] of outstanding) {
    if (to !== id) continue;
    outstanding.delete(corr);
    take(new Uint8Array(errorEnvelope('ferry.down', corr, code, message)), null, id);
  }
  for (const it of peer?.pending || []) {
    if (parseHead(new Uint8Array(it.buf)) && head.kind === KIND.SEND) {
      take(new Uint8Array(errorEnvelope('ferry.undelivered', 0, code, message)), null, id);
    }
  }
  wake();
}

// ---------------------------------------------------------- delivering

function bounce(u8, xfer, from, kind, corr, why) {
  // Tell the sender; for a call, its caller gets the error as the reply.
  // The message's blobs are dropped with it. An error is not answered
  // with an error (an actor sending to itself could loop).
  if (kind === KIND.ERROR) return;
  let type = 'ferry.full';
  if (parseHead(u8)) type = readType(u8) ?? type;
  route(from, errorEnvelope(type, kind === KIND.CALL ? corr : 0, 'EFULL', why), null);
}

let fromPort = HOST;
const takeFromPort = (u8, xfer) => take(u8, xfer, fromPort);

/** Puts one received envelope in the mailbox (or hands it to nobody). */
function take(u8, xfer, from) {
  let kind = -1;
  let corr = 0;
  if (parseHead(u8)) {
    kind = head.kind;
    corr = head.corr;
  }
  if ((kind === KIND.REPLY || kind === KIND.ERROR) && corr) {
    if (abandoned.delete(corr)) return; // its caller gave up
    outstanding.delete(corr);
  } else if (qtail - qhead >= limits.messages || qbytes + u8.length > limits.bytes) {
    bounce(u8, xfer, from, kind < 0 ? KIND.SEND : kind, corr,
      `mailbox of actor ${self_id} (${label}) is full ` +
      `(${qtail - qhead} messages, ${qbytes} bytes; limits ${limits.messages}, ${limits.bytes})`);
    return;
  }
  const m = { u8, xfer, from, kind, corr };
  if (qtail < queue.length) queue[qtail++] = m;
  else {
    queue.push(m);
    qtail++;
  }
  qbytes += u8.length;
}

/** After messages arrived: resumes the actor if one is what it waits for. */
function wake() {
  if (suspended && waiting) {
    const i = find(waitCorr);
    if (i >= 0) {
      waiting = false;
      current = removeAt(i);
      resume(current.u8.length);
    }
  }
}

// One timer serves every wait with a timeout: a wait records its deadline
// and (re)arms the timer only if it would fire too late; a message that
// ends the wait leaves it armed, and when it fires it finds nothing to do
// or re-arms for the wait now pending. So a stream of calls with a timeout
// costs no timer per call.
let waitTimer = null;
let waitTimerAt = Infinity;

function armWaitTimer(deadline) {
  if (waitTimer !== null && waitTimerAt <= deadline) return;
  if (waitTimer !== null) clearTimeout(waitTimer);
  waitTimerAt = deadline;
  waitTimer = setTimeout(onWaitTimer, Math.max(0, Math.ceil(deadline - performance.now())));
}

function onWaitTimer() {
  waitTimer = null;
  waitTimerAt = Infinity;
  if (!waiting || stopped || waitDeadline === Infinity) return;
  if (performance.now() + 1 < waitDeadline) {
    armWaitTimer(waitDeadline);
    return;
  }
  waiting = false;
  if (waitCorr) {
    abandoned.add(waitCorr);
    outstanding.delete(waitCorr);
  }
  resume(ERRNO.ETIMEDOUT);
}

function find(corr) {
  for (let i = qhead; i < qtail; i++) {
    const m = queue[i];
    if (corr === 0 || ((m.kind === KIND.REPLY || m.kind === KIND.ERROR) && m.corr === corr)) return i;
  }
  return -1;
}

function removeAt(i) {
  const m = queue[i];
  if (i === qhead) {
    queue[qhead++] = undefined;
    if (qhead === qtail) {
      qhead = qtail = 0; // empty again: start over at the front
      if (queue.length > 4096) queue = [];
    } else if (qhead > 1024 && qhead * 2 > qtail) {
      queue = queue.slice(qhead, qtail);
      qtail -= qhead;
      qhead = 0;
    }
  } else {
    queue.copyWithin(i, i + 1, qtail);
    queue[--qtail] = undefined;
  }
  qbytes -= m.u8.length;
  return m;
}

// ------------------------------------------------------------- running

function run() {
  let rc;
  inWasm = true;
  try {
    rc = ex.ferry__start();
  } catch (e) {
    inWasm = false;
    return die(e);
  }
  inWasm = false;
  if (ex.asyncify_get_state() === 1) {
    ex.asyncify_stop_unwind();
    suspended = true;
    flush();
    return;
  }
  flush();
  if (!started) {
    const names = readCString(ex.ferry__type_names());
    host.postMessage({
      ctl: 'failed', code: rc === ERRNO.ENOTFOUND ? 'ENOTFOUND' : 'EINVAL',
      message: rc === ERRNO.ENOTFOUND
        ? `no actor type "${label}" in this module (it has: ${names || 'none'})`
        : `actor "${label}" could not start (${rc})`,
    });
    return finish();
  }
  down({ code: 'EDOWN', name: 'Stopped', message: `actor ${self_id} (${label}) returned ${rc}`, exitCode: rc, normal: true });
}

function resume(value) {
  resumeValue = value;
  suspended = false;
  try {
    ex.asyncify_start_rewind(dataPtr);
  } catch (e) {
    return die(e);
  }
  run();
}

class ExitError extends Error {}

function die(e) {
  if (e instanceof ExitError) {
    return down({ code: 'EDOWN', name: 'Exit', message: `actor ${self_id} (${label}) called exit(${e.code}) or abort()`, exitCode: e.code });
  }
  const trap = e instanceof WebAssembly.RuntimeError;
  down({
    code: 'EDOWN',
    name: trap ? 'Trap' : e?.name || 'Error',
    message: `actor ${self_id} (${label}) ${trap ? 'trapped' : 'failed'}: ${e?.message ?? e}`,
    stack: e?.stack,
  });
}

function down(reason) {
  if (stopped) return;
  stopped = true;
  flush();
  host.postMessage({ ctl: 'down', reason });
  finish();
}

function finish() {
  stopped = true;
  if (waitTimer !== null) clearTimeout(waitTimer);
  waitTimer = null;
  for (const p of peers.values()) {
    if (p.out) p.out.closed = true;
    p.port?.close?.();
  }
  closeSelf(host);
}

// ------------------------------------------------------------- imports

function readCString(ptr) {
  const u8 = new Uint8Array(mem());
  let end = ptr;
  while (u8[end]) end++;
  return new TextDecoder().decode(u8.subarray(ptr, end));
}

const lines = { 1: '', 2: '' };
function output(fd, text) {
  lines[fd] += text;
  let nl;
  while ((nl = lines[fd].indexOf('\n')) >= 0) {
    const line = lines[fd].slice(0, nl);
    lines[fd] = lines[fd].slice(nl + 1);
    (fd === 2 ? console.error : console.log)(`[${label}#${self_id}] ${line}`);
  }
}

const env = {
  ferry_wait(timeout, corr) {
    if (ex.asyncify_get_state() === 2) {
      ex.asyncify_stop_rewind();
      return resumeValue;
    }
    const i = find(corr);
    if (i >= 0) {
      current = removeAt(i);
      return current.u8.length;
    }
    if (timeout === 0) {
      if (corr) {
        abandoned.add(corr);
        outstanding.delete(corr);
      }
      return ERRNO.ETIMEDOUT;
    }
    // The actor blocks: what it sent leaves now, before the unwind (which
    // is then off the critical path of the replies).
    flush();
    waiting = true;
    waitCorr = corr;
    waitDeadline = timeout > 0 ? performance.now() + timeout : Infinity;
    if (timeout > 0) armWaitTimer(waitDeadline);
    views();
    heapU32[dataPtr >>> 2] = dataPtr + 8;
    heapU32[(dataPtr >>> 2) + 1] = dataPtr + 8 + asyncStack;
    ex.asyncify_start_unwind(dataPtr);
    return 0;
  },
  ferry_take(dst, meta) {
    const m = current;
    current = null;
    views();
    const u8 = m.u8;
    const len = u8.length;
    if (dst) {
      if (len < 64) for (let i = 0; i < len; i++) heapU8[dst + i] = u8[i];
      else heapU8.set(u8, dst);
      if (u8.byteOffset === 0 && u8.buffer.byteLength === len) {
        const out = outFor(m.from);
        if (out) out.spare = u8.buffer;
      }
    }
    stats.bytesIn += len;
    stats.messagesIn++;
    const n = m.xfer ? m.xfer.length : 0;
    const base = nextBlob;
    for (let i = 0; i < n; i++) blobs.set(nextBlob++, m.xfer[i]);
    const mi = meta >>> 2;
    heapU32[mi] = m.from;
    heapU32[mi + 1] = n ? base : 0;
    heapU32[mi + 2] = n;
  },
  ferry_post(to, kind, corr, segs, nsegs, blobList, nblobs) {
    if (downPeers.has(to)) return ERRNO.EDOWN;
    views();
    const s0 = segs >>> 2;
    let total = 0;
    for (let i = 0; i < nsegs; i++) total += heapU32[s0 + 2 * i + 1];
    let xfer = null;
    if (nblobs) {
      const b0 = blobList >>> 2;
      for (let i = 0; i < nblobs; i++) if (!blobs.has(heapU32[b0 + i])) return ERRNO.EINVAL;
      xfer = [];
      for (let i = 0; i < nblobs; i++) {
        const h = heapU32[b0 + i];
        xfer.push(blobs.get(h));
        blobs.delete(h); // the blob moves with the message
      }
    }
    stats.bytesOut += total;
    stats.messagesOut++;
    if (kind === KIND.CALL) outstanding.set(corr, to);
    // One copy per byte: each segment straight into the outgoing buffer.
    // Small envelopes go into the port's packed batch (protocol.mjs).
    const out = !xfer && total <= PACK_MAX && to !== self_id ? outFor(to) : null;
    if (out) {
      let o = out.reserve(total);
      const dst = out.pack;
      for (let i = 0; i < nsegs; i++) {
        const p = heapU32[s0 + 2 * i];
        const n = heapU32[s0 + 2 * i + 1];
        if (n < 32) for (let j = 0; j < n; j++) dst[o + j] = heapU8[p + j];
        else dst.set(heapU8.subarray(p, p + n), o);
        o += n;
      }
      if (out.count >= MAX_BATCH) out.flush();
      queued(out);
      return 0;
    }
    // A spare buffer from the same port: of exactly this size, or (for a
    // big envelope without blobs, sent as {e, n}) up to twice it.
    const ob = to === self_id ? null : outFor(to);
    const reuse = ob ? ob.spare : null;
    if (reuse && (reuse.byteLength === total || (!xfer && reuse.byteLength > total && reuse.byteLength <= 2 * total))) {
      ob.spare = null;
      const dst = new Uint8Array(reuse);
      for (let i = 0, o = 0; i < nsegs; i++) {
        const p = heapU32[s0 + 2 * i];
        const n = heapU32[s0 + 2 * i + 1];
        if (n < 32) for (let j = 0; j < n; j++) dst[o + j] = heapU8[p + j];
        else dst.set(heapU8.subarray(p, p + n), o);
        o += n;
      }
      if (reuse.byteLength > total) {
        dst.fill(0, total);
        ob.addPartial(reuse, total);
      } else ob.addItem(reuse, xfer);
      queued(ob);
      return 0;
    }
    let buf;
    if (nsegs === 1) {
      const p = heapU32[s0];
      buf = heapU8.buffer.slice(p, p + total);
    } else {
      buf = new ArrayBuffer(total);
      const dst = new Uint8Array(buf);
      for (let i = 0, o = 0; i < nsegs; i++) {
        const p = heapU32[s0 + 2 * i];
        const n = heapU32[s0 + 2 * i + 1];
        dst.set(heapU8.subarray(p, p + n), o);
        o += n;
      }
    }
    route(to, buf, xfer);
    return 0;
  },
  ferry_self_id() {
    return self_id;
  },
  ferry_started() {
    started = true;
    host.postMessage({ ctl: 'started' });
  },
  ferry_blob_size_(h) {
    const b = blobs.get(h);
    return b ? b.byteLength : ERRNO.EINVAL;
  },
  ferry_blob_read_(h, off, dst, len) {
    const b = blobs.get(h);
    if (!b || off + len > b.byteLength) return ERRNO.EINVAL;
    new Uint8Array(mem(), dst, len).set(new Uint8Array(b, off, len));
    stats.bytesIn += len;
    return 0;
  },
  ferry_blob_from_(src, len) {
    let b;
    try {
      b = mem().slice(src, src + len);
    } catch {
      return 0;
    }
    stats.bytesOut += len;
    blobs.set(nextBlob, b);
    return nextBlob++;
  },
  ferry_blob_dup_(h) {
    const b = blobs.get(h);
    if (!b) return 0;
    blobs.set(nextBlob, b.slice(0));
    return nextBlob++;
  },
  ferry_blob_free_(h) {
    blobs.delete(h);
  },
  emscripten_notify_memory_growth() {},
};

const wasi = {
  proc_exit(code) {
    const e = new ExitError(`exit(${code})`);
    e.code = code;
    throw e;
  },
  fd_write(fd, iovs, iovcnt, nwritten) {
    const dv = new DataView(mem());
    let n = 0;
    let text = '';
    const dec = new TextDecoder();
    for (let i = 0; i < iovcnt; i++) {
      const p = dv.getUint32(iovs + 8 * i, true);
      const l = dv.getUint32(iovs + 8 * i + 4, true);
      text += dec.decode(new Uint8Array(mem(), p, l));
      n += l;
    }
    output(fd === 2 ? 2 : 1, text);
    dv.setUint32(nwritten, n, true);
    return 0;
  },
  clock_time_get(id, precision, out) {
    const ns = BigInt(Math.round((id === 0 ? Date.now() : performance.now()) * 1e6));
    new DataView(mem()).setBigUint64(out, ns, true);
    return 0;
  },
  random_get(ptr, len) {
    crypto.getRandomValues(new Uint8Array(mem(), ptr, len));
    return 0;
  },
  environ_sizes_get(count, size) {
    const dv = new DataView(mem());
    dv.setUint32(count, 0, true);
    dv.setUint32(size, 0, true);
    return 0;
  },
  environ_get() {
    return 0;
  },
  args_sizes_get(count, size) {
    return wasi.environ_sizes_get(count, size);
  },
  args_get() {
    return 0;
  },
};
// Anything else a C library might import answers "not supported" (ENOSYS).
const wasiProxy = new Proxy(wasi, { get: (t, k) => t[k] ?? (() => 52) });
const envProxy = new Proxy(env, {
  get: (t, k) => t[k] ?? (() => {
    throw new Error(`the C code called env.${String(k)}, which ferry does not provide`);
  }),
});

// ---------------------------------------------------------------- host

onMessage(host, (data) => {
  if (data && data.ctl) return control(data);
  if (stopped) return;
  fromPort = HOST;
  unpack(data, takeFromPort);
  wake();
});

function control(msg) {
  switch (msg.ctl) {
    case 'init': {
      self_id = msg.id;
      label = msg.name;
      if (msg.limits) limits = { ...limits, ...msg.limits };
      if (msg.asyncStack) asyncStack = msg.asyncStack;
      try {
        const instance = new WebAssembly.Instance(msg.module, {
          env: envProxy,
          wasi_snapshot_preview1: wasiProxy,
        });
        ex = instance.exports;
        for (const name of ['ferry__start', 'malloc', 'asyncify_start_unwind', 'memory']) {
          if (!ex[name]) throw new Error(`the wasm module has no export "${name}": build it with ferry-build`);
        }
        ex._initialize?.();
        dataPtr = ex.malloc(asyncStack + 8);
        if (!dataPtr) throw new Error('out of memory for the Asyncify stack');
      } catch (e) {
        host.postMessage({ ctl: 'failed', code: 'EINVAL', message: `cannot instantiate the module: ${e.message}` });
        return finish();
      }
      take(new Uint8Array(msg.init), msg.initXfer || null, HOST);
      run();
      break;
    }
    case 'peer':
      connectPeer(msg.id, msg.port);
      break;
    case 'stats':
      host.postMessage({ ctl: 'stats', seq: msg.seq, stats: { ...stats, blobs: blobs.size, mailbox: qtail - qhead, memory: ex ? mem().byteLength : 0 } });
      break;
    case 'peer-fail':
    case 'down':
      peerGone(msg.id, msg.code || 'EDOWN', msg.message);
      break;
    default:
      break;
  }
}

