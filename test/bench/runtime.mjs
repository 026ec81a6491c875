// runtime.mjs - providers of the runtime rows for test/bench/run.mjs:
// rt16.*, rt20m.*, stream16.*, spawn8_vs_js, once with the suffix .node
// (measured in this Node process) and once with .chromium (measured in
// headless Chromium driven by playwright-core). The measurements
// themselves are in rt-cases.mjs, shared by both.
import fs from 'node:fs';
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

function toRows(suffix, wanted, measured, defs, ctx, extraDetail = {}) {
  return wanted.map((id) => {
    const base = id.slice(0, -suffix.length);
    const def = defs.find((d) => d.id === base);
    const m = measured[base];
    const rowDef = {
      id,
      unit: def.unit,
      goal: def.goal,
      ...(def.inverse ? { ratio: (f, b) => b / f } : {}),
    };
    if (!m) return ctx.makeRow(rowDef, null, null, { error: 'not measured', ...extraDetail });
    return ctx.makeRow(rowDef, m.ferry, m.baseline, { ...m.detail, ...extraDetail });
  });
}

function needModule(ctx) {
  if (ctx.opts.build && fs.existsSync(path.join(ROOT, 'build/wasm/build.ninja'))) ctx.ninjaBuild('build/wasm', 'test-actors.wasm');
  if (!fs.existsSync(path.join(ROOT, MODULE))) throw new ctx.BenchError(`missing ${MODULE}: ${ctx.HOW_TO_BUILD}`);
}

// ---------------------------------------------------------------- Node

export const nodeRuntimeProvider = {
  name: 'runtime.node',
  rows: BASE_IDS.map((id) => `${id}.node`),
  async run(wanted, ctx) {
    needModule(ctx);
    const { measure, RT_ROWS } = await import('./rt-cases.mjs');
    const base = wanted.map((id) => id.slice(0, -'.node'.length));
    const { results, cfg } = await measure({ rows: base, quick: ctx.opts.quick, log: (s) => ctx.log(`node: ${s}`) });
    ctx.env.builds['runtime.node'] = { module: MODULE, node: process.version, cfg };
    return toRows('.node', wanted, results, RT_ROWS, ctx);
  },
};

// ------------------------------------------------------------ Chromium

const CHROMIUM = process.env.FERRY_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const chromiumRuntimeProvider = {
  name: 'runtime.chromium',
  rows: BASE_IDS.map((id) => `${id}.chromium`),
  async run(wanted, ctx) {
    needModule(ctx);
    const { RT_ROWS } = await import('./rt-cases.mjs');
    const fail = (why) => {
      ctx.log(`chromium: ${why}; its rows are left empty`);
      return toRows('.chromium', wanted, {}, RT_ROWS, ctx, { error: why });
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
    // A failure in the browser leaves these rows empty (with the reason in
    // their detail and in the log) rather than losing the whole run.
    try {
      const page = await browser.newPage();
      const errors = [];
      page.on('console', (m) => {
        const text = m.text();
        if (text.startsWith('bench: ')) ctx.log(`chromium: ${text.slice(7)}`);
        else if (m.type() === 'error') errors.push(text);
      });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.url}/test/bench/bench.html`);
      await page.waitForFunction(() => window.ferryBench !== undefined, null, { timeout: 30000 });
      const ready = await page.evaluate(() => window.ferryBench.error ?? null);
      if (ready) throw new Error(`bench page failed to load: ${ready}`);
      const base = wanted.map((id) => id.slice(0, -'.chromium'.length));
      const limitMs = ctx.opts.quick ? 180_000 : 900_000;
      let timer;
      const out = await Promise.race([
        page.evaluate((opts) => window.ferryBench.run(opts), { rows: base, quick: ctx.opts.quick }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no result within ${limitMs / 1000} s`)), limitMs);
        }),
      ]).finally(() => clearTimeout(timer));
      if (out.error) throw new Error(`${out.error}${errors.length ? ` (page errors: ${errors.join('; ')})` : ''}`);
      ctx.env.builds['runtime.chromium'] = {
        module: MODULE, browser: `Chromium ${browser.version()}`, userAgent: out.userAgent,
        hardwareConcurrency: out.hardwareConcurrency, cfg: out.cfg, args: CHROMIUM_ARGS,
      };
      return toRows('.chromium', wanted, out.results, RT_ROWS, ctx);
    } catch (e) {
      return fail(e.message.split('\n').slice(0, 3).join(' '));
    } finally {
      await browser.close();
      await server.close();
    }
  },
};

export const runtimeProviders = [nodeRuntimeProvider, chromiumRuntimeProvider];
