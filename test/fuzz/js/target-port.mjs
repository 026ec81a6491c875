// target-port.mjs - fuzz target "js_port": what arrives on an actor's ports.
//
// A real actor worker (port-worker.mjs: glue/worker/worker.mjs and the C
// echo actor of build/wasm/test-actors.wasm) is started by hand, the way
// the System starts one. Two JS threads are connected to it as
// ref.connect() does: a rogue one and a probe. Each input is turned into
// one to four port messages, posted with real postMessage (so only what
// structured clone lets through arrives):
//
//   - on the rogue port: anything - envelopes (garbage, near-valid,
//     mutated), [buf, ...xfer], {p}, {e, n}, {l, loans}, {b: [...]}
//     batches (nested, too), control messages with wrong fields, and
//     wrong transferables: numbers, strings, null, typed arrays, ports,
//     SharedArrayBuffers where ArrayBuffers belong, too many or too few;
//   - on the host's port: the same data forms, and control messages of
//     the right shape with hostile values (unknown ids, random loan ids,
//     buffers of the wrong size). Not a second `init` or a `peer` without
//     a port: the host writes those and never gets them wrong.
//
// Properties, after every input: the worker is alive and has not said
// `down`; a call from the probe is answered with its own value within
// 5 s (nothing hangs, later valid traffic is intact); every envelope the
// actor posts back, to the rogue or the host, has a head and is one valid
// CBOR item (judged by the C codec's wasm build).
import path from 'node:path';
import fs from 'node:fs';
import { Worker, MessageChannel } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { CTL, KIND, isControl } from '../../../glue/wire/protocol.mjs';
import { unpack } from '../../../glue/wire/framing.mjs';
import { envelopeBuffer, decodeEnvelope } from '../../../glue/host/envelope.mjs';
import { EnvelopeHead } from '../../../glue/wire/head.mjs';
import { moduleMemory, capPages, DEFAULT_MAX_MEMORY } from '../../../glue/host/memory.mjs';
import { loadCodec } from '../../../glue/codec-wasm.mjs';
import { Finding } from './engine.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const wasmFile = path.join(process.env.FERRY_BUILD_DIR || path.join(root, 'build'), 'wasm', 'test-actors.wasm');

const ACTOR = 1;
const ROGUE = 100;
const PROBE = 101;
const PROBE_MS = 5000;

/** Reads the input front to back; zeros once it is used up. */
class Src {
  constructor(u8) {
    this.u8 = u8;
    this.p = 0;
  }

  get more() {
    return this.p < this.u8.length;
  }

  byte() {
    return this.p < this.u8.length ? this.u8[this.p++] : 0;
  }

  bytes(n) {
    const e = Math.min(this.u8.length, this.p + n);
    const b = this.u8.slice(this.p, e);
    this.p = e;
    return b;
  }

  pick(list) {
    return list[this.byte() % list.length];
  }
}

const NUMBERS = [0, 1, 2, 3, -1, 7, 255, 65536, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 53, -(2 ** 31), NaN, Infinity,
  -Infinity, 1.5, 1e9, 3e9, '3', '', null, undefined, true, PROBE, ROGUE, ACTOR, 0];
const TYPES = ['x', 'probe', '', 'ferry.down', 'ferry.loan.home', 'é', 'a'.repeat(40)];

function ab(u8) {
  const b = new ArrayBuffer(u8.length);
  new Uint8Array(b).set(u8);
  return b;
}

function cborHead(m, v) {
  if (v < 24) return [(m << 5) | v];
  if (v < 256) return [(m << 5) | 24, v];
  return [(m << 5) | 25, (v >> 8) & 255, v & 255];
}

/** An envelope's bytes: garbage, or a valid head with a body from the input. */
function envelope(src) {
  const len = src.byte();
  const how = src.byte() % 4;
  if (how === 0) return ab(src.bytes(len)); // as is
  const type = new TextEncoder().encode(src.pick(TYPES));
  const kind = src.byte() % 5; // 4: not a kind
  const corr = src.pick([0, 1, 2, 1000, 2 ** 31, 65535]);
  const head = [0x84, kind, ...cborHead(3, type.length), ...type, ...(corr < 65536 ? cborHead(0, corr) : [0x1a, 0x80, 0, 0, 0])];
  const body = how === 1 ? [0xf6] : Array.from(src.bytes(len));
  return ab(Uint8Array.from([...head, ...body]));
}

/** Something standing where a transferable belongs. */
function transferable(src, ports) {
  switch (src.byte() % 12) {
    case 0:
    case 1:
    case 2:
      return new ArrayBuffer(src.byte());
    case 3:
      return new Uint8Array(src.byte());
    case 4: {
      const { port1, port2 } = new MessageChannel();
      ports.push(port2);
      return port1;
    }
    case 5:
      return new SharedArrayBuffer(src.byte() % 16);
    case 6:
      return null;
    case 7:
      return {};
    case 8:
      return src.pick(NUMBERS);
    case 9:
      return 'buffer';
    case 10:
      return [new ArrayBuffer(4)];
    default:
      return envelope(src);
  }
}

/** One port message built from the input. */
function message(src, depth, ports, host) {
  const n = src.byte() % (host ? 7 : 10);
  switch (n) {
    case 0:
    case 1:
      return envelope(src);
    case 2: {
      const list = [envelope(src)];
      const k = src.byte() % 5;
      for (let i = 0; i < k; i++) list.push(host ? new ArrayBuffer(src.byte()) : transferable(src, ports));
      return list;
    }
    case 3: { // a packed run, its lengths from the input or right
      const parts = [];
      const k = 1 + (src.byte() % 4);
      for (let i = 0; i < k; i++) {
        const e = new Uint8Array(envelope(src));
        const wrong = src.byte();
        const len = wrong < 200 ? e.length : wrong === 255 ? 0xffffffff : wrong;
        parts.push(len & 255, (len >> 8) & 255, (len >> 16) & 255, len >>> 24, ...e);
      }
      return { p: ab(Uint8Array.from(parts)) };
    }
    case 4:
      return { e: envelope(src), n: src.pick(NUMBERS) };
    case 5: {
      const l = [envelope(src)];
      const k = src.byte() % 4;
      for (let i = 0; i < k; i++) l.push(host ? new ArrayBuffer(src.byte()) : transferable(src, ports));
      const loans = [];
      const m = src.byte() % 7;
      for (let i = 0; i < m; i++) loans.push(src.pick(NUMBERS));
      return { l, loans: src.byte() % 8 === 0 ? src.pick(NUMBERS) : loans };
    }
    case 6: {
      if (depth > 3) return envelope(src);
      const b = [];
      const k = src.byte() % 5;
      for (let i = 0; i < k; i++) b.push(message(src, depth + 1, ports, host));
      return { b };
    }
    case 7: { // a control message with fields of any type
      return {
        ctl: src.pick([...Object.values(CTL), 'bogus', 'loan-return', 'loan-return']),
        loan: src.pick(NUMBERS), buf: transferable(src, ports), id: src.pick(NUMBERS),
        port: transferable(src, ports), seq: src.pick(NUMBERS),
      };
    }
    case 8: { // batches nested deeper than any glue writes
      let m = envelope(src);
      const deep = 1 + src.byte() * 40;
      for (let i = 0; i < deep; i++) m = { b: [m] };
      return m;
    }
    default:
      return src.pick([null, 0, 42, 'text', true, {}, [], { p: 1 }, { e: 'x', n: 1 }, { b: null }, { b: [null, 1, 'x'] },
        { l: null }, { l: [], loans: [] }, { l: ['x'], loans: [0, 1, 0] }, { ctl: 1 }, [1e9], [2 ** 31], [-1], [null],
        [new ArrayBuffer(1), null], { p: new Uint8Array(8) }, new Uint8Array(16), new Map([[1, 2]]), new Date(0)]);
  }
}

/** A control message for the host's port: right shape, hostile values. */
function hostControl(src, ports) {
  const id = src.pick([2, 3, ROGUE, 999, 2 ** 31, -1]);
  switch (src.byte() % 5) {
    case 0:
      return { ctl: CTL.LOAN_RETURN, loan: src.pick(NUMBERS), buf: new ArrayBuffer(src.byte()) };
    case 1:
      return { ctl: CTL.STATS, seq: src.pick(NUMBERS) };
    case 2:
      return { ctl: src.pick([CTL.PEER_FAIL, CTL.PEER_DOWN]), id, code: src.pick(['EDOWN', 'ENOTFOUND', 'EBOGUS']), message: 'gone', reason: { name: 'x', normal: !!(src.byte() & 1) } };
    case 3: {
      const { port1, port2 } = new MessageChannel();
      ports.push(port2);
      return { ctl: CTL.PEER, id: src.pick([2, 3, 999]), port: port1, thread: !!(src.byte() & 1) };
    }
    default:
      return { ctl: src.pick(['bogus', CTL.MONITOR, CTL.READY, CTL.STARTED, CTL.CONNECT]), id };
  }
}

// Every ArrayBuffer and MessagePort in a value, once each: its transfer list.
function transferList(v, out = new Set(), depth = 0) {
  if (v instanceof ArrayBuffer) out.add(v);
  else if (v && typeof v === 'object' && v.constructor?.name === 'MessagePort') out.add(v);
  else if (Array.isArray(v) && depth < 10000) for (const x of v) transferList(x, out, depth + 1);
  else if (v && typeof v === 'object' && !ArrayBuffer.isView(v) && depth < 10000) {
    for (const k of Object.keys(v)) transferList(v[k], out, depth + 1);
  }
  return [...out];
}

// The C codec (wasm build): the judge of what is valid CBOR. cbor-x is
// not: it refuses some valid CBOR (tags 29, 51, 105, 258 of the wrong
// shape), which the host then reports (EMALFORMED for a reply).
let codec = null;
const outHead = new EnvelopeHead();

// Checks that what the actor posts is well formed: a port message of a
// form the glue posts, each envelope one valid CBOR item with a head.
function checkOutgoing(data, where) {
  if (isControl(data)) return;
  unpack(data, (u8) => {
    if (!outHead.parse(u8)) throw new Finding('malformed reply', `the actor posted an envelope without a head to ${where}`);
    try {
      codec.check(u8);
    } catch (e) {
      throw new Finding('malformed reply', `the actor posted invalid CBOR to ${where}: ${e.message}`);
    }
  }, (why) => {
    throw new Finding('malformed port message', `the actor posted to ${where}: ${why}`);
  });
}

export const target = {
  name: 'js_port',
  filter: (url) => url.includes('/glue/') && !url.includes('node_modules'),
  worker: null,
  module: null,
  failure: null, // a Finding noticed between inputs (the worker died, said down)
  probeWaiters: new Map(),
  corr: 1,
  stats: { posted: 0, refused: 0, malformed: 0, rogueReplies: 0 },

  async setup() {
    if (!fs.existsSync(wasmFile)) throw new Error(`${wasmFile} is missing: run ./configure`);
    this.module = await WebAssembly.compile(fs.readFileSync(wasmFile));
    const wasmDir = path.dirname(wasmFile);
    const { default: factory } = await import(path.join(wasmDir, 'ferry-codec.mjs'));
    codec = await loadCodec({ factory, module: await WebAssembly.compile(fs.readFileSync(path.join(wasmDir, 'ferry-codec.wasm'))) });
    await this.start();
  },

  async start() {
    const cov = new MessageChannel();
    this.covPort = cov.port1;
    this.covWaiter = null;
    this.covPort.on('message', (r) => {
      const w = this.covWaiter;
      this.covWaiter = null;
      w?.(r);
    });
    const worker = new Worker(path.join(here, 'port-worker.mjs'), { workerData: { cov: cov.port2 }, transferList: [cov.port2] });
    this.worker = worker;
    this.failure = null;
    let ready;
    const readyP = new Promise((r, j) => (ready = { r, j }));
    worker.on('message', (data) => {
      if (isControl(data)) {
        if (data.ctl === CTL.READY) ready.r();
        else if (data.ctl === CTL.FAILED) ready.j(new Error(data.message));
        else if (data.ctl === CTL.DOWN) this.failure ??= new Finding('actor down', `the actor went down: ${data.reason?.name}: ${data.reason?.message}`);
        return;
      }
      try {
        checkOutgoing(data, 'the host');
      } catch (e) {
        this.failure ??= e;
      }
    });
    worker.on('error', (e) => {
      this.failure ??= new Finding('worker error', `the actor's worker failed: ${e?.stack ?? e}`);
      this.wakeProbes();
    });
    worker.on('exit', (code) => {
      this.failure ??= new Finding('worker exit', `the actor's worker exited (${code})`);
      this.wakeProbes();
    });
    const init = envelopeBuffer(KIND.SEND, 'echo', 0, null);
    // The init a System sends: the module imports its memory, capped.
    const mem = moduleMemory(this.module);
    const memory = mem && { initial: mem.initial, maximum: capPages(DEFAULT_MAX_MEMORY, mem, 'fuzz') };
    worker.postMessage({ memory,
      ctl: CTL.INIT, module: this.module, id: ACTOR, name: 'echo', init: init.buf, initXfer: null,
      limits: { messages: 10000, bytes: 256 << 20 }, asyncStack: 256 << 10, reusePartial: true,
    }, [init.buf]);
    await readyP;
    // Two JS threads connected as ref.connect() connects one.
    const rogue = new MessageChannel();
    const probe = new MessageChannel();
    worker.postMessage({ ctl: CTL.PEER, id: ROGUE, port: rogue.port1, thread: true }, [rogue.port1]);
    worker.postMessage({ ctl: CTL.PEER, id: PROBE, port: probe.port1, thread: true }, [probe.port1]);
    this.rogue = rogue.port2;
    this.probe = probe.port2;
    this.rogue.on('message', (data) => {
      this.stats.rogueReplies++;
      try {
        checkOutgoing(data, 'the rogue thread');
      } catch (e) {
        this.failure ??= e;
      }
    });
    this.probe.on('message', (data) => {
      if (isControl(data)) return;
      unpack(data, (u8) => {
        let env;
        try {
          env = decodeEnvelope(u8, null);
        } catch (e) {
          this.failure ??= new Finding('malformed reply', `probe got a malformed envelope: ${e.message}`);
          return;
        }
        const w = this.probeWaiters.get(env.corr);
        if (w) {
          this.probeWaiters.delete(env.corr);
          w(env);
        }
      });
    });
  },

  wakeProbes() {
    for (const w of this.probeWaiters.values()) w(null);
    this.probeWaiters.clear();
  },

  async stop() {
    const w = this.worker;
    this.worker = null;
    this.rogue?.close();
    this.probe?.close();
    this.covPort?.close();
    if (w) await w.terminate();
  },

  async recover() {
    await this.stop();
    await this.start();
  },

  async teardown() {
    await this.stop();
  },

  coverage() {
    if (!this.worker || this.failure) return Promise.resolve(null);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.covWaiter = null;
        resolve(null);
      }, 5000);
      this.covWaiter = (r) => {
        clearTimeout(t);
        resolve(r);
      };
      this.covPort.postMessage(0);
    });
  },

  // A call from the probe thread; resolves with its reply (or null).
  probeCall() {
    const corr = this.corr++;
    const value = { n: corr, s: 'probe' };
    const { buf } = envelopeBuffer(KIND.CALL, 'probe', corr, value);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.probeWaiters.delete(corr);
        resolve(undefined);
      }, PROBE_MS);
      this.probeWaiters.set(corr, (env) => {
        clearTimeout(t);
        resolve(env === null ? null : { env, value });
      });
      this.probe.postMessage(buf, [buf]);
    });
  },

  seeds() {
    const out = [];
    // A few hand-made inputs that reach each form.
    for (let form = 0; form < 10; form++) out.push(Uint8Array.from([form, 1, 3, 1, 0, 8, 0x84, 1, 0x61, 0x78, 1, 0xf6, 2, 5]));
    out.push(Uint8Array.from([0x80, 0, 3]));
    out.push(Uint8Array.from([0x80, 7, 0x81, 2]));
    return out;
  },

  async run(u8) {
    if (this.failure) throw this.failure;
    const src = new Src(u8);
    const count = 1 + (src.byte() & 3);
    for (let i = 0; i < count && (i === 0 || src.more); i++) {
      const ports = [];
      const sel = src.byte();
      const toHost = (sel & 0x80) !== 0;
      const msg = toHost && (sel & 0x40) ? hostControl(src, ports) : message(src, 0, ports, toHost);
      try {
        (toHost ? this.worker : this.rogue).postMessage(msg, transferList(msg));
        this.stats.posted++;
      } catch {
        this.stats.refused++; // the sender's postMessage refused it: never arrives
      }
      for (const p of ports) p.close();
    }
    const r = await this.probeCall();
    if (this.failure) throw this.failure;
    if (r === undefined) throw new Finding('hang', `the actor did not answer a call within ${PROBE_MS} ms`);
    if (r === null) throw this.failure ?? new Finding('worker gone', 'the worker went away during the call');
    if (r.env.kind !== KIND.REPLY || r.env.body?.n !== r.value.n || r.env.body?.s !== 'probe') {
      throw new Finding('wrong reply', `probe call got kind ${r.env.kind} ${JSON.stringify(r.env.body)}`);
    }
  },
};
