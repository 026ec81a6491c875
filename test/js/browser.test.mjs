// ferry in a real browser: headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core) opens test/browser/page.html from a local
// static server and runs the scenarios of test/browser/page.mjs, one test
// each: echo (values of every kind), C↔C ping-pong, a blob moved there
// and back, a trap, a struct decode error, reply buffers given back with
// recycle(), shutdown. Console errors and
// uncaught errors of the page and its workers fail the test they happen
// in. The page, with its results table, is saved to build/browser-test.png.
//
// Chromium is not optional: without it these tests fail and say to run
// ./configure, which installs it.
import fs from 'node:fs';
import path from 'node:path';
import { jest } from '@jest/globals';
import { startServer } from '../browser/server.mjs';
import { root, wasmDir, buildDir, mustExist } from './paths.mjs';

jest.setTimeout(30000);

const CHROMIUM = process.env.FERRY_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOT = path.join(buildDir, 'browser-test.png');

let server;
let browser;
let page;
let setupError = null;
const problems = []; // console errors and uncaught errors not yet reported

// The start scenario asks for a module that does not exist on purpose.
const expected404 = (url) => /\/build\/wasm\/missing\.wasm$/.test(url || '');

function watch(target, where) {
  target.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'assert') {
      const loc = msg.location();
      if (expected404(loc?.url) && /status of 404/.test(msg.text())) return;
      problems.push(`console.${msg.type()} in ${where}: ${msg.text()}${loc?.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
    }
  });
}

beforeAll(async () => {
  try {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: run ./configure (it installs Debian's chromium package), ` +
        'then run the tests again. The browser tests do not download a browser.');
    }
    for (const f of ['test-actors.wasm', 'echo.wasm', 'pingpong.wasm']) mustExist(path.join(wasmDir, f));
    let chromium;
    try {
      ({ chromium } = await import('playwright-core'));
    } catch (e) {
      throw new Error(`playwright-core is missing: run ./configure (npm ci installs it): ${e.message}`);
    }
    // No help for workers: their module graph must load with no bare
    // specifiers, as it does in a real unbundled page.
    server = await startServer({ root });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 20000 });
    page = await browser.newPage({ viewport: { width: 1000, height: 420 } });
    // The page's console event also carries its workers' console messages.
    watch(page, 'the page or a worker');
    page.on('pageerror', (e) => problems.push(`uncaught error in the page: ${e.stack || e.message}`));
    page.on('crash', () => problems.push('the page crashed'));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
    page.on('response', (r) => {
      if (r.status() >= 400 && !expected404(r.url())) problems.push(`HTTP ${r.status()} for ${r.url()}`);
    });
    await page.goto(`${server.url}/test/browser/page.html`, { waitUntil: 'load', timeout: 15000 });
    try {
      await page.waitForFunction(() => window.ferryTests, null, { timeout: 10000 });
    } catch {
      throw new Error(`page.html did not load its script (window.ferryTests is not set). ${problems.join('\n') || ''}`);
    }
  } catch (e) {
    setupError = e;
    throw e;
  }
});

afterAll(async () => {
  try {
    if (page && !page.isClosed()) {
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    }
  } finally {
    await browser?.close();
    await server?.close();
  }
});

// Runs one scenario in the page; fails with the page's own message and
// with any console or uncaught error seen while it ran.
async function scenario(name) {
  if (setupError || !page) throw new Error(`browser setup failed: ${setupError?.message ?? 'no page'}`);
  problems.length = 0;
  const r = await page.evaluate((n) => window.ferryTests.run(n), name);
  // Late console messages of this scenario (from workers) arrive over CDP.
  await new Promise((res) => setTimeout(res, 20));
  const seen = problems.splice(0);
  if (!r.ok) {
    throw new Error(`scenario "${name}" failed in the browser${r.step ? ` at step "${r.step}"` : ''}: ${r.error}\n` +
      `${r.stack || ''}${seen.length ? `\nalso seen:\n  ${seen.join('\n  ')}` : ''}`);
  }
  if (seen.length) throw new Error(`scenario "${name}" passed but the browser reported errors:\n  ${seen.join('\n  ')}`);
  return r;
}

describe('ferry in headless Chromium', () => {
  test('the page loads; three modules compile; a missing module is EINVAL', async () => {
    const r = await scenario('start');
    expect(r.value.missing.code).toBe('EINVAL');
    expect(r.value.missing.message).toMatch(/cannot load \/build\/wasm\/missing\.wasm: HTTP 404/);
  });

  test('echo (examples/echo): nested objects, bytes and BigInts round-trip', async () => {
    const r = await scenario('echo');
    expect(r.value).toEqual({
      text: 'héllo wörld ✓ 🚢',
      n: 5,
      neg: -70000,
      float: 2.5,
      list: [1, 2.5, 'x', null, true, false],
      nested: { a: { b: { c: [1, { d: 'deep', e: [[], {}] }] } } },
      big: { $bigint: String(2n ** 60n) },
      negBig: { $bigint: String(-(2n ** 63n)) },
      bytes: { $bytes: [0, 1, 2, 127, 128, 253, 254, 255] },
      empty: '',
    });
  });

  test('ping-pong (examples/pingpong): 200 calls between two C actors', async () => {
    const r = await scenario('pingpong');
    expect(r.value.result).toEqual({ rounds: 200 });
    expect(r.value.missingN.code).toBe('EMISSING');
  });

  test('transfer(): a 4 MiB blob goes to echo and back; the sent buffer is detached', async () => {
    const r = await scenario('blob');
    expect(r.value).toMatchObject({ detached: true, byteLength: 0, replyLength: 4 << 20 });
    expect(r.value.copied).toBeLessThan(1024);
  });

  test('a trap stops the actor: the call rejects with EDOWN and down resolves', async () => {
    const r = await scenario('crash');
    expect(r.value.error.code).toBe('EDOWN');
    expect(r.value.reason).toMatchObject({ code: 'EDOWN', name: 'Trap' });
  });

  test('a C struct decode error comes back as ERANGE naming the field', async () => {
    const r = await scenario('structs');
    expect(r.value).toEqual({ code: 'ERANGE', message: 'order.items[0].qty: 300 does not fit uint8' });
  });

  test('a transferred buffer is detached when call() returns; bad values are EINVAL with a path', async () => {
    const r = await scenario('detach');
    expect(r.value).toEqual({ detachedAtReturn: true, bad: 'value.items[1].fn: functions cannot be sent' });
  });

  test('a loan: C lends a blob built in place, the page releases it, it comes home without a copy', async () => {
    const r = await scenario('loan');
    expect(r.value).toEqual({ byte1: 10, lent: 2, home: 1, copies: 0 });
  });

  test('async calls from C and a monitor', async () => {
    const r = await scenario('async');
    expect(r.value.answered).toBe(3);
    expect(r.value.pings).toBeGreaterThanOrEqual(1);
    expect(r.value.heard).toBe('Trap');
  });

  test('spawn waits for init; an undelivered send comes back with its blob', async () => {
    const r = await scenario('reports');
    expect(r.value.spawn).toBe('EDOWN');
    expect(r.value.report).toMatchObject({ rc: -16, a: 99999, c: 1, d: 1000, text: 'hello' });
  });

  test('a memory cap: malloc returns NULL at 32 MiB; a trap after it is ENOMEM; the page goes on', async () => {
    const r = await scenario('memcap');
    expect(r.value.got).toBeLessThanOrEqual(32 * 1024 * 1024);
    expect(r.value.maxMemory).toBe(32 * 1024 * 1024);
    expect(r.value.reason).toEqual({ code: 'ENOMEM', name: 'Trap' });
  });

  test('recycle(): 4 MiB round trips in the buffers of earlier replies; old views detached; twice is EINVAL', async () => {
    const r = await scenario('recycle');
    expect(r.value).toEqual({ rounds: 6, reusedEnough: true, detached: true, again: 'EINVAL' });
  });

  test('shutdown ends every System', async () => {
    const r = await scenario('shutdown');
    expect(r.value.systems.sort()).toEqual(['echo', 'pingpong', 'test']);
  });
});

describe('the same page in Firefox ESR', () => {
  test('every scenario passes in firefox-esr (headless), reported by the page', async () => {
    const { runInFirefox } = await import('../browser/firefox.mjs');
    const posted = await runInFirefox(`${server.url}/test/browser/page.html?run=all`, { timeoutMs: 90000 });
    expect(posted.userAgent).toMatch(/Firefox\//);
    const failed = posted.results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.error}${r.step ? ` (at: ${r.step})` : ''}`);
    expect(failed).toEqual([]);
    expect(posted.results.map((r) => r.name)).toEqual(
      ['start', 'echo', 'pingpong', 'blob', 'crash', 'structs', 'detach', 'loan', 'async', 'reports', 'memcap', 'recycle', 'shutdown']);
    const byName = Object.fromEntries(posted.results.map((r) => [r.name, r.value]));
    expect(byName.recycle).toEqual({ rounds: 6, reusedEnough: true, detached: true, again: 'EINVAL' });
    expect(byName.detach).toEqual({ detachedAtReturn: true, bad: 'value.items[1].fn: functions cannot be sent' });
    expect(byName.loan).toEqual({ byte1: 10, lent: 2, home: 1, copies: 0 });
  }, 120000);
});
