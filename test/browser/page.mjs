// page.mjs - browser scenarios for ferry, run in a real page.
//
// Each scenario checks its own results (throwing an Error that says what
// differed) and adds a row to the results table. test/js/browser.test.mjs
// calls them one by one with
//   await page.evaluate((name) => window.ferryTests.run(name), name)
// which resolves with { name, ok, ms, value?, error?, stack?, step? } and
// never rejects. `value` is made JSON-safe by `plain()`: bytes become
// {$bytes: [...]}, bigints {$bigint: "..."}.
//
// Opened by hand (node test/browser/server.mjs, then
// /test/browser/page.html?run=all) the page runs every scenario itself.
import { System, transfer, release, recycle, isBorrowed, FerryError } from '/glue/index.mjs';

const WASM = '/build/wasm/';
const SCENARIO_TIMEOUT = 15000;

const systems = {}; // name -> System
const rows = document.getElementById('results');
const statusLine = document.getElementById('status');

// ------------------------------------------------------------- helpers

/** A JSON-safe, comparable picture of a value. */
export function plain(v) {
  if (typeof v === 'bigint') return { $bigint: v.toString() };
  if (v instanceof Uint8Array) return { $bytes: Array.from(v) };
  if (v instanceof ArrayBuffer) return { $arraybuffer: v.byteLength };
  if (ArrayBuffer.isView(v)) return { $view: v.constructor.name, bytes: Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
  if (typeof v === 'number' && !Number.isFinite(v)) return { $number: String(v) };
  if (v === undefined) return { $undefined: true };
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    if (v instanceof Error) return { $error: v.name, code: v.code, message: v.message };
    const o = {};
    for (const k of Object.keys(v)) o[k] = plain(v[k]);
    return o;
  }
  return v;
}

const show = (v) => JSON.stringify(plain(v));

function check(cond, message) {
  if (!cond) throw new Error(message);
}

function same(actual, expected, what) {
  const a = show(actual);
  const e = show(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

async function rejection(p, what) {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error(`${what}: expected the promise to reject, but it resolved`);
}

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}

function needSystem(name) {
  const sys = systems[name];
  if (!sys) throw new Error(`the "${name}" System is not running (did the "start" scenario fail?)`);
  return sys;
}

// --------------------------------------------------------- scenarios

const scenarios = {};
let step = '';

// Compiles the three modules: a path string, a URL and a string again.
scenarios.start = async () => {
  step = 'System.start(test-actors.wasm) from a path string';
  systems.test = await System.start({ module: `${WASM}test-actors.wasm` });
  step = 'System.start(echo.wasm) from a URL';
  systems.echo = await System.start({ module: new URL(`${WASM}echo.wasm`, location.href) });
  step = 'System.start(pingpong.wasm) from a fetch Response';
  systems.pingpong = await System.start({ module: await fetch(`${WASM}pingpong.wasm`) });
  step = 'System.start(missing.wasm) must fail';
  const e = await rejection(System.start({ module: `${WASM}missing.wasm` }), 'System.start of a missing module');
  check(e instanceof FerryError && e.code === 'EINVAL' && e.message.includes('cannot load /build/wasm/missing.wasm: HTTP 404'),
    `a missing module should reject with EINVAL and "cannot load /build/wasm/missing.wasm: HTTP 404", got ${e.code}: ${e.message}`);
  return {
    detail: 'test-actors, echo, pingpong compiled; missing.wasm -> EINVAL',
    value: { missing: { code: e.code, message: e.message } },
  };
};

// The echo example: values of every kind come back as they went.
scenarios.echo = async () => {
  const sys = needSystem('echo');
  step = 'spawn echo';
  const echo = await sys.spawn('echo');
  const value = {
    text: 'héllo wörld ✓ 🚢',
    n: 5,
    neg: -70000,
    float: 2.5,
    list: [1, 2.5, 'x', null, true, false],
    nested: { a: { b: { c: [1, { d: 'deep', e: [[], {}] }] } } },
    big: 2n ** 60n,
    negBig: -(2n ** 63n),
    bytes: new Uint8Array([0, 1, 2, 127, 128, 253, 254, 255]),
    empty: '',
  };
  step = 'echo.call("get", value)';
  const r = await echo.call('get', value, { timeout: 5000 });
  check(r.bytes instanceof Uint8Array, `reply.bytes should be a Uint8Array, got ${Object.prototype.toString.call(r.bytes)}`);
  check(typeof r.big === 'bigint', `reply.big should be a bigint, got ${typeof r.big}`);
  same(r, value, 'echo reply');
  step = 'echo.call with scalars';
  const scalars = ['a string', 0, -1, 1e300, null, true, 2 ** 53, [], {}];
  const back = [];
  for (const s of scalars) back.push(await echo.call('x', s, { timeout: 5000 }));
  same(back, scalars, 'echo of scalars');
  step = 'echo.stop()';
  const reason = await withTimeout(echo.stop(), 5000, 'echo.stop()');
  check(reason.normal === true && echo.alive === false, `echo.stop() should end it normally, got ${show(reason)}`);
  return { detail: `${Object.keys(value).length} fields and ${scalars.length} scalars round-tripped`, value: r };
};

// The pingpong example: two C actors call each other over their own
// MessageChannel; the page only starts and ends the run.
scenarios.pingpong = async () => {
  const sys = needSystem('pingpong');
  step = 'spawn pong and ping';
  const [pong, ping] = await Promise.all([sys.spawn('pong'), sys.spawn('ping')]);
  const n = 200;
  step = `ping.call("run", {peer, n: ${n}})`;
  const t0 = performance.now();
  const r = await ping.call('run', { peer: pong.id, n }, { timeout: 10000 });
  const ms = performance.now() - t0;
  same(r, { rounds: n }, 'ping-pong result');
  step = 'a bad request is an error naming the field';
  const e = await rejection(ping.call('run', { peer: pong.id }), 'run without n');
  check(e instanceof FerryError && e.code === 'EMISSING', `run without n should fail with EMISSING, got ${e.code}: ${e.message}`);
  step = 'stop both';
  await Promise.all([ping.stop(), pong.stop()]);
  return {
    detail: `${n} C→C round trips in ${ms.toFixed(1)} ms (${((ms * 1000) / n).toFixed(1)} µs each)`,
    value: { result: r, rounds: n, usPerRound: (ms * 1000) / n, missingN: { code: e.code, message: e.message } },
  };
};

// A blob goes to the echo actor and back, moved both ways: the sender's
// buffer is detached and the bytes never enter wasm memory.
scenarios.blob = async () => {
  const sys = needSystem('echo');
  step = 'spawn echo';
  const echo = await sys.spawn('echo');
  const n = 4 << 20;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i += 4096) data[i] = (i >> 12) & 255;
  data[n - 1] = 0xee;
  const buf = data.buffer;
  step = 'stats before';
  const before = await echo.stats();
  step = 'echo.call("put", {data: transfer(data)})';
  const r = await echo.call('put', { name: 'b', data: transfer(data) }, { timeout: 5000 });
  check(buf.detached === true && buf.byteLength === 0 && data.byteLength === 0,
    `the sent buffer should be detached (moved, not copied): detached=${buf.detached}, byteLength=${buf.byteLength}`);
  check(r.name === 'b', `reply.name should be "b", got ${show(r.name)}`);
  check(r.data instanceof Uint8Array, `reply.data should be a Uint8Array, got ${Object.prototype.toString.call(r.data)}`);
  check(r.data.length === n, `reply.data should have ${n} bytes, got ${r.data.length}`);
  let bad = -1;
  for (let i = 0; i < n && bad < 0; i += 4096) if (r.data[i] !== ((i >> 12) & 255)) bad = i;
  check(bad < 0 && r.data[n - 1] === 0xee, `reply.data differs from what was sent at byte ${bad < 0 ? n - 1 : bad}`);
  step = 'stats after';
  const after = await echo.stats();
  const copied = after.bytesIn + after.bytesOut - before.bytesIn - before.bytesOut;
  check(copied < 1024, `only the envelope should cross wasm memory, but ${copied} bytes did`);
  step = 'transfer() of a detached buffer';
  let again = null;
  try {
    transfer(buf);
  } catch (e) {
    again = e;
  }
  check(again instanceof FerryError && again.code === 'EINVAL', `transfer() of a detached buffer should throw a FerryError EINVAL, got ${again}`);
  step = 'echo.stop()';
  await echo.stop();
  return {
    detail: `${n >> 20} MiB there and back; sender detached; ${copied} bytes crossed wasm memory`,
    value: { detached: buf.detached, byteLength: buf.byteLength, replyLength: r.data.length, copied, again: again.message },
  };
};

// A trap stops that actor only: its caller gets EDOWN, `down` resolves
// with the reason, other actors keep answering.
scenarios.crash = async () => {
  const sys = needSystem('test');
  step = 'spawn crash and echo';
  const [crash, other] = await Promise.all([sys.spawn('crash'), sys.spawn('echo')]);
  step = 'crash.call("ok")';
  same(await crash.call('ok', 1, { timeout: 5000 }), { rc: 0 }, 'crash actor before the trap');
  step = 'crash.call("trap")';
  const e = await withTimeout(rejection(crash.call('trap'), 'crash.call("trap")'), 5000, 'crash.call("trap")');
  check(e instanceof FerryError, `the rejection should be a FerryError, got ${e?.constructor?.name}: ${e?.message}`);
  check(e.code === 'EDOWN', `the rejection should have code EDOWN, got ${e.code}: ${e.message}`);
  step = 'await crash.down';
  const reason = await withTimeout(crash.down, 5000, 'crash.down');
  check(reason.code === 'EDOWN' && reason.name === 'Trap' && reason.actor === crash.id,
    `down should resolve with {code: EDOWN, name: Trap, actor: ${crash.id}}, got ${show(reason)}`);
  check(/unreachable/.test(reason.message), `the reason should say "unreachable", got ${reason.message}`);
  check(crash.alive === false, 'crash.alive should be false');
  step = 'call after the crash';
  const after = await rejection(crash.call('ok'), 'a call to the crashed actor');
  check(after.code === 'EDOWN', `a later call should fail with EDOWN, got ${after.code}`);
  step = 'another actor still answers';
  same(await other.call('still', 'here', { timeout: 5000 }), 'here', 'the other actor');
  await other.stop();
  return {
    detail: `call → ${e.code}; down: ${reason.name}: ${reason.message}`,
    value: { error: { code: e.code, message: e.message, isFerryError: true }, reason: { code: reason.code, name: reason.name, message: reason.message } },
  };
};

// Struct decoding in C: a value that does not fit its field is an error
// reply naming the path; the actor keeps serving.
scenarios.structs = async () => {
  const sys = needSystem('test');
  step = 'spawn structs';
  const s = await sys.spawn('structs');
  const order = { id: 77, customer: 'ann', items: [{ sku: 1, qty: 2, gift: false }, { sku: 2, qty: 5, gift: true }] };
  step = 'a good order';
  same(await s.call('total', order, { timeout: 5000 }), { order_id: 77, items: 2, qty: 7 }, 'total of a good order');
  step = 'qty 300 in a uint8 field';
  const e = await rejection(s.call('total', { ...order, items: [{ sku: 1, qty: 300, gift: false }] }), 'qty 300');
  check(e instanceof FerryError, `the rejection should be a FerryError, got ${e?.constructor?.name}`);
  check(e.code === 'ERANGE', `the code should be ERANGE, got ${e.code}`);
  check(e.message === 'order.items[0].qty: 300 does not fit uint8', `wrong message: ${JSON.stringify(e.message)}`);
  step = 'still serving';
  same(await s.call('total', order, { timeout: 5000 }), { order_id: 77, items: 2, qty: 7 }, 'total after the error');
  await s.stop();
  return { detail: `${e.code}: ${e.message}`, value: { code: e.code, message: e.message } };
};

// A transferred buffer is detached when call() returns, not at the flush:
// nothing written afterwards can travel. Bad values are EINVAL with a path.
scenarios.detach = async () => {
  const sys = needSystem('test');
  step = 'spawn echo';
  const echo = await sys.spawn('echo');
  const buf = new Uint8Array(4096).fill(1);
  step = 'call with transfer(buf)';
  const p = echo.call('blob', { data: transfer(buf) });
  const detachedAtReturn = buf.byteLength === 0;
  check(detachedAtReturn, 'the buffer should be detached when call() returns');
  const r = await p;
  check(r.data.length === 4096 && r.data.every((b) => b === 1), 'the blob should come back with the bytes it had when sent');
  step = 'a function in a value';
  let bad = null;
  try {
    echo.send('x', { items: [0, { fn() {} }] });
  } catch (e) {
    bad = e;
  }
  check(bad instanceof FerryError && bad.code === 'EINVAL' && bad.message === 'value.items[1].fn: functions cannot be sent',
    `a function should be EINVAL naming its path, got ${bad}`);
  await echo.stop();
  return { detail: 'detached at call(); function -> EINVAL with path', value: { detachedAtReturn, bad: bad.message } };
};

// A C actor lends a 2 MiB blob built in place; the page reads it, the
// owner sees it out, release() brings it home.
scenarios.loan = async () => {
  const sys = needSystem('test');
  step = 'spawn lender, make 2 MiB in place';
  const lender = await sys.spawn('lender');
  const made = await lender.call('make', { size: 2 << 20 });
  check(made.rc === 0 && made.a === 2 << 20, `make should build 2 MiB, got ${show(made)}`);
  step = 'get (a loan)';
  const r = await lender.call('get');
  check(isBorrowed(r.data), 'the reply should hold a borrowed buffer');
  const byte1 = r.data[1];
  const out = await lender.call('state');
  check(out.rc === 2, `the owner should see the blob LENT (2), got ${out.rc}`);
  step = 'release';
  release(r.data);
  let st;
  do st = await lender.call('state'); while (st.a === 0);
  check(st.rc === 1, `the blob should be HOME (1) again, got ${st.rc}`);
  const stats = await lender.stats();
  await lender.stop();
  return { detail: 'lent, read, released, home', value: { byte1, lent: out.rc, home: st.rc, copies: stats.copies.blobDup } };
};

// A C actor's non-blocking calls to the page's handler, answered while it
// keeps serving pings; a monitor hears a trap.
scenarios.async = async () => {
  const sys = needSystem('test');
  const held = [];
  sys.handle('x', (v) => new Promise((resolve) => held.push(() => resolve(v))));
  step = 'fan out 3 async calls to the page';
  const asker = await sys.spawn('asker');
  const fan = asker.call('fan', { to: 0, n: 3 });
  while (held.length < 3) await asker.call('ping');
  for (const f of held) f();
  const r = await fan;
  check(r.rc === 0 && r.a === 3, `all three should be answered, got ${show(r)}`);
  step = 'monitor a trap';
  const watcher = await sys.spawn('watcher');
  const crash = await sys.spawn('crash');
  await watcher.call('watch', { to: crash.id });
  crash.send('trap', null);
  await crash.down;
  let last;
  do last = await watcher.call('last'); while (last.a === 0);
  check(last.b === crash.id && last.text.startsWith('Trap: '), `the watcher should hear the trap, got ${show(last)}`);
  await Promise.all([asker.stop(), watcher.stop()]);
  return { detail: '3 async replies; monitor heard the trap', value: { answered: r.a, pings: r.e, heard: last.text.split(':')[0] } };
};

// spawn waits for init (an actor that returns in init rejects it), and a
// send to an actor that never existed comes back with its blob.
scenarios.reports = async () => {
  const sys = needSystem('test');
  step = 'spawn picky with a bad init';
  const e = await rejection(sys.spawn('picky', { init: 0 }), 'spawn of an actor that returns in its init');
  check(e.code === 'EDOWN' && /returned 2/.test(e.message), `spawn should reject EDOWN "returned 2", got ${e.code}: ${e.message}`);
  step = 'asker posts a blob to actor 99999';
  const asker = await sys.spawn('asker');
  const r = await asker.call('post', { to: 99999, size: 1000 });
  check(r.rc === -16 && r.c === 1 && r.d === 1000 && r.text === 'hello', `the report should name it and give the blob back, got ${show(r)}`);
  await asker.stop();
  return { detail: 'init failure rejects spawn; undelivered send reported with its blob', value: { spawn: e.code, report: r } };
};

// A memory cap: under maxMemory 32 MiB malloc returns NULL and the actor
// keeps serving; one that traps after running out is down with ENOMEM,
// and the page and the other actors are untouched.
scenarios.memcap = async () => {
  const sys = needSystem('test');
  const MiB = 1024 * 1024;
  step = 'spawn hog (maxMemory 32 MiB) and echo';
  const [hog, other] = await Promise.all([sys.spawn('hog', { maxMemory: 32 * MiB }), sys.spawn('echo')]);
  step = 'hog.call("eat")';
  const r = await withTimeout(hog.call('eat', MiB), 10000, 'hog.call("eat")');
  check(r.got > 8 * MiB && r.got <= 32 * MiB, `hog should get more than 8 MiB and at most 32 MiB, got ${r.got}`);
  const st = await hog.stats();
  check(st.memory <= 32 * MiB && st.maxMemory === 32 * MiB, `memory ${st.memory} should be within maxMemory ${st.maxMemory} = 32 MiB`);
  same(await hog.call('echo', 'still'), 'still', 'the hog after malloc returned NULL');
  step = 'a bad maxMemory';
  const bad = await rejection(sys.spawn('hog', { maxMemory: -1 }), 'spawn with maxMemory -1');
  check(bad instanceof FerryError && bad.code === 'EINVAL', `maxMemory -1 should be EINVAL, got ${bad.code}: ${bad.message}`);
  step = 'hog.call("eat_trap")';
  const e = await withTimeout(rejection(hog.call('eat_trap'), 'hog.call("eat_trap")'), 10000, 'hog.call("eat_trap")');
  check(e.code === 'EDOWN', `the call should fail with EDOWN, got ${e.code}: ${e.message}`);
  const reason = await withTimeout(hog.down, 5000, 'hog.down');
  check(reason.code === 'ENOMEM', `down should have code ENOMEM, got ${show(reason)}`);
  step = 'another actor still answers';
  same(await other.call('still', 'here', { timeout: 5000 }), 'here', 'the other actor');
  await other.stop();
  return {
    detail: `got ${(r.got / MiB).toFixed(0)} MiB of 32; memory ${(st.memory / MiB).toFixed(2)} MiB; then down: ${reason.code} (${reason.name})`,
    value: { got: r.got, memory: st.memory, maxMemory: st.maxMemory, reason: { code: reason.code, name: reason.name } },
  };
};

// recycle(): a loop of 4 MiB bytes round trips that gives each reply's
// buffer back. The next request is written into it, the bytes stay right,
// the old views are detached at once, and recycling one twice is EINVAL.
scenarios.recycle = async () => {
  const sys = needSystem('test');
  step = 'spawn blobs';
  const blobs = await sys.spawn('blobs');
  const n = 4 << 20;
  const rounds = 6;
  const before = (await blobs.stats()).recycle;
  let last = null;
  let detached = true;
  for (let i = 0; i < rounds; i++) {
    step = `round trip ${i}`;
    // Every byte differs from the last round's: a stale one would show.
    const data = new Uint8Array(n).fill(i + 1);
    for (let j = 0; j < n; j += 4093) data[j] = (j * 7 + i) & 255;
    const r = await blobs.call('bytes', { data }, { timeout: 10000 });
    check(r.data.length === n, `round trip ${i}: the reply should hold ${n} bytes, got ${r.data.length}`);
    let bad = -1;
    for (let j = 0; j < n && bad < 0; j++) if (r.data[j] !== data[j]) bad = j;
    check(bad < 0, `round trip ${i}: the reply differs from what was sent at byte ${bad}`);
    recycle(r.data);
    detached = detached && r.data.length === 0 && r.data.buffer.byteLength === 0;
    last = r.data;
  }
  check(detached, 'every recycled reply should be detached at once');
  const after = (await blobs.stats()).recycle;
  const reused = after.reused - before.reused;
  // The first request finds the pool empty; one that grew by a byte (its
  // corr) may find only a smaller buffer.
  check(after.recycled - before.recycled === rounds && reused >= rounds - 2,
    `${rounds} buffers should be recycled and at least ${rounds - 2} requests written into them, got ${show(before)} -> ${show(after)}`);
  step = 'recycle() of a detached buffer';
  let again = null;
  try {
    recycle(last);
  } catch (e) {
    again = e;
  }
  check(again instanceof FerryError && again.code === 'EINVAL', `recycling a detached buffer should throw a FerryError EINVAL, got ${again}`);
  await blobs.stop();
  return {
    detail: `${rounds} × ${n >> 20} MiB round trips; ${reused} requests written into recycled buffers; old views detached`,
    value: { rounds, reusedEnough: reused >= rounds - 2, detached, again: again.code },
  };
};

// Every System shuts down; nothing can be spawned afterwards.
scenarios.shutdown = async () => {
  const names = Object.keys(systems);
  for (const name of names) {
    step = `shutdown of the ${name} System`;
    const sys = systems[name];
    await withTimeout(sys.shutdown(), 5000, `${name}.shutdown()`);
    const e = await rejection(sys.spawn('echo'), 'spawn after shutdown');
    check(e.code === 'ECLOSED', `spawn after shutdown should fail with ECLOSED, got ${e.code}`);
    delete systems[name];
  }
  return { detail: `${names.length} Systems shut down`, value: { systems: names } };
};

// ---------------------------------------------------------------- runner

function addRow(name) {
  const tr = document.createElement('tr');
  tr.className = 'running';
  tr.innerHTML = '<td></td><td class="result">running…</td><td class="ms"></td><td class="detail"></td>';
  tr.cells[0].textContent = name;
  rows.appendChild(tr);
  return tr;
}

async function run(name) {
  const fn = scenarios[name];
  if (!fn) return { name, ok: false, error: `no scenario "${name}" (have: ${Object.keys(scenarios).join(', ')})` };
  const tr = addRow(name);
  statusLine.textContent = `running ${name}…`;
  step = '';
  const t0 = performance.now();
  let out;
  try {
    const r = await withTimeout(Promise.resolve().then(fn), SCENARIO_TIMEOUT, `scenario "${name}"`);
    out = { name, ok: true, ms: performance.now() - t0, detail: r.detail, value: plain(r.value) };
  } catch (e) {
    out = {
      name, ok: false, ms: performance.now() - t0, step,
      error: `${e?.name || 'Error'}${e?.code ? ` ${e.code}` : ''}: ${e?.message ?? e}`,
      stack: e?.stack,
    };
  }
  tr.className = out.ok ? 'pass' : 'fail';
  tr.cells[1].textContent = out.ok ? '✓ pass' : '✗ fail';
  tr.cells[2].textContent = out.ms.toFixed(1);
  tr.cells[3].textContent = out.ok ? out.detail : `${out.error}${out.step ? ` (at: ${out.step})` : ''}`;
  const done = rows.querySelectorAll('tr.pass, tr.fail').length;
  const failed = rows.querySelectorAll('tr.fail').length;
  statusLine.textContent = `${done} scenario${done === 1 ? '' : 's'} run, ${failed} failed — ${navigator.userAgent.match(/(HeadlessChrome|Chrome|Firefox)\/[\d.]+/)?.[0] ?? ''}`;
  return out;
}

async function runAll() {
  const results = [];
  for (const name of Object.keys(scenarios)) results.push(await run(name));
  return results;
}

window.ferryTests = { names: Object.keys(scenarios), run, runAll, plain };
statusLine.textContent = 'ready';
// ?run=all runs every scenario; with &report=URL (test/browser/firefox.mjs
// adds it) the results are POSTed there, which is how Firefox ESR, which
// playwright cannot drive, reports back.
const query = new URLSearchParams(location.search);
if (query.get('run') === 'all') {
  runAll().then((results) => {
    const to = query.get('report');
    if (to) fetch(to, { method: 'POST', body: JSON.stringify({ userAgent: navigator.userAgent, results }) });
  });
}
