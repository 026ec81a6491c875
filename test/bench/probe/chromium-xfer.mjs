// chromium-xfer.mjs - what one postMessage hop of a 20 MiB buffer costs in
// headless Chromium in the shapes ferry uses: the buffer alone (raw), an
// array [envelope, buffer] with both transferred (ferry's blob form), and
// the same with the small envelope cloned instead of transferred.
//
//   node test/bench/probe/chromium-xfer.mjs [n] [batches]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const n = Number(process.argv[2] || 200);
const batches = Number(process.argv[3] || 7);
const server = await startServer({ root: ROOT });
const browser = await chromium.launch({ executablePath: process.env.FERRY_CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const page = await browser.newPage();
await page.goto(`${server.url}/test/bench/bench.html`);
const out = await page.evaluate(async ({ n, batches }) => {
  // The echo transfers back exactly what it was told to: m.x lists which.
  const src = `onmessage = (e) => { const m = e.data; postMessage(m, m.t === 'all' ? m.v.filter((x) => x instanceof ArrayBuffer) : m.t === 'big' ? [m.v[1]] : [m.v]); };`;
  const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
  let waiter = null;
  w.onmessage = (e) => waiter(e.data);
  const hop = (m, x) => new Promise((r) => { waiter = r; w.postMessage(m, x); });
  let big = new ArrayBuffer(20 << 20);
  const cases = {
    alone: async () => { const r = await hop({ t: 'one', v: big }, [big]); big = r.v; },
    bothTransferred: async () => { const env = new ArrayBuffer(20); const r = await hop({ t: 'all', v: [env, big] }, [env, big]); big = r.v[1]; },
    envelopeCloned: async () => { const env = new ArrayBuffer(20); const r = await hop({ t: 'big', v: [env, big] }, [big]); big = r.v[1]; },
  };
  const res = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let b = -2; b < batches; b++) {
    for (const [k, f] of Object.entries(cases)) {
      const t = performance.now();
      for (let i = 0; i < n; i++) await f();
      if (b >= 0) res[k].push(((performance.now() - t) * 1000) / n);
    }
  }
  const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  return Object.fromEntries(Object.entries(res).map(([k, v]) => [k, +med(v).toFixed(1)]));
}, { n, batches });
console.log('us per round trip (median of batches):', JSON.stringify(out));
await browser.close();
await server.close();
