// The cache demo's page (examples/cache/web, `npm run demo -- --web`) in
// headless Chromium and Firefox ESR: `?seconds=3` runs 3 s of ferry and 3 s
// of the structured-clone baseline in Web Workers and resolves
// window.ferryDemo.result with the report. Chromium also checks that no
// console error appears, that the main thread's p99 frame gap stays under
// 50 ms while chunks flow, and saves a screenshot to build/.
import fs from 'node:fs';
import path from 'node:path';
import { jest } from '@jest/globals';
import { startWebServer } from '../../examples/cache/web/serve.mjs';
import { buildDir, wasmDir, mustExist } from './paths.mjs';

jest.setTimeout(120000);

const CHROMIUM = process.env.FERRY_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOT = path.join(buildDir, 'cache-demo.png');

let server;
beforeAll(async () => {
  mustExist(path.join(wasmDir, 'cache.wasm'));
  server = await startWebServer();
});
afterAll(async () => {
  await server?.close();
});

function checkReport(r) {
  expect(r.verification.allVerified).toBe(true);
  expect(r.verification.failed).toBe(0);
  for (const side of [r.ferry, r.baseline]) {
    expect(side.chunks).toBeGreaterThan(0);
    expect(side.verified).toBe(side.chunks);
    expect(side.seconds).toBeGreaterThanOrEqual(3);
    expect(side.latencyMs.hit.n + side.latencyMs.miss.n).toBe(side.chunks);
    expect(side.frameGapMs.n).toBeGreaterThan(0);
  }
  // Loan mode: every chunk lent and back home, no chunk byte copied.
  expect(r.ferry.released).toBe(r.ferry.chunks);
  expect(r.ferry.cache.copies).toBe(0);
  expect(r.ferry.cache.loans).toBe(r.ferry.chunks);
  expect(r.ferry.ferry.chunkBytesCopied).toBe(0);
  expect(r.ferry.ferry.loansReturned).toBe(true);
  expect(r.ratio.throughput).toBeCloseTo(r.ferry.chunksPerSec / r.baseline.chunksPerSec, 6);
}

test('Chromium: the page runs ferry and the baseline, no console error, smooth main thread', async () => {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 20000 });
  const problems = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 640 } });
    page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && problems.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
    await page.goto(`${server.url}?seconds=3`);
    await page.waitForFunction(() => window.ferryDemo?.result, null, { timeout: 30000 });
    const r = await page.evaluate(() => window.ferryDemo.result);
    await page.screenshot({ path: SCREENSHOT });
    fs.writeFileSync(path.join(buildDir, 'cache-demo-chromium.json'), JSON.stringify(r, null, 2));
    expect(problems).toEqual([]);
    checkReport(r);
    expect(r.ferry.frameGapMs.p99).toBeLessThan(50);
    expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10000);
  } finally {
    await browser.close();
  }
});

test('Firefox ESR: the same page and report', async () => {
  const { runInFirefox } = await import('../browser/firefox.mjs');
  const r = await runInFirefox(`${server.url}?seconds=3`, { timeoutMs: 90000 });
  checkReport(r);
  expect(r.env.userAgent).toMatch(/Firefox/);
});
