// recycle-ab.mjs - 20 MiB bytes round trips with and without recycle()
// (recycle-ab-cases.mjs): 9 alternated batches of 10 after 2 warm-up
// rounds, medians in ms per round trip. In this Node process by default;
// --chromium or --firefox runs recycle-ab.html in that browser (headless).
//
//   node test/bench/probe/recycle-ab.mjs [--chromium | --firefox] [--batches N] [--n N] [--only with|without] [--json FILE]
//
// --only runs one case alone, without the other's garbage to collect.
//
// Needs build/wasm/test-actors.wasm (./configure).
import fs from 'node:fs';
import os from 'node:os';
import { startServer } from '../serve.mjs';
import { runInFirefox } from '../../browser/firefox.mjs';
import { abRecycle } from './recycle-ab-cases.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const batches = Number(opt('--batches', 9));
const n = Number(opt('--n', 10));
const only = opt('--only', null);
let result;
if (args.includes('--chromium') || args.includes('--firefox')) {
  const server = await startServer();
  const url = `${server.url}/test/bench/probe/recycle-ab.html?batches=${batches}&n=${n}${only ? `&only=${only}` : ''}`;
  try {
    if (args.includes('--chromium')) {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({
        executablePath: process.env.FERRY_CHROMIUM || '/usr/bin/chromium', headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      try {
        const page = await browser.newPage();
        await page.goto(url);
        await page.waitForFunction(() => window.recycleAB !== undefined, null, { timeout: 600000, polling: 1000 });
        result = await page.evaluate(() => window.recycleAB);
      } finally {
        await browser.close();
      }
    } else {
      result = await runInFirefox(url, { timeoutMs: 600000, prefs: { 'privacy.reduceTimerPrecision': false, 'privacy.reduceTimerPrecision.unconditional': false } });
    }
  } finally {
    await server.close();
  }
} else {
  result = { engine: `node ${process.version}`, ...(await abRecycle({ batches, n, only })) };
}
if (result.error) throw new Error(result.error);
result = { date: new Date().toISOString(), loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100), cpus: os.cpus().length, ...result };
console.log(`${result.userAgent ?? result.engine}: ms per 20 MiB round trip without recycle ${result.msPerRoundTrip.without ?? '-'}, with ${result.msPerRoundTrip.with ?? '-'} (ratio ${result.ratio ?? '-'}); pool: ${JSON.stringify(result.pool)}`);
const file = opt('--json', null);
if (file) fs.writeFileSync(file, JSON.stringify(result, null, 1) + '\n');
