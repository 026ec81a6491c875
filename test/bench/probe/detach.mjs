// detach.mjs - runs detach.html (what detaching a received buffer before
// posting it costs: structuredClone with transfer, ArrayBuffer.transfer)
// in headless firefox-esr, and in Chromium with --chromium; prints the
// medians (us per round trip) and writes them with --json FILE.
//
//   node test/bench/probe/detach.mjs [--chromium] [--no-xfer] [--rounds N] [--json FILE]
import fs from 'node:fs';
import { startServer } from '../serve.mjs';
import { runInFirefox } from '../../browser/firefox.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const rounds = Number(opt('--rounds', 9));
const server = await startServer();
const url = `${server.url}/test/bench/probe/detach.html?rounds=${rounds}${args.includes('--no-xfer') ? '&noxfer' : ''}`;
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
      await page.waitForFunction(() => window.detachProbe !== undefined, null, { timeout: 300000 });
      result = await page.evaluate(() => window.detachProbe);
    } finally {
      await browser.close();
    }
  } else {
    result = await runInFirefox(url, { timeoutMs: 300000, prefs: { 'privacy.reduceTimerPrecision': false, 'privacy.reduceTimerPrecision.unconditional': false } });
  }
} finally {
  await server.close();
}
console.log(`${result.userAgent}\nmedians (us per round trip): ${JSON.stringify(result.medians)}`);
const file = opt('--json', null);
if (file) fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), ...result }, null, 1) + '\n');
