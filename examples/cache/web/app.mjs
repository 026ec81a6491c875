// app.mjs - the cache demo's page. The main thread starts the ferry System
// (the C cache and origins, each in its own Web Worker), creates the client
// workers (client.mjs: they connect to the cache themselves, verify every
// chunk and give loans back) and only draws: tiles, charts, frame gaps.
// The baseline is baseline.mjs, a plain JS worker cache answering by
// structured clone, with the same clients. The switch moves the clients
// between the two; `?seconds=N` runs N s of each instead and resolves
// window.ferryDemo.result with the report (POSTed to `?report=URL` too,
// for Firefox).
import { System } from '/glue/index.mjs';
import { newWorker, channel, listen } from '../env.mjs';
import { summarize, compare, latency } from '../summary.mjs';

const q = new URLSearchParams(location.search);
const opts = {
  seconds: q.has('seconds') ? Number(q.get('seconds')) : null,
  clients: Number(q.get('clients') || 4),
  mode: q.get('mode') === 'copy' ? 'copy' : 'loan',
  budgetMb: Number(q.get('budgetMb') || 256),
  keys: Number(q.get('keys') || 64), // the bench's throughput row: a working set that fits
  skew: 1.0,
  origins: 3,
  latencyMs: 20,
  verify: q.get('verify') !== '0', // the bench's throughput row turns it off
};
const COLORS = { ferry: '#1f6feb', baseline: '#c2410c' };
const $ = (id) => document.getElementById(id);

// Frame gaps: requestAnimationFrame intervals of this thread. A run's
// list holds those while chunks flow (from its first chunk on), so worker
// start-up is not counted.
let gaps = [];
let flowing = false;
let windowGap = 0;
let lastFrame = performance.now();
function frame(t) {
  const gap = t - lastFrame;
  lastFrame = t;
  if (flowing) gaps.push(gap);
  windowGap = Math.max(windowGap, gap);
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);

// The ferry side.
const sys = await System.start({ module: new URL('/build/wasm/cache.wasm', location.href) });
const originRefs = await Promise.all(
  Array.from({ length: opts.origins }, () => sys.spawn('origin', { init: { latency_ms: opts.latencyMs } })),
);
const cache = await sys.spawn('cache', {
  init: { budget: opts.budgetMb * 2 ** 20, origins: originRefs.map((o) => o.id), lend_ms: 30000 },
});
// The baseline side.
const baseline = newWorker(new URL('../baseline.mjs', import.meta.url));
baseline.postMessage({ init: { budget: opts.budgetMb * 2 ** 20, origins: opts.origins, latencyMs: opts.latencyMs } });

// Live state, sampled every 0.5 s into the charts' series.
const series = { tput: [], hit: [], lat: [], moved: [], copied: [], gap: [] };
const total = { moved: 0, copied: 0 };
let win = { chunks: 0, hits: 0, lat: [], bytes: 0, kind: 'ferry' };

/** Runs the clients against `kind` until `seconds` pass or stop() is called. */
function startRun(kind, seconds) {
  const workers = [];
  const last = [];
  const done = [];
  const started = performance.now();
  gaps = [];
  flowing = false;
  for (let index = 0; index < opts.clients; index++) {
    const w = newWorker(new URL('../client.mjs', import.meta.url));
    workers.push(w);
    last.push({ chunks: 0, bytes: 0, hits: 0 });
    let port;
    if (kind === 'ferry') port = cache.connect();
    else {
      const ch = channel();
      baseline.postMessage({ port: ch.port1 }, [ch.port1]);
      port = ch.port2;
    }
    const init = { kind, index, seconds: seconds ?? Infinity, keys: opts.keys, skew: opts.skew, copy: opts.mode === 'copy', verify: opts.verify, thumbs: true };
    w.postMessage({ init, port }, [port]);
    done.push(
      new Promise((resolve, reject) => {
        listen(w, (m) => {
          if (m.progress) {
            const p = m.progress;
            flowing = true;
            const prev = last[index];
            win.chunks += p.chunks - prev.chunks;
            win.hits += p.hits - prev.hits;
            win.bytes += p.bytes - prev.bytes;
            total.moved += p.bytes - prev.bytes;
            if (kind === 'baseline' || opts.mode === 'copy') total.copied += p.bytes - prev.bytes;
            win.lat.push(p.lat);
            last[index] = p;
            if (p.thumb) tile(kind, p.thumb);
          } else if (m.done) resolve(m.done);
        });
        w.addEventListener('error', (e) => reject(new Error(`client ${index}: ${e.message}`)));
      }),
    );
  }
  win = { chunks: 0, hits: 0, lat: [], bytes: 0, kind };
  return {
    kind,
    stop: () => workers.forEach((w) => w.postMessage({ stop: true })),
    result: Promise.all(done).then((results) => {
      workers.forEach((w) => w.terminate());
      const r = summarize(results, (performance.now() - started) / 1000);
      flowing = false;
      const g = Float64Array.from(gaps).sort();
      r.frameGapMs = { n: g.length, p50: g[Math.floor(g.length / 2)] ?? null, p99: g[Math.floor(g.length * 0.99)] ?? null, max: g[g.length - 1] ?? null };
      return r;
    }),
  };
}

// The tile strip is one small canvas, scaled up by CSS: a new tile shifts
// the strip right by one cell and is drawn at the left. One putImageData
// per tile and no DOM changes keep the main thread's frames short.
const CELL = 10;
const strip = $('tiles').getContext('2d');
const FRAME = { ferry: [31, 111, 235], baseline: [194, 65, 12] };
function tile(kind, { pixels, hit, key }) {
  const w = $('tiles').width;
  strip.drawImage($('tiles'), 0, 0, w - CELL, CELL, CELL, 0, w - CELL, CELL);
  const img = strip.createImageData(CELL, CELL);
  const k = Number(key.slice(1));
  const frame = FRAME[kind].map((v) => (hit ? v : 255 - (255 - v) * 0.45));
  for (let y = 0; y < CELL; y++)
    for (let x = 0; x < CELL; x++) {
      const o = (y * CELL + x) * 4;
      let rgb;
      if (x === 0 || y === 0 || x === CELL - 1 || y === CELL - 1) rgb = frame;
      else {
        // Hue from the key's number, brightness from the chunk's own bytes.
        const v = pixels[(y - 1) * 8 + (x - 1)] / 255;
        rgb = [40 + (200 * v * ((k * 37) % 100)) / 100, 40 + (200 * v * ((k * 61) % 100)) / 100, 80 + 175 * v];
      }
      img.data.set([...rgb, 255], o);
    }
  strip.putImageData(img, 0, 0);
}

function sample() {
  const kind = win.kind;
  const l = latency(win.lat);
  series.tput.push({ kind, v: win.chunks * 2 });
  series.hit.push({ kind, v: win.chunks ? (100 * win.hits) / win.chunks : null });
  series.lat.push({ kind, v: l.p50 });
  series.moved.push({ kind, v: total.moved / 1e9 });
  series.copied.push({ kind, v: total.copied / 1e9 });
  series.gap.push({ kind, v: windowGap });
  for (const s of Object.values(series)) if (s.length > 120) s.shift();
  $('status').textContent = `${kind}: ${win.chunks * 2} chunks/s, ${(win.bytes * 2 / 1e9).toFixed(2)} GB/s, ` +
    `hit ${win.chunks ? ((100 * win.hits) / win.chunks).toFixed(0) : '-'}%, longest frame gap ${windowGap.toFixed(0)} ms`;
  win = { chunks: 0, hits: 0, lat: [], bytes: 0, kind };
  windowGap = 0;
  draw('c-tput', [series.tput]);
  draw('c-hit', [series.hit], 100);
  draw('c-lat', [series.lat]);
  draw('c-bytes', [series.moved, series.copied]);
  draw('c-gap', [series.gap], null, 50);
}

function draw(id, lists, fixedMax = null, line = null) {
  const c = $(id);
  // Resize the backing store only when the layout changed.
  const cw = Math.round(c.clientWidth * devicePixelRatio);
  const ch = Math.round(c.clientHeight * devicePixelRatio);
  if (c.width !== cw || c.height !== ch) [c.width, c.height] = [cw, ch];
  const [w, h] = [cw, ch];
  const ctx = c.getContext('2d');
  ctx.clearRect(0, 0, w, h);
  const max = fixedMax ?? Math.max(1e-9, line ?? 0, ...lists.flat().map((p) => p.v ?? 0)) * 1.1;
  ctx.font = `${10 * devicePixelRatio}px sans-serif`;
  ctx.fillStyle = '#888';
  ctx.fillText(max.toPrecision(3), 2, 10 * devicePixelRatio);
  if (line !== null) {
    ctx.strokeStyle = '#aaa';
    ctx.setLineDash([2, 4]);
    ctx.beginPath();
    ctx.moveTo(0, h - (line / max) * h);
    ctx.lineTo(w, h - (line / max) * h);
    ctx.stroke();
  }
  lists.forEach((list, li) => {
    ctx.setLineDash(li ? [6, 4] : []);
    ctx.lineWidth = 2 * devicePixelRatio;
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1], b = list[i];
      if (a.v === null || b.v === null) continue;
      ctx.strokeStyle = COLORS[b.kind];
      ctx.beginPath();
      ctx.moveTo(((i - 1) / 119) * w, h - (a.v / max) * h);
      ctx.lineTo((i / 119) * w, h - (b.v / max) * h);
      ctx.stroke();
    }
  });
}
setInterval(sample, 500);

async function cacheCopies() {
  // "drain" answers once every loan is home; the worker's counters after it.
  const cs = await cache.call('drain', null, { timeout: 10000 });
  const s = await cache.stats();
  return { cache: cs, ferry: { copies: s.copies, copiedBytes: s.copiedBytes, chunkBytesCopied: s.copies.blobRead + s.copies.blobWrite + s.copies.blobFrom + s.copies.blobDup, loans: s.loans, loansReturned: s.loans.out === 0 && cs.loans_out === 0 } };
}

function setSwitch(kind) {
  $('b-ferry').classList.toggle('on', kind === 'ferry');
  $('b-baseline').classList.toggle('on', kind === 'baseline');
}

async function fixedRun() {
  setSwitch('ferry');
  const f = await startRun('ferry', opts.seconds).result;
  Object.assign(f, await cacheCopies());
  setSwitch('baseline');
  const b = await startRun('baseline', opts.seconds).result;
  const report = { config: opts, env: { userAgent: navigator.userAgent }, ferry: f, baseline: b, ...compare(f, b) };
  $('report').textContent = JSON.stringify({ ratio: report.ratio, verification: report.verification, ferry: { chunksPerSec: f.chunksPerSec, hit: f.latencyMs.hit, frameGapMs: f.frameGapMs }, baseline: { chunksPerSec: b.chunksPerSec, hit: b.latencyMs.hit, frameGapMs: b.frameGapMs } }, null, 2);
  $('summary').textContent = `ferry ${f.chunksPerSec.toFixed(1)} chunks/s vs baseline ${b.chunksPerSec.toFixed(1)}: ${report.ratio.throughput.toFixed(1)}×`;
  const to = q.get('report');
  if (to) await fetch(to, { method: 'POST', body: JSON.stringify(report) });
  return report;
}

async function liveRuns() {
  let run = startRun('ferry', null);
  const to = async (kind) => {
    if (run.kind === kind) return;
    setSwitch(kind);
    run.stop();
    const r = await run.result;
    $('summary').textContent = `last ${run.kind} run: ${r.chunks} chunks in ${r.seconds.toFixed(1)} s (${r.chunksPerSec.toFixed(1)}/s), ${r.verified} verified, frame gap p99 ${r.frameGapMs.p99?.toFixed(1)} ms`;
    run = startRun(kind, null);
  };
  $('b-ferry').onclick = () => to('ferry');
  $('b-baseline').onclick = () => to('baseline');
}

// `?idle=1` (the bench): no runs; window.ferryDemo.hitBench measures
// cache.hit_vs_transfer here.
const hitBench = async (o) => (await import('../bench-cases.mjs')).hitVsTransfer({ module: new URL('/build/wasm/cache.wasm', location.href), ...o });
window.ferryDemo = { result: opts.seconds ? fixedRun() : null, system: sys, hitBench };
if (!opts.seconds && !q.has('idle')) liveRuns();
