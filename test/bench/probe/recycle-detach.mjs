// recycle-detach.mjs - runs recycle-detach.html (which way recycle()
// detaches a 20 MiB buffer that came from a worker, and what a round trip
// in the detached-and-reused buffer costs) in headless firefox-esr, and in
// Chromium with --chromium; prints the medians and writes them with
// --json FILE.
//
//   node test/bench/probe/recycle-detach.mjs [--chromium] [--batches N] [--n N] [--json FILE]
import fs from 'node:fs';
import { startServer } from '../serve.mjs';
import { runInFirefox } from '../../browser/firefox.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const server = await startServer();
const url = `${server.url}/test/bench/probe/recycle-detach.html?batches=${opt('--batches', 9)}&n=${opt('--n', 10)}`;
let result;
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
      await page.waitForFunction(() => window.recycleDetach !== undefined, null, { timeout: 300000 });
      result = await page.evaluate(() => window.recycleDetach);
    } finally {
      await browser.close();
    }
  } else {
    result = await runInFirefox(url, { timeoutMs: 300000, prefs: { 'privacy.reduceTimerPrecision': false, 'privacy.reduceTimerPrecision.unconditional': false } });
  }
} finally {
  await server.close();
}
console.log(`${result.userAgent}\nms per round trip: ${JSON.stringify(result.msPerRoundTrip)}\nus per detach: ${JSON.stringify(result.usPerDetach)}`);
const file = opt('--json', null);
if (file) fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), ...result }, null, 1) + '\n');
