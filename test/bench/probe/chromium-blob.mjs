// chromium-blob.mjs - the 20 MiB blob round trip in headless Chromium, for
// finding where its time goes (the rt20m.blob_vs_transfer.chromium row):
// ferry's echo.call('blob', {data: transfer(buf)}) against a raw transfer
// round trip to a plain JS worker, batches interleaved; in a second page,
// the same with ArrayBuffer.prototype.transfer hidden (the host then posts
// envelopes with blobs at once instead of detaching them first).
//
//   node test/bench/probe/chromium-blob.mjs [n] [batches]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const n = Number(process.argv[2] || 50);
const batches = Number(process.argv[3] || 7);
const server = await startServer({ root: ROOT });
const browser = await chromium.launch({ executablePath: process.env.FERRY_CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });

async function measure(hideTransfer) {
  const page = await browser.newPage();
  if (hideTransfer) await page.addInitScript(() => { delete ArrayBuffer.prototype.transfer; });
  await page.goto(`${server.url}/test/bench/bench.html`);
  return page.evaluate(async ({ n, batches, url }) => {
    const { System, transfer } = await import(`${url}/glue/index.mjs`);
    const sys = await System.start({ module: `${url}/build/wasm/test-actors.wasm` });
    const echo = await sys.spawn('echo');
    const w = new Worker(`${url}/test/bench/js-echo-worker.mjs`, { type: 'module' });
    let waiter = null;
    w.onmessage = (e) => waiter(e.data);
    const req = (m) => new Promise((r) => { waiter = r; w.postMessage(m, [m]); });
    let blob = new Uint8Array(20 << 20);
    let raw = new ArrayBuffer(20 << 20);
    const ferry = async () => {
      const t = performance.now();
      for (let i = 0; i < n; i++) blob = (await echo.call('blob', { data: transfer(blob) })).data;
      return (performance.now() - t) / n;
    };
    const plain = async () => {
      const t = performance.now();
      for (let i = 0; i < n; i++) raw = await req(raw);
      return (performance.now() - t) / n;
    };
    for (let i = 0; i < 2; i++) { await ferry(); await plain(); }
    const f = [], r = [];
    for (let b = 0; b < batches; b++) { f.push(await ferry()); r.push(await plain()); }
    const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
    await sys.shutdown();
    w.terminate();
    return { hasTransfer: typeof ArrayBuffer.prototype.transfer === 'function', ferryMs: med(f), rawMs: med(r), ratio: med(f.map((x, i) => x / r[i])), f, r };
  }, { n, batches, url: server.url });
}

for (const hide of [false, true, false, true]) {
  const m = await measure(hide);
  console.log(JSON.stringify({ hideTransfer: hide, ...m, f: m.f.map((x) => +x.toFixed(3)), r: m.r.map((x) => +x.toFixed(3)) }));
}
await browser.close();
await server.close();
