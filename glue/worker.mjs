// worker.mjs - one actor per worker: instantiates the System's compiled
// wasm module with its own memory, keeps the actor's mailbox, ports and
// blobs, and suspends/resumes the C code with Asyncify.
//
// C blocks only in the import env.ferry_wait. If a matching message is
// already queued it returns at once (no unwind); otherwise it starts an
// unwind, the export returns to this event loop, and the actor is resumed
// (rewound) when a message arrives or its timeout fires.
import { decode } from './cbor.mjs';
import { KIND, HOST, ERRNO, errorEnvelope, peekHeader, unpackItems, postItems } from './protocol.mjs';
import { onMessage, hostPort, closeSelf } from './platform.mjs';

const host = await hostPort();

let ex = null; // wasm exports
let self_id = 0;
let label = '?';
let limits = { messages: 10000, bytes: 256 << 20 };
let dataPtr = 0;
let asyncStack = 256 << 10;

// ------------------------------------------------------------- mailbox
// A queue with a moving head; selective receive removes from the middle.
let queue = [];
let qhead = 0;
let qbytes = 0;
let current = null; // the message handed to C by ferry_wait, taken by ferry_take
let waiting = null; // { corr, timer } while the actor is suspended
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
const peers = new Map(); // id -> { port, pending: [] | null }
const batches = new Map(); // port -> [items]
let flushQueued = false;

const mem = () => ex.memory.buffer;

function post(port, item) {
  let list = batches.get(port);
  if (!list) batches.set(port, (list = []));
  list.push(item);
  if (!flushQueued) {
    flushQueued = true;
    queueMicrotask(flush);
  }
}

// Everything posted during one turn leaves in one postMessage per port.
function flush() {
  flushQueued = false;
  for (const [port, items] of batches) postItems(port, items);
  batches.clear();
}

function route(to, item) {
  if (to === HOST) return post(host, item);
  if (to === self_id) {
    queueMicrotask(() => deliver([{ ...item, from: self_id }]));
    return;
  }
  let peer = peers.get(to);
  if (!peer) {
    peers.set(to, (peer = { port: null, pending: [] }));
    host.postMessage({ ctl: 'connect', to });
  }
  if (peer.port) post(peer.port, item);
  else peer.pending.push(item);
}

function connectPeer(id, port) {
  const peer = peers.get(id) || { port: null, pending: [] };
  peer.port = port;
  peers.set(id, peer);
  onMessage(port, (data) => deliver(unpackItems(data, []), id));
  for (const it of peer.pending || []) post(port, it);
  peer.pending = null;
}

// A peer is gone: every call still waiting on it fails with EDOWN, in our
// own mailbox, so C sees an error reply; queued sends are reported too.
function peerGone(id, code, message) {
  downPeers.set(id, { code, message });
  const peer = peers.get(id);
  peers.delete(id);
  if (peer?.port) peer.port.close?.();
  const errors = [];
  for (const [corr, to] of outstanding) {
    if (to !== id) continue;
    outstanding.delete(corr);
    errors.push({ buf: errorEnvelope('ferry.down', corr, code, message), xfer: null, from: id });
  }
  for (const it of peer?.pending || []) {
    const h = peekHeader(new Uint8Array(it.buf));
    if (h && h.kind === KIND.SEND) {
      errors.push({ buf: errorEnvelope('ferry.undelivered', 0, code, message), xfer: null, from: id });
    }
  }
  if (errors.length) deliver(errors);
}

// ---------------------------------------------------------- delivering

function bounce(item, h, why) {
  // Tell the sender; for a call, its caller gets the error as the reply.
  const u8 = new Uint8Array(item.buf);
  let type = 'ferry.full';
  try {
    type = decode(u8)[1];
  } catch {}
  const env = errorEnvelope(type, h.kind === KIND.CALL ? h.corr : 0, 'EFULL', why);
  route(item.from, { buf: env, xfer: null });
  for (const b of item.xfer || []) void b; // dropped with the message
}

function deliver(items, from = HOST) {
  if (stopped) return;
  for (const it of items) {
    if (it.from === undefined) it.from = from;
    it.u8 = new Uint8Array(it.buf);
    const h = peekHeader(it.u8);
    it.kind = h ? h.kind : -1;
    it.corr = h ? h.corr : 0;
    if (h && (h.kind === KIND.REPLY || h.kind === KIND.ERROR) && h.corr) {
      if (abandoned.delete(h.corr)) continue; // its caller gave up
      outstanding.delete(h.corr);
    } else if (queue.length - qhead >= limits.messages || qbytes + it.u8.length > limits.bytes) {
      bounce(it, h || { kind: KIND.SEND, corr: 0 },
        `mailbox of actor ${self_id} (${label}) is full ` +
        `(${queue.length - qhead} messages, ${qbytes} bytes; limits ${limits.messages}, ${limits.bytes})`);
      continue;
    }
    queue.push(it);
    qbytes += it.u8.length;
  }
  if (suspended && waiting) {
    const i = find(waiting.corr);
    if (i >= 0) {
      const w = waiting;
      waiting = null;
      if (w.timer) clearTimeout(w.timer);
      current = removeAt(i);
      resume(current.u8.length);
    }
  }
}

function find(corr) {
  for (let i = qhead; i < queue.length; i++) {
    const m = queue[i];
    if (corr === 0 || ((m.kind === KIND.REPLY || m.kind === KIND.ERROR) && m.corr === corr)) return i;
  }
  return -1;
}

function removeAt(i) {
  const m = queue[i];
  if (i === qhead) {
    queue[qhead++] = undefined;
    if (qhead > 1024 && qhead * 2 > queue.length) {
      queue = queue.slice(qhead);
      qhead = 0;
    }
  } else queue.splice(i, 1);
  qbytes -= m.u8.length;
  return m;
}

// ------------------------------------------------------------- running

function run() {
  let rc;
  try {
    rc = ex.ferry__start();
  } catch (e) {
    return die(e);
  }
  if (ex.asyncify_get_state() === 1) {
    ex.asyncify_stop_unwind();
    suspended = true;
    return;
  }
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
  for (const p of peers.values()) p.port?.close?.();
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
    waiting = { corr, timer: null };
    if (timeout > 0) {
      waiting.timer = setTimeout(() => {
        const w = waiting;
        if (!w) return;
        waiting = null;
        if (w.corr) {
          abandoned.add(w.corr);
          outstanding.delete(w.corr);
        }
        resume(ERRNO.ETIMEDOUT);
      }, timeout);
    }
    const hdr = new Int32Array(mem(), dataPtr, 2);
    hdr[0] = dataPtr + 8;
    hdr[1] = dataPtr + 8 + asyncStack;
    ex.asyncify_start_unwind(dataPtr);
    return 0;
  },
  ferry_take(dst, meta) {
    const m = current;
    current = null;
    if (dst) new Uint8Array(mem(), dst, m.u8.length).set(m.u8);
    stats.bytesIn += m.u8.length;
    stats.messagesIn++;
    const n = m.xfer ? m.xfer.length : 0;
    const base = nextBlob;
    for (let i = 0; i < n; i++) blobs.set(nextBlob++, m.xfer[i]);
    const mv = new Uint32Array(mem(), meta, 3);
    mv[0] = m.from;
    mv[1] = n ? base : 0;
    mv[2] = n;
  },
  ferry_post(to, kind, corr, segs, nsegs, blobList, nblobs) {
    if (downPeers.has(to)) return ERRNO.EDOWN;
    const sv = new Uint32Array(mem(), segs, nsegs * 2);
    let total = 0;
    for (let i = 0; i < nsegs; i++) total += sv[2 * i + 1];
    let xfer = null;
    if (nblobs) {
      const hs = new Uint32Array(mem(), blobList, nblobs);
      for (const h of hs) if (!blobs.has(h)) return ERRNO.EINVAL;
      xfer = [];
      for (const h of hs) {
        xfer.push(blobs.get(h));
        blobs.delete(h); // the blob moves with the message
      }
    }
    // One copy per byte: each segment straight into the outgoing buffer.
    const buf = new ArrayBuffer(total);
    const out = new Uint8Array(buf);
    const heap = new Uint8Array(mem());
    for (let i = 0, o = 0; i < nsegs; i++) {
      const p = sv[2 * i];
      const n = sv[2 * i + 1];
      out.set(heap.subarray(p, p + n), o);
      o += n;
    }
    stats.bytesOut += total;
    stats.messagesOut++;
    if (kind === KIND.CALL) outstanding.set(corr, to);
    route(to, { buf, xfer });
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
  deliver(unpackItems(data, []), HOST);
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
      deliver([{ buf: msg.init, xfer: msg.initXfer || null, from: HOST }]);
      run();
      break;
    }
    case 'peer':
      connectPeer(msg.id, msg.port);
      break;
    case 'stats':
      host.postMessage({ ctl: 'stats', seq: msg.seq, stats: { ...stats, blobs: blobs.size, mailbox: queue.length - qhead, memory: ex ? mem().byteLength : 0 } });
      break;
    case 'peer-fail':
    case 'down':
      peerGone(msg.id, msg.code || 'EDOWN', msg.message);
      break;
    default:
      break;
  }
}

