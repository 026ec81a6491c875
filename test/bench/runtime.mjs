// runtime.mjs - providers of the runtime rows for test/bench/run.mjs:
// rt16.*, rt20m.*, stream16.*, spawn8_vs_js, with the suffix .node
// (measured in this Node process; the latency rows and the stream as
// .node.1cpu and .node.2cpu, threads pinned), .chromium (headless Chromium
// driven by playwright-core) and .firefox (headless firefox-esr,
// test/browser/firefox.mjs); the latency rows also as .chromium.1cpu and
// .firefox.1cpu, the whole browser on one CPU (pin-browser.mjs). The
// measurements themselves are in rt-cases.mjs, shared by all of them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinnedExecutable } from './pin-browser.mjs';

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
    const placed = extraDetail.placement ?? m?.detail?.placement;
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
    const { measure, RT_ROWS } = await import('./rt-cases.mjs');
    const { makePlacement } = await import('./placement.mjs');
    const rows = [];
    const plain = wanted.filter((id) => id.endsWith('.node'));
    if (plain.length) {
      const { results, cfg } = await measure({ rows: plain.map(baseOf), quick: ctx.opts.quick, log: (s) => ctx.log(`node: ${s}`) });
      ctx.env.builds['runtime.node'] = { module: MODULE, node: process.version, cfg };
      rows.push(...toRows(plain, results, RT_ROWS, ctx));
    }
    for (const mode of PLACEMENTS) {
      const these = wanted.filter((id) => id.endsWith(`.node.${mode}`));
      if (!these.length) continue;
      const place = makePlacement(mode, ctx.log);
      if (place.why) ctx.log(`node.${mode}: cannot pin threads (${place.why}); these rows run unpinned`);
      const { results, cfg } = await measure({
        rows: these.map(baseOf), quick: ctx.opts.quick, place, log: (s) => ctx.log(`node.${mode}: ${s}`),
      });
      ctx.env.builds['runtime.node'] ??= { module: MODULE, node: process.version, cfg };
      rows.push(...toRows(these, results, RT_ROWS, ctx));
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
  rows: [...BASE_IDS.map((id) => `${id}.chromium`), ...LATENCY_IDS.map((id) => `${id}.chromium.1cpu`)],
  async run(wanted, ctx) {
    needModule(ctx);
    const plain = wanted.filter((id) => id.endsWith('.chromium'));
    const pinned = wanted.filter((id) => id.endsWith('.chromium.1cpu'));
    const rows = [];
    if (plain.length) rows.push(...(await runChromium(plain, CHROMIUM, null, ctx)));
    if (pinned.length) {
      const pin = pinnedExecutable(CHROMIUM);
      if (pin.why) ctx.log(`chromium.1cpu: cannot pin the browser (${pin.why}); these rows run unpinned`);
      try {
        rows.push(...(await runChromium(pinned, pin.path, pin.placement, ctx)));
      } finally {
        pin.dispose();
      }
    }
    return wanted.map((id) => rows.find((r) => r.id === id));
  },
};

// The rows `wanted` in one Chromium started from `exe` (the browser, or a
// script that starts it pinned: placement says which), a page per group.
async function runChromium(wanted, exe, placement, ctx) {
  const { RT_ROWS } = await import('./rt-cases.mjs');
  const tag = placement ? 'chromium.1cpu' : 'chromium';
  const extra = placement ? { placement } : {};
  const fail = (why) => {
    ctx.log(`${tag}: ${why}; its rows are left empty`);
    return toRows(wanted, {}, RT_ROWS, ctx, { error: why, ...extra });
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
    browser = await chromium.launch({ executablePath: exe, args: CHROMIUM_ARGS, headless: true });
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
        if (text.startsWith('bench: ')) ctx.log(`${tag}: ${text.slice(7)}`);
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
        ctx.env.builds[`runtime.${tag}`] ??= {
          module: MODULE, browser: `Chromium ${browser.version()}`, userAgent: out.userAgent,
          hardwareConcurrency: out.hardwareConcurrency, cfg: out.cfg, args: CHROMIUM_ARGS, ...extra,
        };
        Object.assign(results, out.results);
      } catch (e) {
        const why = e.message.split('\n').slice(0, 3).join(' ');
        ctx.log(`${tag}: ${why}; these rows are left empty`);
        for (const id of group) failed[id] = why;
      } finally {
        await page.close();
      }
    }
    return wanted.map((id) => (failed[baseOf(id)]
      ? toRows([id], {}, RT_ROWS, ctx, { error: failed[baseOf(id)], ...extra })[0]
      : toRows([id], results, RT_ROWS, ctx, extra)[0]));
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
  rows: [...BASE_IDS.map((id) => `${id}.firefox`), ...LATENCY_IDS.map((id) => `${id}.firefox.1cpu`)],
  async run(wanted, ctx) {
    needModule(ctx);
    const plain = wanted.filter((id) => id.endsWith('.firefox'));
    const pinned = wanted.filter((id) => id.endsWith('.firefox.1cpu'));
    const { FIREFOX } = await import('../browser/firefox.mjs');
    const rows = [];
    if (plain.length) rows.push(...(await runFirefox(plain, FIREFOX, null, ctx)));
    if (pinned.length) {
      const pin = pinnedExecutable(FIREFOX);
      if (pin.why) ctx.log(`firefox.1cpu: cannot pin the browser (${pin.why}); these rows run unpinned`);
      try {
        rows.push(...(await runFirefox(pinned, pin.path, pin.placement, ctx)));
      } finally {
        pin.dispose();
      }
    }
    return wanted.map((id) => rows.find((r) => r.id === id));
  },
};

// The rows `wanted` in one firefox-esr started from `exe` (see runChromium).
async function runFirefox(wanted, exe, placement, ctx) {
  const { RT_ROWS } = await import('./rt-cases.mjs');
  const { runInFirefox, FIREFOX } = await import('../browser/firefox.mjs');
  const tag = placement ? 'firefox.1cpu' : 'firefox';
  const extra = placement ? { placement } : {};
  const fail = (why) => {
    ctx.log(`${tag}: ${why}; its rows are left empty`);
    return toRows(wanted, {}, RT_ROWS, ctx, { error: why, ...extra });
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
    ctx.log(`${tag}: ${base.length} row(s) in ${FIREFOX} --headless (no progress lines until it reports)`);
    const started = Date.now();
    const posted = await runInFirefox(url, { firefox: exe, timeoutMs: ctx.opts.quick ? 600_000 : 1_800_000, prefs: FIREFOX_BENCH_PREFS });
    const out = posted?.value ?? posted;
    if (!out || out.error) throw new Error(out?.error ?? 'the page reported nothing');
    ctx.log(`${tag}: done in ${Math.round((Date.now() - started) / 1000)} s`);
    for (const line of out.log ?? []) ctx.log(`${tag}: ${line}`);
    ctx.env.builds[`runtime.${tag}`] = {
      module: MODULE, browser: out.userAgent, hardwareConcurrency: out.hardwareConcurrency, cfg: out.cfg,
      clockTickUs: out.clockTickUs, prefs: FIREFOX_BENCH_PREFS, ...extra,
    };
    ctx.log(`${tag}: performance.now() ticks by ${out.clockTickUs} us`);
    return toRows(wanted, out.results, RT_ROWS, ctx, extra);
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
