// spawn-phases.mjs - runs spawn-phases.html (where spawn8_vs_js's time goes
// in a browser) in headless firefox-esr, and in Chromium with --chromium;
// prints the medians (ms for 8 workers) and writes them with --json FILE.
//
//   node test/bench/probe/spawn-phases.mjs [--chromium] [--rounds N] [--json FILE]
//
// Needs build/wasm/test-actors.wasm (./configure).
import fs from 'node:fs';
import { startServer } from '../serve.mjs';
import { runInFirefox } from '../../browser/firefox.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const rounds = Number(opt('--rounds', 11));
const server = await startServer();
const url = `${server.url}/test/bench/probe/spawn-phases.html?rounds=${rounds}`;
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
      await page.waitForFunction(() => window.spawnPhases !== undefined, null, { timeout: 300000 });
      result = await page.evaluate(() => window.spawnPhases);
    } finally {
      await browser.close();
    }
  } else {
    result = await runInFirefox(url, { timeoutMs: 300000, prefs: { 'privacy.reduceTimerPrecision': false, 'privacy.reduceTimerPrecision.unconditional': false } });
  }
} finally {
  await server.close();
}
const m = result.medians;
console.log(`${result.userAgent}\nmedians for 8 workers (ms): js ${m.js}, bundle ${m.bundle}, spawn ${m.spawn}, spawn + call ${m.call}`);
const file = opt('--json', null);
if (file) fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), ...result }, null, 1) + '\n');
