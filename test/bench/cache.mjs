// cache.mjs - the cache demo's rows of `npm run bench` (examples/cache):
//   cache.hit_vs_transfer.{node.1cpu,node.2cpu,chromium,firefox}
//       a loan-mode hit of a 20 MiB chunk (get + release) vs a raw transfer
//       round trip of 20 MiB; <= 1.5. In Node pinned like the runtime's
//       latency rows: unpinned, the raw baseline read 0.025 ms in one run
//       and 0.415 ms in the next, with where its echo worker landed.
//   cache.throughput_vs_clone.{node,chromium}  chunks/s of the demo's
//       workload against ferry (loan mode) vs the structured-clone JS cache,
//       with the clients' verification off and a working set that fits the
//       cache (HOT_KEYS), so that the row measures the caches, not the
//       checking or the origins; ratio ferry/baseline, >= 5
//   cache.frame_gap_p99.chromium   the page's main-thread p99 frame gap
//       (ms) while chunks flow from ferry (the baseline column: the same
//       while they flow from the clone cache); ratio = the ferry ms, <= 50
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MODULE = 'build/wasm/cache.wasm';
const CHROMIUM = process.env.FERRY_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const DEFS = {
  'cache.hit_vs_transfer': { unit: 'ms/rt', goal: { op: '<=', value: 1.5 } },
  'cache.throughput_vs_clone': { unit: 'chunks/s', goal: { op: '>=', value: 5 }, ratio: (f, b) => f / b },
  'cache.frame_gap_p99': { unit: 'ms', goal: { op: '<=', value: 50 }, ratio: (f) => f },
};

function needModule(ctx) {
  if (ctx.opts.build && fs.existsSync(path.join(ROOT, 'build/wasm/build.ninja'))) ctx.ninjaBuild('build/wasm', 'cache.wasm');
  if (!fs.existsSync(path.join(ROOT, MODULE))) throw new ctx.BenchError(`missing ${MODULE}: ${ctx.HOW_TO_BUILD}`);
}

const baseOf = (id) => Object.keys(DEFS).find((b) => id.startsWith(`${b}.`));

function rows(wanted, measured, ctx) {
  return wanted.map((id) => {
    const base = baseOf(id);
    const m = measured[id] ?? measured[base];
    const placed = m?.detail?.placement;
    const def = { id, ...DEFS[base], ...(placed ? { placement: placed.placement } : {}) };
    // The hit row's batches alternate with the baseline's: pair them.
    const samples = m?.detail?.ferryBatches ? { ferry: m.detail.ferryBatches, baseline: m.detail.baselineBatches } : null;
    return m ? ctx.makeRow(def, m.ferry, m.baseline, m.detail, samples) : ctx.makeRow(def, null, null, { error: measured.error || 'not measured' });
  });
}

const round = (x) => Math.round(x * 1000) / 1000;

// The throughput rows' working set: keys k0..k11, about 130 MiB, under the
// demo's 256 MiB budget, so that after the first fills nearly every get
// is a hit. With the demo's 64 keys (670 MiB) a third of the gets miss and
// wait for an origin's simulated 20 ms fetch, which is the same for both
// caches: that alone bounds the ratio at about 3.4 whatever the cache
// does (docs/performance.md, "cache.throughput_vs_clone").
const HOT_KEYS = 12;

// Runs a Node cache row in a process of its own (child.mjs says why).
async function inChild(what, opts, ctx) {
  const { runChild } = await import('./child.mjs');
  return runChild(path.join(ROOT, 'test/bench/cache-child.mjs'), [what, JSON.stringify(opts)], ctx);
}

export const cacheNodeProvider = {
  name: 'cache.node',
  rows: ['cache.hit_vs_transfer.node.1cpu', 'cache.hit_vs_transfer.node.2cpu', 'cache.throughput_vs_clone.node'],
  async run(wanted, ctx) {
    needModule(ctx);
    const out = {};
    for (const mode of ['1cpu', '2cpu']) {
      const id = `cache.hit_vs_transfer.node.${mode}`;
      if (!wanted.includes(id)) continue;
      ctx.log(`node.${mode}: cache hit of 20 MiB vs raw transfer (a process of its own)`);
      const r = await inChild('hit', { mode, batches: ctx.opts.quick ? 7 : 15, n: ctx.opts.quick ? 20 : 50, warmupMs: ctx.opts.quick ? 1000 : 3000 }, ctx);
      out[id] = { ferry: round(r.ferry), baseline: round(r.baseline), detail: r.detail };
    }
    if (wanted.includes('cache.throughput_vs_clone.node')) {
      const o = { seconds: ctx.opts.quick ? 3 : 6, verify: false, keys: HOT_KEYS };
      ctx.log(`node: cache workload, ${o.seconds} s against ferry, then against the clone cache (a process of its own)`);
      const r = await inChild('throughput', o, ctx);
      out['cache.throughput_vs_clone'] = { ferry: round(r.ferry), baseline: round(r.baseline), detail: r.detail };
    }
    return rows(wanted, out, ctx);
  },
};

export const cacheChromiumProvider = {
  name: 'cache.chromium',
  rows: ['cache.hit_vs_transfer.chromium', 'cache.throughput_vs_clone.chromium', 'cache.frame_gap_p99.chromium'],
  async run(wanted, ctx) {
    needModule(ctx);
    const out = {};
    let chromium;
    try {
      if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set FERRY_CHROMIUM)`);
      ({ chromium } = await import('playwright-core'));
    } catch (e) {
      ctx.log(`chromium: ${e.message}; the cache rows are left empty`);
      return rows(wanted, { error: e.message }, ctx);
    }
    const { startWebServer } = await import('../../examples/cache/web/serve.mjs');
    const server = await startWebServer();
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const open = async (qs) => {
        const page = await browser.newPage({ viewport: { width: 1200, height: 640 } });
        const errors = [];
        page.on('pageerror', (e) => errors.push(e.message));
        page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
        await page.goto(`${server.url}${qs}`);
        await page.waitForFunction(() => window.ferryDemo, null, { timeout: 30000 });
        return { page, errors };
      };
      if (wanted.includes('cache.hit_vs_transfer.chromium')) {
        ctx.log('chromium: cache hit of 20 MiB vs raw transfer');
        const { page, errors } = await open('?idle=1');
        const r = await page.evaluate((o) => window.ferryDemo.hitBench(o), { batches: ctx.opts.quick ? 7 : 15, n: ctx.opts.quick ? 10 : 30, warmupMs: ctx.opts.quick ? 1000 : 3000 });
        if (errors.length) throw new Error(errors.join('; '));
        out['cache.hit_vs_transfer'] = { ferry: round(r.ferry), baseline: round(r.baseline), detail: r.detail };
        await page.close();
      }
      if (wanted.some((id) => /throughput|frame_gap/.test(id))) {
        const seconds = ctx.opts.quick ? 3 : 6;
        ctx.log(`chromium: the demo page, ${seconds} s against ferry, then against the clone cache`);
        const { page, errors } = await open(`?seconds=${seconds}&verify=0&keys=${HOT_KEYS}`);
        const r = await page.evaluate(() => window.ferryDemo.result);
        if (errors.length) throw new Error(errors.join('; '));
        out['cache.throughput_vs_clone'] = {
          ferry: round(r.ferry.chunksPerSec), baseline: round(r.baseline.chunksPerSec),
          detail: { seconds, keys: HOT_KEYS, ferry: { chunks: r.ferry.chunks, hitRatio: r.ferry.hitRatio }, baseline: { chunks: r.baseline.chunks, hitRatio: r.baseline.hitRatio } },
        };
        out['cache.frame_gap_p99'] = {
          ferry: round(r.ferry.frameGapMs.p99), baseline: round(r.baseline.frameGapMs.p99),
          detail: { ferry: r.ferry.frameGapMs, baseline: r.baseline.frameGapMs },
        };
        await page.close();
      }
    } catch (e) {
      ctx.log(`chromium: ${e.message}`);
      out.error = e.message;
    } finally {
      await browser.close();
      await server.close();
    }
    return rows(wanted, out, ctx);
  },
};

// Firefox ESR: only the hit row (test/bench/cache-bench.html, run by
// test/browser/firefox.mjs); the throughput and frame-gap rows need the
// demo page driven by Playwright, which cannot drive Debian's Firefox.
export const cacheFirefoxProvider = {
  name: 'cache.firefox',
  rows: ['cache.hit_vs_transfer.firefox'],
  async run(wanted, ctx) {
    needModule(ctx);
    const out = {};
    const { runInFirefox, FIREFOX } = await import('../browser/firefox.mjs');
    const { startServer } = await import('./serve.mjs');
    if (!fs.existsSync(FIREFOX)) {
      ctx.log(`firefox: no Firefox at ${FIREFOX}; the cache row is left empty`);
      return rows(wanted, { error: `no Firefox at ${FIREFOX}` }, ctx);
    }
    const server = await startServer({ root: ROOT });
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-home-'));
    const savedHome = process.env.HOME;
    process.env.HOME = home; // see runtime.mjs
    try {
      ctx.log('firefox: cache hit of 20 MiB vs raw transfer');
      const { FIREFOX_BENCH_PREFS } = await import('./runtime.mjs');
      const r = await runInFirefox(`${server.url}/test/bench/cache-bench.html${ctx.opts.quick ? '?quick=1' : ''}`, { timeoutMs: 300_000, prefs: FIREFOX_BENCH_PREFS });
      if (!r || r.error) throw new Error(r?.error ?? 'the page reported nothing');
      out['cache.hit_vs_transfer'] = { ferry: round(r.ferry), baseline: round(r.baseline), detail: { ...r.detail, userAgent: r.userAgent } };
    } catch (e) {
      ctx.log(`firefox: ${String(e.message).split('\n')[0]}`);
      out.error = String(e.message).split('\n')[0];
    } finally {
      if (savedHome === undefined) delete process.env.HOME;
      else process.env.HOME = savedHome;
      fs.rmSync(home, { recursive: true, force: true });
      await server.close();
    }
    return rows(wanted, out, ctx);
  },
};

export const cacheProviders = [cacheNodeProvider, cacheChromiumProvider, cacheFirefoxProvider];
