// browser-page.mjs - runs one of the probe pages (test/bench/probe/*.html)
// in headless Chromium (playwright-core) or in headless firefox-esr
// (test/browser/firefox.mjs, the page POSTs its result) and resolves with
// what the page reports: in Chromium the value it sets on window[global],
// in Firefox the JSON it posts to the report URL. Timer clamping is off in
// Firefox, as for the bench.
import { startServer } from '../serve.mjs';
import { runInFirefox } from '../../browser/firefox.mjs';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const FIREFOX_PREFS = { 'privacy.reduceTimerPrecision': false, 'privacy.reduceTimerPrecision.unconditional': false };

/**
 * @param {string} page the page's path from the repository root
 * @param {{chromium: boolean, global: string, query?: string, timeoutMs?: number}} opts
 */
export async function runProbePage(page, { chromium, global, query = '', timeoutMs = 300000 }) {
  const server = await startServer();
  const url = `${server.url}/${page}${query ? `?${query}` : ''}`;
  try {
    if (!chromium) return await runInFirefox(url, { timeoutMs, prefs: FIREFOX_PREFS });
    const { chromium: engine } = await import('playwright-core');
    const browser = await engine.launch({ executablePath: process.env.FERRY_CHROMIUM || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
    try {
      const tab = await browser.newPage();
      await tab.goto(url);
      await tab.waitForFunction((name) => window[name] !== undefined, global, { timeout: timeoutMs, polling: 1000 });
      return await tab.evaluate((name) => window[name], global);
    } finally {
      await browser.close();
    }
  } finally {
    await server.close();
  }
}
