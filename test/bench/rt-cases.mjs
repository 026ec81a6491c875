// rt-cases.mjs - the runtime rows of `npm run bench` (rt16.*, rt20m.*,
// stream16.*, spawn8_vs_js), measured the same way in Node and in a
// browser: this module imports only the glue and runs wherever the glue
// runs. test/bench/runtime.mjs drives it in Node (in process) and in
// headless Chromium (test/bench/bench.html, through playwright-core).
//
// Every ferry measurement has a baseline of plain JavaScript workers
// (test/bench/js-echo-worker.mjs) timed in the same run. Batches of the
// ferry case and of its baseline alternate (F B F B ...) after warm-up
// batches, so that load from elsewhere hits both alike; a value is the
// median over batches of the time per round trip (or per message, per
// spawn). Quartiles of the batches go into the row's detail.
import { System, transfer, recycle } from '../../glue/index.mjs';
import { onMessage } from '../../glue/platform.mjs';
import { emptyPool } from '../../glue/host/pool.mjs';

const WorkerCtor = globalThis.Worker ?? (await import('node:worker_threads')).Worker;
const JS_WORKER = new URL('./js-echo-worker.mjs', import.meta.url);
const MODULE = new URL('../../build/wasm/test-actors.wasm', import.meta.url);

/** The rows this module measures, without the environment suffix. Ratios
 * are ferry / baseline (lower is better) unless `inverse` (baseline /
 * ferry, higher is better). */
export const RT_ROWS = [
  { id: 'rt16.call_vs_transfer', unit: 'us/rt', goal: { op: '<=', value: 1.3 },
    note: '16 B body: await echo.call(type, Uint8Array(15)) to the C echo actor vs postMessage(buf16, [buf16]) to a JS echo worker and back' },
  { id: 'rt16.pingpong_vs_js', unit: 'us/rt', goal: { op: '<=', value: 1.3 },
    note: 'C ping calls C pong n times (16 B body, direct MessageChannel) vs two JS workers bouncing a 16 B buffer n times over a MessageChannel (transfer)' },
  { id: 'rt20m.bytes_vs_floor', unit: 'ms/rt', goal: { op: '<=', value: 1.3 },
    note: 'blobs.call("bytes", {data: 20 MiB Uint8Array}) (in and out of wasm memory; each reply checked, then recycle(r.data)) vs the 3 copies that round trip needs (into the envelope, into wasm memory, out into the reply envelope), each a Uint8Array.set into a pre-touched buffer' },
  { id: 'rt20m.bytes_vs_clone', unit: 'ms/rt', goal: { op: '<=', value: 0.35 },
    note: 'the same ferry round trip (replies recycled) vs postMessage of the 20 MiB Uint8Array structured-cloned to a JS echo worker and back' },
  { id: 'rt20m.blob_vs_transfer', unit: 'ms/rt', goal: { op: '<=', value: 1.5 },
    note: 'echo.call(type, {data: transfer(20 MiB)}), the blob moved there and back, vs a raw transfer round trip of the same buffer' },
  { id: 'stream16.throughput_vs_raw', unit: 'us/msg', goal: { op: '>=', value: 2 }, inverse: true,
    note: 'n x counter.send("n", i) then one call "get" (all counted, in order) vs n x postMessage(buf16, [buf16]) to a JS worker that counts; ratio = raw time / ferry time' },
  { id: 'rt16m.partial_reuse', unit: 'ms/rt', goal: { op: '<=', value: 1.0 },
    note: 'blobs.call("head", {data: 16 MiB, len: 12 MiB}): the 12 MiB reply written into the call\'s received buffer and sent as {e, n} (System option reusePartial, the default) vs in a fresh buffer (reusePartial: false); below 1 means the {e, n} form pays' },
  { id: 'spawn8_vs_js', unit: 'ms', goal: { op: '<=', value: 1.5 },
    note: '8 x sys.spawn("echo") + a first call each, in parallel, vs 8 new JS workers answering a ping' },
];

const MiB20 = 20 * 1024 * 1024;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function quartiles(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
  return [at(0.25), at(0.75)];
}

const now = () => performance.now();
const round3 = (x) => Math.round(x * 1000) / 1000;

// ----------------------------------------------------------- JS workers

/** A plain JS worker with a one-reply-at-a-time request helper. */
function jsWorker() {
  const w = new WorkerCtor(JS_WORKER, { type: 'module' });
  let waiter = null;
  let early = [];
  onMessage(w, (m) => {
    if (waiter) {
      const r = waiter;
      waiter = null;
      r(m);
    } else early.push(m);
  });
  return {
    w,
    /** Posts msg (with transfer list xfer) and resolves with the next message. */
    request(msg, xfer) {
      return new Promise((resolve) => {
        if (early.length) {
          resolve(early.shift());
          return;
        }
        waiter = resolve;
        if (msg !== undefined) w.postMessage(msg, xfer || []);
      });
    },
    next() {
      return this.request(undefined);
    },
    terminate() {
      return w.terminate();
    },
  };
}

// ------------------------------------------------------------ placement

// `place` (Node only, test/bench/placement.mjs) pins threads to CPUs; in a
// browser it is null and these do nothing. tracked() runs start() and
// returns the kernel thread ids that appeared meanwhile: the worker's.
async function tracked(place, start) {
  const before = place?.snapshot();
  const value = await start();
  return { value, tids: place ? place.since(before) : [] };
}

async function startedJsWorker() {
  const w = jsWorker();
  if ((await w.request({ ping: -1 })).ping !== -1) throw new Error('JS worker answered something else');
  return w;
}

// near: threads that share the host's CPU; far: threads that go to the
// second CPU in the two-CPU case (in the one-CPU case, all share one).
function pinPair(place, near, far) {
  return place ? place.pin(near, far) : null;
}

function placedDetail(placed) {
  return placed ? { placement: placed } : {};
}

// ------------------------------------------------------------- batching

/**
 * Runs warm-up batches of every case, then `batches` rounds in which each
 * case runs one batch, in alternating order. Each case is
 * { name, run: async () => ms per unit, warm?: async () => {} } (warm runs
 * first, once: for cases whose batches are too few to warm up the JIT in a
 * fresh worker). Returns name -> [values].
 */
async function alternate(cases, { warmup, batches, log, label, warmupMs = 0 }) {
  const out = Object.fromEntries(cases.map((c) => [c.name, []]));
  // Warm-up: at least `warmup` rounds, and at least warmupMs in all (V8
  // tiers up JS and wasm over the first few thousand messages).
  for (const c of cases) if (c.warm) await c.warm();
  const t0 = now();
  for (let i = 0; i < warmup || now() - t0 < warmupMs; i++) for (const c of cases) await c.run();
  for (let b = 0; b < batches; b++) {
    const order = b % 2 ? [...cases].reverse() : cases;
    for (const c of order) out[c.name].push(await c.run());
  }
  if (log) {
    log(`${label}: ` + cases.map((c) => `${c.name} ${fmt(median(out[c.name]))}`).join(', '));
  }
  return out;
}

function fmt(x) {
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

function summary(values, extra = {}) {
  const [q1, q3] = quartiles(values);
  return { median: round3(median(values)), q1: round3(q1), q3: round3(q3), batches: values.length, ...extra };
}

// ---------------------------------------------------------------- cases

async function rt16(sys, cfg, log, place) {
  const { value: echo, tids: echoT } = await tracked(place, () => sys.spawn('echo'));
  const { value: js, tids: jsT } = await tracked(place, startedJsWorker);
  const placed = pinPair(place, [], [...echoT, ...jsT]);
  const body = new Uint8Array(15); // a 15-byte byte string: 16 B of CBOR
  for (let i = 0; i < 15; i++) body[i] = 97 + i;
  const n = cfg.rt16n;
  let buf = new ArrayBuffer(16);
  const r = await echo.call('x', body);
  if (r.length !== 15 || r[14] !== body[14]) throw new Error('echo answered something else');
  const res = await alternate([
    { name: 'ferry', async run() {
      const t = now();
      for (let i = 0; i < n; i++) await echo.call('x', body);
      return ((now() - t) * 1000) / n;
    } },
    { name: 'raw', async run() {
      const t = now();
      for (let i = 0; i < n; i++) buf = await js.request(buf, [buf]);
      return ((now() - t) * 1000) / n;
    } },
  ], { warmup: cfg.warmup, warmupMs: cfg.warmupMs, batches: cfg.batches, log, label: `rt16.call (${n} round trips a batch, us)` });
  place?.reset();
  await echo.stop();
  await js.terminate();
  return { ferry: res.ferry, baseline: res.raw, per: n, placed };
}

async function pingpong(sys, cfg, log, place) {
  // One at a time, so that each one's threads are told apart.
  const { value: ping, tids: pingT } = await tracked(place, () => sys.spawn('ping'));
  const { value: pong, tids: pongT } = await tracked(place, () => sys.spawn('pong'));
  const { value: a, tids: aT } = await tracked(place, startedJsWorker);
  const { value: b, tids: bT } = await tracked(place, startedJsWorker);
  const { port1, port2 } = new MessageChannel();
  await Promise.all([a.request({ port: port1, role: 'ping' }, [port1]), b.request({ port: port2, role: 'pong' }, [port2])]);
  // The latency is between the two actors (the two workers): one side with
  // the host, the other apart from it in the two-CPU case.
  const placed = pinPair(place, [...pingT, ...aT], [...pongT, ...bT]);
  const n = cfg.pingn;
  const res = await alternate([
    { name: 'ferry', async run() {
      const t = now();
      const r = await ping.call('run', { peer: pong.id, n });
      if (r.rounds !== n) throw new Error(`ping ran ${r.rounds} rounds, not ${n}`);
      return ((now() - t) * 1000) / n;
    } },
    { name: 'js', async run() {
      const t = now();
      const r = await a.request({ run: n });
      if (r.rounds !== n) throw new Error(`JS ping ran ${r.rounds} rounds, not ${n}`);
      return ((now() - t) * 1000) / n;
    } },
  ], { warmup: cfg.warmup, warmupMs: cfg.warmupMs, batches: cfg.batches, log, label: `rt16.pingpong (${n} round trips a batch, us)` });
  place?.reset();
  await Promise.all([ping.stop(), pong.stop(), a.terminate(), b.terminate()]);
  return { ferry: res.ferry, baseline: res.js, per: n, placed };
}

async function rt20m(sys, cfg, log, want, place) {
  const blobs = await sys.spawn('blobs');
  const { value: echo, tids: echoT } = await tracked(place, () => sys.spawn('echo'));
  const { value: js, tids: jsT } = await tracked(place, startedJsWorker);
  const placed = want.blob ? pinPair(place, [], [...echoT, ...jsT]) : null;
  const data = new Uint8Array(MiB20);
  for (let i = 0; i < MiB20; i += 4096) data[i] = (i >> 12) & 255;
  data[MiB20 - 1] = 7;
  // The floor: the copies a bytes-field round trip needs by design
  // (design.md, "Struct serializer": a 20 MB field crosses wasm memory once
  // per side), each a plain Uint8Array.set into a buffer touched before
  // timing (so no page faults and no allocation are timed):
  //   1. the caller's Uint8Array into the outgoing envelope (host);
  //   2. the envelope into the actor's wasm memory (the receiver);
  //   3. the actor's wasm memory into the reply envelope (out again).
  // The reply envelope is transferred back, and the caller gets a view of
  // it (glue/host/envelope.mjs decodes byte strings as subarrays), so there
  // is no fourth copy to count. Each copy is also timed on its own (detail).
  const pages = Math.ceil((MiB20 + 65536) / 65536);
  const envOut = new Uint8Array(MiB20 + 64);
  const heap = new Uint8Array(new WebAssembly.Memory({ initial: pages }).buffer);
  const envBack = new Uint8Array(MiB20 + 64);
  envOut.set(data, 32);
  heap.set(envOut.subarray(32, 32 + MiB20), 128);
  envBack.set(heap.subarray(128, 128 + MiB20), 32);
  const floorParts = { envelope: [], wasm_in: [], wasm_out: [] };
  let blob = new Uint8Array(MiB20);
  blob.set(data);
  let raw = new Uint8Array(MiB20).buffer;
  const k = cfg.blobn; // blob/transfer round trips per batch (they are short)
  const k20 = cfg.copyn; // 20 MB copying round trips per batch
  const cases = [];
  // ferry's side of both bytes rows: each reply is checked, then its
  // buffer given back with recycle(), so the next request is written into
  // it and the actor answers in it again: a loop that needs no fresh
  // 20 MiB (glue/host/pool.mjs). The check comes first: recycle()
  // detaches the reply's bytes.
  const ferryBytes = { name: 'ferry.bytes', async run() {
    const t = now();
    for (let i = 0; i < k20; i++) {
      const r = await blobs.call('bytes', { data });
      if (r.data.length !== MiB20 || r.data[MiB20 - 1] !== 7 || r.data[4096] !== 1) throw new Error('bytes came back wrong');
      recycle(r.data);
    }
    return (now() - t) / k20;
  } };
  if (want.bytes) {
    cases.push(ferryBytes);
    cases.push({ name: 'floor', async run() {
      const part = [0, 0, 0];
      for (let i = 0; i < k20; i++) {
        const t0 = now();
        envOut.set(data, 32);
        const t1 = now();
        heap.set(envOut.subarray(32, 32 + MiB20), 128);
        const t2 = now();
        envBack.set(heap.subarray(128, 128 + MiB20), 32);
        const t3 = now();
        part[0] += t1 - t0;
        part[1] += t2 - t1;
        part[2] += t3 - t2;
      }
      if (envBack[32 + MiB20 - 1] !== 7 || envBack[32 + 4096] !== 1) throw new Error('floor copies came out wrong');
      floorParts.envelope.push(part[0] / k20);
      floorParts.wasm_in.push(part[1] / k20);
      floorParts.wasm_out.push(part[2] / k20);
      return (part[0] + part[1] + part[2]) / k20;
    } });
  }
  if (want.clone) {
    if (!want.bytes) cases.push(ferryBytes);
    cases.push({ name: 'clone', async run() {
      let r;
      const t = now();
      for (let i = 0; i < k20; i++) r = await js.request({ clone: data });
      const ms = (now() - t) / k20;
      if (r.clone.length !== MiB20) throw new Error('clone came back wrong');
      return ms;
    } });
  }
  if (want.blob) {
    cases.push({ name: 'ferry.blob', async warm() {
      for (let i = 0; i < cfg.blobWarm; i++) blob = (await echo.call('blob', { data: transfer(blob) })).data;
    }, async run() {
      const t = now();
      for (let i = 0; i < k; i++) blob = (await echo.call('blob', { data: transfer(blob) })).data;
      const ms = (now() - t) / k;
      if (blob.length !== MiB20) throw new Error('blob came back wrong');
      return ms;
    } });
    cases.push({ name: 'transfer', async warm() {
      for (let i = 0; i < cfg.blobWarm; i++) raw = await js.request(raw, [raw]);
    }, async run() {
      const t = now();
      for (let i = 0; i < k; i++) raw = await js.request(raw, [raw]);
      const ms = (now() - t) / k;
      if (raw.byteLength !== MiB20) throw new Error('transfer came back wrong');
      return ms;
    } });
  }
  // Two groups: the copying cases leave 20 MB buffers of garbage behind,
  // whose collection would land on the short blob batches.
  const copying = cases.filter((c) => !c.name.endsWith('blob') && c.name !== 'transfer');
  const moving = cases.filter((c) => c.name.endsWith('blob') || c.name === 'transfer');
  const res = {};
  if (copying.length) {
    Object.assign(res, await alternate(copying, {
      warmup: cfg.warmup, batches: cfg.batches20, log, label: `rt20m (ms per round trip, ${k20} a batch)`,
    }));
  }
  if (moving.length) {
    Object.assign(res, await alternate(moving, {
      warmup: cfg.warmup, batches: cfg.batchesBlob, log, label: `rt20m blob (ms per round trip, ${k} a batch)`,
    }));
  }
  place?.reset();
  // The recycled 20 MiB buffers would serve the next rows' big requests
  // (rt16m's 16 MiB calls fit them): those rows measure without them.
  emptyPool();
  await Promise.all([blobs.stop(), echo.stop(), js.terminate()]);
  return { ...res, floorParts, placed };
}

// The {e, n} form (docs/wire-format.md) on its own: a reply smaller than
// its call, with and without reuse of the call's buffer, each in a System
// of its own (the option is per System).
async function partialReuse(cfg, log) {
  const MiB16 = 16 * 1024 * 1024;
  const len = 12 * 1024 * 1024;
  const data = new Uint8Array(MiB16);
  for (let i = 0; i < MiB16; i += 4096) data[i] = (i >> 12) & 255;
  const systems = await Promise.all([true, false].map((reusePartial) => System.start({ module: MODULE, reusePartial })));
  const actors = await Promise.all(systems.map((s) => s.spawn('blobs')));
  const k = cfg.copyn;
  const run = (a) => async () => {
    let r;
    const t = now();
    for (let i = 0; i < k; i++) r = await a.call('head', { data, len });
    const ms = (now() - t) / k;
    if (r.data.length !== len || r.data[4096] !== 1) throw new Error('head came back wrong');
    return ms;
  };
  const res = await alternate([
    { name: 'reuse', run: run(actors[0]) },
    { name: 'fresh', run: run(actors[1]) },
  ], { warmup: cfg.warmup, batches: cfg.batches20, log, label: `rt16m.partial_reuse (ms per round trip, ${k} a batch)` });
  await Promise.all(systems.map((s) => s.shutdown()));
  return { ferry: res.reuse, baseline: res.fresh, per: k };
}

async function stream16(sys, cfg, log, place) {
  const { value: counter, tids: counterT } = await tracked(place, () => sys.spawn('counter'));
  const { value: js, tids: jsT } = await tracked(place, startedJsWorker);
  const placed = pinPair(place, [], [...counterT, ...jsT]);
  const n = cfg.streamn;
  let sent = 0;
  const res = await alternate([
    { name: 'ferry', async run() {
      const t = now();
      for (let i = 0; i < n; i++) counter.send('n', sent++);
      const r = await counter.call('get');
      const us = ((now() - t) * 1000) / n;
      if (r.count !== sent || r.out_of_order !== 0) throw new Error(`counter saw ${r.count} (${r.out_of_order} out of order), sent ${sent}`);
      return us;
    } },
    { name: 'raw', async run() {
      const t = now();
      const done = js.request({ count: n });
      for (let i = 0; i < n; i++) {
        const b = new ArrayBuffer(16);
        js.w.postMessage(b, [b]);
      }
      const r = await done;
      const us = ((now() - t) * 1000) / n;
      if (r.counted !== n) throw new Error('raw count wrong');
      return us;
    } },
  ], { warmup: cfg.warmup, warmupMs: cfg.warmupMs, batches: cfg.batches, log, label: `stream16 (${n} messages a batch, us per message)` });
  place?.reset();
  await counter.stop();
  await js.terminate();
  return { ferry: res.ferry, baseline: res.raw, per: n, placed };
}

async function spawn8(sys, cfg, log) {
  const res = await alternate([
    { name: 'ferry', async run() {
      const t = now();
      const refs = await Promise.all(Array.from({ length: 8 }, async (_, i) => {
        const a = await sys.spawn('echo');
        if ((await a.call('hi', i)) !== i) throw new Error('echo answered something else');
        return a;
      }));
      const ms = now() - t;
      await Promise.all(refs.map((a) => a.stop()));
      return ms;
    } },
    { name: 'js', async run() {
      const t = now();
      const ws = await Promise.all(Array.from({ length: 8 }, async (_, i) => {
        const w = jsWorker();
        if ((await w.request({ ping: i })).ping !== i) throw new Error('JS worker answered something else');
        return w;
      }));
      const ms = now() - t;
      await Promise.all(ws.map((w) => w.terminate()));
      return ms;
    } },
  ], { warmup: 1, batches: cfg.batchesSpawn, log, label: 'spawn8 (ms to 8 first replies)' });
  return { ferry: res.ferry, baseline: res.js, per: 8 };
}

// ---------------------------------------------------------------- entry

/**
 * Measures the rows whose ids are in `rows` (ids without suffix). Returns
 * { env, results: { id: { ferry, baseline, detail } } }.
 * @param {{rows: string[], quick?: boolean, log?: (s: string) => void}} opts
 */
export async function measure({ rows, quick = false, log = () => {}, place = null }) {
  const cfg = quick
    ? { warmup: 1, warmupMs: 1000, batches: 11, batches20: 7, batchesBlob: 11, batchesSpawn: 5, rt16n: 200, pingn: 400, copyn: 2, blobn: 100, blobWarm: 3000, streamn: 4000 }
    : { warmup: 2, warmupMs: 3000, batches: 21, batches20: 15, batchesBlob: 21, batchesSpawn: 11, rt16n: 1000, pingn: 2000, copyn: 3, blobn: 200, blobWarm: 3000, streamn: 20000 };
  const want = new Set(rows);
  const sys = await System.start({ module: MODULE });
  const results = {};
  // samples: the batch times in the order they ran; batch i of each side
  // ran in round i, next to each other (run.mjs pairs them).
  const row = (id, f, b, per, extra) => {
    const def = RT_ROWS.find((r) => r.id === id);
    const ferry = median(f);
    const baseline = median(b);
    results[id] = {
      ferry: round3(ferry),
      baseline: round3(baseline),
      ratio: def.inverse ? baseline / ferry : ferry / baseline,
      samples: { ferry: f.map(round3), baseline: b.map(round3) },
      detail: { note: def.note, per_batch: per, ferry: summary(f), baseline: summary(b), ...extra },
    };
  };
  try {
    if (want.has('rt16.call_vs_transfer')) {
      const r = await rt16(sys, cfg, log, place);
      row('rt16.call_vs_transfer', r.ferry, r.baseline, r.per, placedDetail(r.placed));
    }
    if (want.has('rt16.pingpong_vs_js')) {
      const r = await pingpong(sys, cfg, log, place);
      row('rt16.pingpong_vs_js', r.ferry, r.baseline, r.per, placedDetail(r.placed));
    }
    const w20 = {
      bytes: want.has('rt20m.bytes_vs_floor'),
      clone: want.has('rt20m.bytes_vs_clone'),
      blob: want.has('rt20m.blob_vs_transfer'),
    };
    if (w20.bytes || w20.clone || w20.blob) {
      const r = await rt20m(sys, cfg, log, w20, place);
      if (w20.bytes) {
        const fp = r.floorParts;
        row('rt20m.bytes_vs_floor', r['ferry.bytes'], r.floor, cfg.copyn, {
          floor_copies_ms: { envelope: round3(median(fp.envelope)), wasm_in: round3(median(fp.wasm_in)), wasm_out: round3(median(fp.wasm_out)) },
        });
      }
      if (w20.clone) row('rt20m.bytes_vs_clone', r['ferry.bytes'], r.clone, cfg.copyn);
      if (w20.blob) row('rt20m.blob_vs_transfer', r['ferry.blob'], r.transfer, cfg.blobn, placedDetail(r.placed));
    }
    if (want.has('rt16m.partial_reuse')) {
      const r = await partialReuse(cfg, log);
      row('rt16m.partial_reuse', r.ferry, r.baseline, r.per);
    }
    if (want.has('stream16.throughput_vs_raw')) {
      const r = await stream16(sys, cfg, log, place);
      row('stream16.throughput_vs_raw', r.ferry, r.baseline, r.per, placedDetail(r.placed));
    }
    if (want.has('spawn8_vs_js')) {
      const r = await spawn8(sys, cfg, log);
      row('spawn8_vs_js', r.ferry, r.baseline, r.per);
    }
  } finally {
    await sys.shutdown();
  }
  return { results, cfg };
}
