// chromium-sizes.mjs - in one headless Chromium page: a 16 B call, and blob
// round trips of 1 KiB and 20 MiB through ferry's echo against raw transfer
// round trips of the same buffers to a plain JS worker; 9 rotated batches of
// 100 after 2 warm-up rounds, medians in us per round trip.
//
//   node test/bench/probe/chromium-sizes.mjs
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const server = await startServer({ root: ROOT });
const browser = await chromium.launch({ executablePath: process.env.FERRY_CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const page = await browser.newPage();
await page.goto(`${server.url}/test/bench/bench.html`);
const out = await page.evaluate(async ({ url }) => {
  const { System, transfer } = await import(`${url}/glue/index.mjs`);
  const sys = await System.start({ module: `${url}/build/wasm/test-actors.wasm` });
  const echo = await sys.spawn('echo');
  const w = new Worker(`${url}/test/bench/js-echo-worker.mjs`, { type: 'module' });
  let waiter = null;
  w.onmessage = (e) => waiter(e.data);
  const req = (m) => new Promise((r) => { waiter = r; w.postMessage(m, [m]); });
  const n = 100;
  const mk = (size) => {
    let blob = new Uint8Array(size); let raw = new ArrayBuffer(size);
    return {
      [`ferry${size}`]: async () => { for (let i = 0; i < n; i++) blob = (await echo.call('blob', { data: transfer(blob) })).data; },
      [`raw${size}`]: async () => { for (let i = 0; i < n; i++) raw = await req(raw); },
    };
  };
  const body = new Uint8Array(15);
  const cases = { call16: async () => { for (let i = 0; i < n; i++) await echo.call('x', body); }, ...mk(1024), ...mk(20 << 20) };
  const res = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let b = -2; b < 9; b++) for (const [k, f] of Object.entries(cases)) { const t = performance.now(); await f(); if (b >= 0) res[k].push((performance.now() - t) * 1000 / n); }
  const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  return Object.fromEntries(Object.entries(res).map(([k, v]) => [k, +med(v).toFixed(1)]));
}, { url: server.url });
console.log(JSON.stringify({ at: new Date().toISOString(), usPerRoundTrip: out }));
await browser.close(); await server.close();
