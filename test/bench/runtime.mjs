// runtime.mjs - providers of the runtime rows for test/bench/run.mjs:
// rt16.*, rt20m.*, stream16.*, spawn8_vs_js, with the suffix .node
// (measured in this Node process; the latency rows and the stream as
// .node.1cpu and .node.2cpu, threads pinned), .chromium (headless Chromium
// driven by playwright-core) and .firefox (headless firefox-esr,
// test/browser/firefox.mjs). The measurements themselves are in
// rt-cases.mjs, shared by all of them. Browsers run unpinned: a page
// cannot pin its workers, and the whole browser under taskset on one CPU
// was tried and dropped, being slower and no steadier (a 16 B call 137 us
// instead of 71 in Chromium, its ratio's interval as wide:
// docs/runs/browser-1cpu-quick.json).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const MODULE = 'build/wasm/test-actors.wasm';

// The row list without importing rt-cases.mjs (which starts the glue).
const BASE_IDS = [
  'rt16.call_vs_transfer', 'rt16.pingpong_vs_js', 'rt20m.bytes_vs_floor', 'rt20m.bytes_vs_clone',
  'rt20m.blob_vs_transfer', 'stream16.throughput_vs_raw', 'spawn8_vs_js', 'rt16m.partial_reuse',
];
// The round-trip latency rows: in Node each is measured twice, with host
// and actor threads pinned to one CPU and to two (placement.mjs).
const LATENCY_IDS = ['rt16.call_vs_transfer', 'rt16.pingpong_vs_js', 'rt20m.blob_vs_transfer'];
// In Node the stream row is pinned too: its raw baseline moved 2x between
// two unpinned runs (1.6 and 3.2 us per message) with the placement.
const NODE_PINNED_IDS = [...LATENCY_IDS, 'stream16.throughput_vs_raw'];
const PLACEMENTS = ['1cpu', '2cpu'];

const baseOf = (id) => BASE_IDS.find((b) => id.startsWith(`${b}.`));

// measured: base id -> { ferry, baseline, samples, detail } (rt-cases.mjs).
function toRows(wanted, measured, defs, ctx, extraDetail = {}) {
  return wanted.map((id) => {
    const base = baseOf(id);
    const def = defs.find((d) => d.id === base);
    const m = measured[base];
    const placed = m?.detail?.placement;
    const rowDef = {
      id,
      unit: def.unit,
      goal: def.goal,
      inverse: def.inverse ?? false,
      ...(placed ? { placement: placed.placement } : {}),
    };
    if (!m) return ctx.makeRow(rowDef, null, null, { error: 'not measured', ...extraDetail });
    if (placed?.placement === 'unpinned') ctx.log(`${id}: NOT pinned: ${placed.note}; measured unpinned`);
    return ctx.makeRow(rowDef, m.ferry, m.baseline, { ...m.detail, ...extraDetail }, m.samples);
  });
}

function needModule(ctx) {
  if (ctx.opts.build && fs.existsSync(path.join(ROOT, 'build/wasm/build.ninja'))) ctx.ninjaBuild('build/wasm', 'test-actors.wasm');
  if (!fs.existsSync(path.join(ROOT, MODULE))) throw new ctx.BenchError(`missing ${MODULE}: ${ctx.HOW_TO_BUILD}`);
}

// ---------------------------------------------------------------- Node

const NODE_ROWS = BASE_IDS.flatMap((id) => (NODE_PINNED_IDS.includes(id)
  ? PLACEMENTS.map((p) => `${id}.node.${p}`)
  : [`${id}.node`]));

export const nodeRuntimeProvider = {
  name: 'runtime.node',
  rows: NODE_ROWS,
  async run(wanted, ctx) {
    needModule(ctx);
    const { RT_ROWS } = await import('./rt-cases.mjs');
    const { runChild } = await import('./child.mjs');
    const rows = [];
    // One process per group of rows (child.mjs says why).
    for (const mode of [null, ...PLACEMENTS]) {
      const suffix = mode ? `.node.${mode}` : '.node';
      const these = wanted.filter((id) => id.endsWith(suffix));
      for (const group of groupsOf(these.map(baseOf))) {
        const ids = these.filter((id) => group.includes(baseOf(id)));
        try {
          const { results, cfg } = await runChild(path.join(HERE, 'rt-child.mjs'), [JSON.stringify({ rows: group, quick: ctx.opts.quick, mode })], ctx);
          ctx.env.builds['runtime.node'] ??= { module: MODULE, node: process.version, cfg };
          rows.push(...toRows(ids, results, RT_ROWS, ctx));
        } catch (e) {
          ctx.log(`node: ${e.message}; these rows are left empty`);
          rows.push(...toRows(ids, {}, RT_ROWS, ctx, { error: e.message }));
        }
      }
    }
    // In the order the provider lists them.
    return NODE_ROWS.filter((id) => wanted.includes(id)).map((id) => rows.find((r) => r.id === id));
  },
};

// ------------------------------------------------------------ Chromium

const CHROMIUM = process.env.FERRY_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const chromiumRuntimeProvider = {
  name: 'runtime.chromium',
  rows: BASE_IDS.map((id) => `${id}.chromium`),
  run: (wanted, ctx) => runChromium(wanted, ctx),
};

// The rows `wanted` in one headless Chromium, a page per group.
async function runChromium(wanted, ctx) {
  needModule(ctx);
  const { RT_ROWS } = await import('./rt-cases.mjs');
  const fail = (why) => {
    ctx.log(`chromium: ${why}; its rows are left empty`);
    return toRows(wanted, {}, RT_ROWS, ctx, { error: why });
  };
  if (!fs.existsSync(CHROMIUM)) return fail(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set FERRY_CHROMIUM)`);
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    return fail(`cannot load playwright-core (npm install): ${e.message}`);
  }
  const { startServer } = await import('./serve.mjs');
  const server = await startServer({ root: ROOT });
  let browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  } catch (e) {
    await server.close();
    return fail(`Chromium did not start: ${e.message.split('\n')[0]}`);
  }
  const results = {};
  const failed = {};
  try {
    for (const group of groupsOf(wanted.map(baseOf))) {
      const page = await browser.newPage();
      const errors = [];
      page.on('console', (m) => {
        const text = m.text();
        if (text.startsWith('bench: ')) ctx.log(`chromium: ${text.slice(7)}`);
        else if (m.type() === 'error') errors.push(text);
      });
      page.on('pageerror', (e) => errors.push(e.message));
      try {
        await page.goto(`${server.url}/test/bench/bench.html`);
        await page.waitForFunction(() => window.ferryBench !== undefined, null, { timeout: 30000 });
        const ready = await page.evaluate(() => window.ferryBench.error ?? null);
        if (ready) throw new Error(`bench page failed to load: ${ready}`);
        const limitMs = ctx.opts.quick ? 300_000 : 900_000;
        let timer;
        const out = await Promise.race([
          page.evaluate((opts) => window.ferryBench.run(opts), { rows: group, quick: ctx.opts.quick }),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`${group.join(', ')}: no result within ${limitMs / 1000} s`)), limitMs);
          }),
        ]).finally(() => clearTimeout(timer));
        if (out.error) throw new Error(`${out.error}${errors.length ? ` (page errors: ${errors.join('; ')})` : ''}`);
        ctx.env.builds['runtime.chromium'] ??= {
          module: MODULE, browser: `Chromium ${browser.version()}`, userAgent: out.userAgent,
          hardwareConcurrency: out.hardwareConcurrency, cfg: out.cfg, args: CHROMIUM_ARGS,
        };
        Object.assign(results, out.results);
      } catch (e) {
        const why = e.message.split('\n').slice(0, 3).join(' ');
        ctx.log(`chromium: ${why}; these rows are left empty`);
        for (const id of group) failed[id] = why;
      } finally {
        await page.close();
      }
    }
    return wanted.map((id) => (failed[baseOf(id)]
      ? toRows([id], {}, RT_ROWS, ctx, { error: failed[baseOf(id)] })[0]
      : toRows([id], results, RT_ROWS, ctx)[0]));
  } finally {
    await browser.close();
    await server.close();
  }
}

function groupsOf(bases) {
  const groups = [];
  for (const b of bases) {
    const shared = b.startsWith('rt20m.bytes_') && groups.find((g) => g[0].startsWith('rt20m.bytes_'));
    if (shared) shared.push(b);
    else groups.push([b]);
  }
  return groups;
}

// ------------------------------------------------------------- Firefox

// Firefox rounds performance.now() (to 1 ms, or 20 us "unconditionally")
// against timing attacks; a batch of 100 blob round trips of 20 us each
// would then read as 0 or 1 ms. The bench profile turns the rounding off;
// the page reports the clock tick it saw (env.builds.runtime.firefox).
export const FIREFOX_BENCH_PREFS = {
  'privacy.reduceTimerPrecision': false,
  'privacy.reduceTimerPrecision.unconditional': false,
};

// Debian's firefox-esr, which Playwright cannot drive: test/browser/firefox.mjs
// starts it headless on bench.html with ?run=ROWS, and the page POSTs
// what measure() returned to the report URL runInFirefox gave it.
export const firefoxRuntimeProvider = {
  name: 'runtime.firefox',
  rows: BASE_IDS.map((id) => `${id}.firefox`),
  run: (wanted, ctx) => runFirefox(wanted, ctx),
};

// The rows `wanted` in one headless firefox-esr, one page for all.
async function runFirefox(wanted, ctx) {
  needModule(ctx);
  const { RT_ROWS } = await import('./rt-cases.mjs');
  const { runInFirefox, FIREFOX } = await import('../browser/firefox.mjs');
  const fail = (why) => {
    ctx.log(`firefox: ${why}; its rows are left empty`);
    return toRows(wanted, {}, RT_ROWS, ctx, { error: why });
  };
  if (!fs.existsSync(FIREFOX)) return fail(`no Firefox at ${FIREFOX} (./configure installs firefox-esr, or set FERRY_FIREFOX)`);
  const { startServer } = await import('./serve.mjs');
  const server = await startServer({ root: ROOT });
  // Firefox wants a writable HOME of its own (its profile is separate).
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-home-'));
  const savedHome = process.env.HOME;
  process.env.HOME = home;
  try {
    const base = wanted.map(baseOf);
    const url = `${server.url}/test/bench/bench.html?run=${encodeURIComponent(base.join(','))}${ctx.opts.quick ? '&quick=1' : ''}`;
    ctx.log(`firefox: ${base.length} row(s) in ${FIREFOX} --headless (no progress lines until it reports)`);
    const started = Date.now();
    const posted = await runInFirefox(url, { timeoutMs: ctx.opts.quick ? 600_000 : 1_800_000, prefs: FIREFOX_BENCH_PREFS });
    const out = posted?.value ?? posted;
    if (!out || out.error) throw new Error(out?.error ?? 'the page reported nothing');
    ctx.log(`firefox: done in ${Math.round((Date.now() - started) / 1000)} s`);
    for (const line of out.log ?? []) ctx.log(`firefox: ${line}`);
    ctx.env.builds['runtime.firefox'] = {
      module: MODULE, browser: out.userAgent, hardwareConcurrency: out.hardwareConcurrency, cfg: out.cfg,
      clockTickUs: out.clockTickUs, prefs: FIREFOX_BENCH_PREFS,
    };
    ctx.log(`firefox: performance.now() ticks by ${out.clockTickUs} us`);
    return toRows(wanted, out.results, RT_ROWS, ctx);
  } catch (e) {
    return fail(String(e.message).split('\n').slice(0, 3).join(' '));
  } finally {
    if (savedHome === undefined) delete process.env.HOME;
    else process.env.HOME = savedHome;
    fs.rmSync(home, { recursive: true, force: true });
    await server.close();
  }
}

export const runtimeProviders = [nodeRuntimeProvider, chromiumRuntimeProvider, firefoxRuntimeProvider];
