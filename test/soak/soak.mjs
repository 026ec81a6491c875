#!/usr/bin/env node
// soak.mjs - the soak run: `npm run soak -- --minutes N` (docs/reliability.md ("The soak")).
//
// Sixteen "soak" actors (test/actors/soak.c) send and call each other by id,
// the host and a connected JS thread send and call them, with payloads from
// 16 B to 20 MB as bytes fields, moved blobs and loans. Every message
// carries a seq per sender-receiver pair, checked where it arrives; at the
// end every sender says what it sent and judge() (checker.mjs) finds
// anything lost, duplicated, reordered or corrupted, and every call must
// have had exactly one reply. Every few seconds the run samples the JS heap
// (after a GC), each actor's wasm memory, blobs, ports, pending calls and
// mailboxes, and after the warm-up fits a least-squares slope per minute to
// each: a series that grows faster than its limit fails the run.
//
//   node --expose-gc test/soak/soak.mjs [--minutes N | --seconds N]
//     [--actors 16] [--max-size BYTES] [--js-max-size BYTES] [--sample S] [--warmup S]
//     [--remote N] [--json FILE] [--quiet]
//
// Exit status 0 when all is well, 1 when something was lost or grew, 2 for
// bad options.
import { Worker } from 'node:worker_threads';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { System, release, isBorrowed } from '../../glue/index.mjs';
import { Receiver, judge, slopes, checkPattern } from './checker.mjs';
import { Traffic, BIG } from './traffic.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const MB = 1 << 20;

/**
 * Growth limits per minute after the warm-up. Sizes are chosen against
 * what a leak looks like next to the noise of a run with 20 MB messages in
 * flight: leaking one 20 MB payload a minute fails external/arrayBuffers/
 * rss; a blob or a port or a pending call a minute fails theirs; a wasm
 * memory that grows at all after the warm-up (it never shrinks) fails.
 */
export const LIMITS = {
  heapUsed: { limit: 2 * MB, unit: 'bytes' },
  external: { limit: 16 * MB, unit: 'bytes' },
  arrayBuffers: { limit: 16 * MB, unit: 'bytes' },
  rss: { limit: 32 * MB, unit: 'bytes' },
  wasmMax: { limit: 1 * MB, unit: 'bytes' },
  wasmTotal: { limit: 4 * MB, unit: 'bytes' },
  blobs: { limit: 30, unit: 'blobs' },
  loansOut: { limit: 30, unit: 'loans' },
  ports: { limit: 0.5, unit: 'ports' },
  pendingCalls: { limit: 10, unit: 'calls' },
  mailbox: { limit: 100, unit: 'messages' },
};

/**
 * Short runs judge a short window (40 s of a 60 s run), where noise is a
 * slope of its own: arrayBuffers counts every buffer this thread allocated
 * until the worker that received it collects it, so it swings by some 60
 * MB with the workers' GCs when the JS side sends 20 MB (the 60 s test sends
 * up to 4 MB from JS); loans out swing by tens. Under 5 minutes
 * those limits are wider, and rss is reported but not judged (see runSoak).
 */
export function limitsFor(seconds) {
  if (seconds >= 300) return LIMITS;
  return {
    ...LIMITS,
    external: { limit: 48 * MB, unit: 'bytes' },
    arrayBuffers: { limit: 48 * MB, unit: 'bytes' },
    loansOut: { limit: 60, unit: 'loans' },
  };
}

export function parseArgs(argv) {
  const o = { seconds: 600, actors: 16, maxSize: BIG, jsMaxSize: null, sample: null, warmup: null, remote: 4, json: null, quiet: false, seed: 1 };
  const num = (name, v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} wants a number, got ${JSON.stringify(v)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} wants a value`);
      return argv[++i];
    };
    if (a === '--minutes') o.seconds = num(a, next()) * 60;
    else if (a === '--seconds') o.seconds = num(a, next());
    else if (a === '--actors') o.actors = num(a, next());
    else if (a === '--max-size') o.maxSize = num(a, next());
    else if (a === '--js-max-size') o.jsMaxSize = num(a, next());
    else if (a === '--sample') o.sample = num(a, next());
    else if (a === '--warmup') o.warmup = num(a, next());
    else if (a === '--remote') o.remote = num(a, next());
    else if (a === '--seed') o.seed = num(a, next());
    else if (a === '--json') o.json = next();
    else if (a === '--quiet') o.quiet = true;
    else throw new Error(`unknown option ${a}`);
  }
  if (o.actors < 2 || o.actors > 60) throw new Error('--actors wants 2..60');
  if (o.maxSize < 16) throw new Error('--max-size wants at least 16');
  o.jsMaxSize ??= o.maxSize;
  o.sample ??= o.seconds >= 300 ? 5 : 2;
  // Wasm memories and the engine's pools grow while the run finds its
  // peaks; the first minute (a third of a short run) is not judged.
  o.warmup ??= Math.min(60, o.seconds / 3);
  return o;
}

const fmtMB = (b) => `${(b / MB).toFixed(1)} MB`;
const fmtBytes = (b) => (b >= 1 << 30 ? `${(b / (1 << 30)).toFixed(2)} GB` : fmtMB(b));

export async function runSoak(o, log = console.log) {
  const gc = globalThis.gc ?? (() => {});
  const sys = await System.start({ module: path.join(root, 'build/wasm/soak.wasm') });
  const refs = [];
  for (let i = 0; i < o.actors; i++) refs.push(await sys.spawn('soak'));
  const ids = refs.map((r) => r.id);
  const byId = new Map(refs.map((r) => [r.id, r]));

  // The host as a receiver: sends from actors (onmessage) and their calls.
  const hostRx = new Receiver();
  const hostN = { msgsRecv: 0, bytesRecv: 0, callsAnswered: 0, released: 0, errors: [], byMode: [0, 0, 0], big: 0, minSize: Infinity, maxSize: 0 };
  const note = (e) => hostN.errors.length < 20 && hostN.errors.push(String(e));
  const take = (value, from) => {
    const p = hostRx.pair(from);
    p.observe(value.seq);
    hostN.msgsRecv++;
    hostN.bytesRecv += value.size;
    hostN.byMode[value.mode]++;
    if (value.size === BIG) hostN.big++;
    hostN.minSize = Math.min(hostN.minSize, value.size);
    hostN.maxSize = Math.max(hostN.maxSize, value.size);
    const payload = value.mode === 0 ? value.data : value.blob;
    if (!payload || !checkPattern(payload, value.seed, value.size)) p.bad++;
    if (payload && isBorrowed(payload)) {
      release(payload);
      hostN.released++;
    }
  };
  for (const r of refs) {
    r.onmessage = ({ type, value, from }) => {
      if (type === 'soak.data') take(value, from);
      else note(`unexpected ${type} from ${from}`);
    };
    r.onerror = (e) => note(`onerror ${r.id}: ${e.code} ${e.message}`);
  }
  sys.handle('soak.data', async (value, ref) => {
    take(value, ref.id);
    hostN.callsAnswered++;
    return { seq: value.seq };
  });

  // The host's own traffic, and the connected JS thread's.
  const hostTraffic = new Traffic(
    refs.map((r) => ({ id: r.id, from: 0, send: (t, v) => r.send(t, v), call: (t, v, opt) => r.call(t, v, opt) })),
    { seed: o.seed * 7919, inFlight: 1, maxSize: o.jsMaxSize, lendEvery: 40 },
  );
  let remote = null;
  const remoteMsg = () => new Promise((resolve, reject) => {
    remote.once('message', (m) => (m.error ? reject(new Error(`remote thread: ${m.error}`)) : resolve(m)));
  });
  if (o.remote > 0) {
    remote = new Worker(new URL('./remote-thread.mjs', import.meta.url));
    remote.on('error', (e) => note(`remote thread: ${e.message}`));
    const ports = refs.slice(0, o.remote).map((r) => r.connect());
    const started = remoteMsg();
    remote.postMessage({ start: true, ports, opts: { seed: o.seed * 104729, inFlight: 1, maxSize: o.jsMaxSize, lendEvery: 40 } }, ports);
    await started;
  }

  for (const r of refs) await r.call('soak.start', { peers: ids, seed: o.seed * 1000 + r.id, max_size: o.maxSize });
  hostTraffic.start();
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;

  const samples = [];
  const pause = (ms) => new Promise((r) => setTimeout(r, ms));
  const sample = async () => {
    // V8 frees the backing stores of dead ArrayBuffers on a sweeper thread
    // after the GC: measured at once, arrayBuffers still counts them (200
    // MB of dropped buffers read 200 MB, then 0 after a second GC and 20
    // ms). Two GCs a little apart leave what is really held.
    gc();
    await pause(20);
    gc();
    await pause(20);
    const mem = process.memoryUsage();
    const stats = await Promise.all(refs.map((r) => r.stats()));
    const reports = await Promise.all(refs.map((r) => r.call('soak.report', null)));
    const s = {
      t: Number(elapsed().toFixed(2)),
      heapUsed: mem.heapUsed,
      external: mem.external,
      arrayBuffers: mem.arrayBuffers,
      rss: mem.rss,
      wasm: stats.map((x) => x.memory),
      blobs: stats.reduce((a, x) => a + x.blobs, 0),
      loansOut: stats.reduce((a, x) => a + x.loans.out, 0),
      ports: stats.reduce((a, x) => a + (x.ports ?? 0), 0),
      pendingCalls: stats.reduce((a, x) => a + (x.pendingCalls ?? 0), 0) + sys._pending.size,
      mailbox: stats.reduce((a, x) => a + x.mailbox, 0),
      messages: reports.reduce((a, x) => a + x.msgsRecv, 0) + hostN.msgsRecv,
      bytes: reports.reduce((a, x) => a + x.bytesRecv, 0) + hostN.bytesRecv,
    };
    samples.push(s);
    return s;
  };

  let last = { t: 0, bytes: 0 };
  const progress = (s) => {
    if (o.quiet) return;
    const rate = (s.bytes - last.bytes) / MB / Math.max(0.001, s.t - last.t);
    last = s;
    log(
      `[${s.t.toFixed(0).padStart(4)} s] ${String(s.messages).padStart(9)} msgs ${fmtBytes(s.bytes).padStart(10)} ` +
        `${rate.toFixed(1).padStart(6)} MB/s  heap ${fmtMB(s.heapUsed)} ext ${fmtMB(s.external)} rss ${fmtMB(s.rss)} ` +
        `wasm ${fmtMB(Math.max(...s.wasm))} max  blobs ${s.blobs} pending ${s.pendingCalls}`,
    );
  };

  await sample();
  while (elapsed() < o.seconds) {
    await new Promise((r) => setTimeout(r, Math.min(o.sample, o.seconds - elapsed()) * 1000));
    progress(await sample());
  }
  const runSeconds = elapsed();

  // Stop: the JS sides finish their calls, then each actor stops sending,
  // waits for its calls' replies and its loans, and reports.
  const remoteEnd = remote ? remoteMsg() : null;
  remote?.postMessage({ stop: true });
  const remoteResult = remote ? await remoteEnd : null;
  await hostTraffic.stop();
  await Promise.all(refs.map((r) => r.call('soak.quiesce', null, { timeout: 120000 })));
  const reports = await Promise.all(refs.map((r) => r.call('soak.report', null)));
  const settled = await sample();
  await remote?.terminate();

  const sent = [];
  const recv = [];
  reports.forEach((rep, i) => {
    for (const [to, count] of rep.sent) sent.push({ from: ids[i], to, count });
    for (const p of rep.recv) recv.push({ ...p, to: ids[i] });
  });
  sent.push(...hostTraffic.sent());
  if (remoteResult) sent.push(...remoteResult.sent);
  for (const p of hostRx.report()) recv.push({ ...p, to: 0 });
  const order = judge(sent, recv);

  // Every call exactly one reply: C callers count their replies by corr
  // (a second or unknown one is counted too), JS callers by promise.
  const sum = (f) => reports.reduce((a, x) => a + x[f], 0);
  const jsSides = [hostTraffic.n, ...(remoteResult ? [remoteResult.n] : [])];
  const jsSum = (f) => jsSides.reduce((a, x) => a + x[f], 0);
  const calls = {
    c: { made: sum('calls'), replies: sum('replies'), errors: sum('callErrors'), unknownReplies: sum('unknownReplies'), pending: sum('pending') },
    js: { made: jsSum('calls'), replies: jsSum('replies'), errors: jsSum('callErrors'), badReplies: jsSum('badReplies') },
    answered: { byActors: sum('callsAnswered'), byHost: hostN.callsAnswered },
    lends: { asked: jsSum('lends'), checked: jsSum('lendsChecked'), bad: jsSum('lendsBad'), released: jsSum('released') },
  };
  calls.ok =
    calls.c.made === calls.c.replies && calls.c.errors === 0 && calls.c.unknownReplies === 0 && calls.c.pending === 0 &&
    calls.js.made === calls.js.replies && calls.js.errors === 0 && calls.js.badReplies === 0 &&
    calls.lends.asked === calls.lends.checked && calls.lends.bad === 0 &&
    calls.answered.byActors + calls.answered.byHost === calls.c.made + calls.js.made;
  const loans = {
    lent: sum('loansLent'), home: sum('loansHome'), lost: sum('loansLost'), out: sum('loansOut'),
    releasedByHost: hostN.released + calls.lends.released,
  };
  loans.ok = loans.lent === loans.home && loans.lost === 0 && loans.out === 0;
  const errors = {
    send: sum('sendErrors'), decode: sum('decodeErrors'), other: sum('otherErrors'),
    host: hostN.errors, js: jsSides.flatMap((n) => n.errors),
  };
  errors.ok = !errors.send && !errors.decode && !errors.other && !errors.host.length && !errors.js.length;

  const limits = limitsFor(o.seconds);
  const series = {};
  for (const k of ['heapUsed', 'external', 'arrayBuffers', 'rss', 'blobs', 'loansOut', 'ports', 'pendingCalls', 'mailbox']) {
    series[k] = { ...limits[k], get: (s) => s[k] };
  }
  series.wasmTotal = { ...limits.wasmTotal, get: (s) => s.wasm.reduce((a, b) => a + b, 0) };
  const running = samples.slice(0, -1); // the settled sample is not part of the run
  const sl = slopes(running, series, o.warmup);
  // Per actor: the steepest wasm memory.
  const perActor = refs.map((_, i) => slopes(running, { w: { ...limits.wasmMax, get: (s) => s.wasm[i] } }, o.warmup).w);
  sl.wasmMax = perActor.reduce((a, b) => (b.perMinute > a.perMinute ? b : a));
  // rss is the whole process: every worker's heap and the allocator's
  // per-thread arenas, which keep growing towards their peak for the
  // first minutes. Judged in runs of 5 minutes or more, reported always.
  if (o.seconds < 300) sl.rss.judged = false;
  const flat = Object.values(sl).every((x) => x.judged === false || x.flat);

  const totals = {
    seconds: Number(runSeconds.toFixed(1)),
    actors: o.actors,
    messages: sum('msgsRecv') + hostN.msgsRecv,
    bytes: sum('bytesRecv') + hostN.bytesRecv,
    messagesSent: sum('msgsSent') + jsSum('msgsSent'),
    bytesSent: sum('bytesSent') + jsSum('bytesSent'),
    calls: calls.c.made + calls.js.made + calls.lends.asked,
    pairs: order.totals.pairs,
  };
  // What travelled how (as received): a bytes field copied through wasm
  // memory, a moved blob, a loan; and how many were of 20 MB.
  totals.received = {
    bytesField: sum('recvBytesField') + hostN.byMode[0],
    blob: sum('recvBlob') + hostN.byMode[1],
    loan: sum('recvLoan') + hostN.byMode[2],
    of20MB: sum('recvBig') + hostN.big,
    minSize: Math.min(hostN.minSize, ...reports.map((x) => x.minSize)),
    maxSize: Math.max(hostN.maxSize, ...reports.map((x) => x.maxSize)),
  };
  totals.mbPerSecond = Number((totals.bytes / MB / runSeconds).toFixed(1));
  totals.messagesPerSecond = Math.round(totals.messages / runSeconds);

  // Once quiet, nothing may be left: no blob held, no loan out, no call
  // waiting, no message in a mailbox, one port per pair.
  const actorSet = new Set(ids);
  const linked = new Set(sent.filter((p) => p.count > 0 && actorSet.has(p.from) && actorSet.has(p.to)).map((p) => `${Math.min(p.from, p.to)}-${Math.max(p.from, p.to)}`));
  const portsWanted = 2 * linked.size + Math.min(o.remote, o.actors);
  const settledOk = settled.blobs === 0 && settled.loansOut === 0 && settled.pendingCalls === 0 && settled.mailbox === 0 &&
    settled.ports === portsWanted;
  const ok = order.totals.ok && calls.ok && loans.ok && errors.ok && flat && settledOk && totals.messagesSent === totals.messages;
  const result = {
    ok,
    options: { ...o, json: undefined },
    env: { node: process.version, platform: `${process.platform} ${process.arch}`, gc: Boolean(globalThis.gc), date: new Date().toISOString() },
    totals,
    order: order.totals,
    calls,
    loans,
    errors,
    slopes: sl,
    settled: { ...settled, portsWanted, ok: settledOk },
    pairs: order.pairs,
    samples: running,
  };
  await sys.shutdown();
  return result;
}

export function summary(r) {
  const lines = [];
  const t = r.totals;
  lines.push(`soak ${r.ok ? 'ok' : 'FAILED'}: ${t.actors} actors, ${t.seconds} s, ${t.messages} messages (${fmtBytes(t.bytes)}, ${t.mbPerSecond} MB/s), ${t.calls} calls, ${t.pairs} pairs`);
  const rc = t.received;
  lines.push(`  received: ${rc.bytesField} as bytes fields, ${rc.blob} as blobs, ${rc.loan} as loans; ${rc.minSize} B to ${fmtMB(rc.maxSize)}, ${rc.of20MB} of 20 MB`);
  const o = r.order;
  lines.push(`  order: sent ${o.sent}, delivered ${o.delivered}, lost ${o.lost}, duplicated ${o.duplicated}, reordered ${o.reordered}, corrupted ${o.corrupted}`);
  lines.push(`  calls: C ${r.calls.c.made} made / ${r.calls.c.replies} replies / ${r.calls.c.errors} errors; JS ${r.calls.js.made} / ${r.calls.js.replies} / ${r.calls.js.errors}; loans to JS ${r.calls.lends.asked} / ${r.calls.lends.checked} checked`);
  lines.push(`  loans: lent ${r.loans.lent}, home ${r.loans.home}, lost ${r.loans.lost}, out ${r.loans.out}`);
  if (!r.errors.ok) lines.push(`  errors: ${JSON.stringify(r.errors)}`);
  const st = r.settled;
  lines.push(`  settled: blobs ${st.blobs}, loans out ${st.loansOut}, pending calls ${st.pendingCalls}, mailboxes ${st.mailbox}, ports ${st.ports} (${st.portsWanted} wanted) ${st.ok ? 'ok' : 'LEFT OVER'}`);
  for (const [k, s] of Object.entries(r.slopes)) {
    const v = s.unit === 'bytes' ? `${(s.perMinute / MB).toFixed(3)} MB/min (limit ${(s.limit / MB).toFixed(0)})` : `${s.perMinute.toFixed(3)} ${s.unit}/min (limit ${s.limit})`;
    const verdict = s.judged === false ? `${s.flat ? 'flat' : 'grows'} (not judged: runs under 5 min)` : s.flat ? 'flat' : 'GROWS';
    lines.push(`  slope ${k.padEnd(13)} ${v} ${verdict}`);
  }
  return lines.join('\n');
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`soak: ${e.message}`);
    process.exit(2);
  }
  if (!globalThis.gc) console.error('soak: run node with --expose-gc for steady heap samples (npm run soak does)');
  const r = await runSoak(o);
  console.log(summary(r));
  if (o.json) {
    fs.mkdirSync(path.dirname(path.resolve(o.json)), { recursive: true });
    fs.writeFileSync(o.json, JSON.stringify(r, null, 1) + '\n');
  }
  process.exit(r.ok ? 0 : 1);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(`soak: ${e.stack || e}`);
    process.exit(1);
  });
}
