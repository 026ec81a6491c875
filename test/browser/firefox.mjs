// firefox.mjs - run a page in headless Firefox ESR and get back what it
// reports.
//
//   import { runInFirefox, REPORTER } from '../browser/firefox.mjs';
//   const posted = await runInFirefox('http://127.0.0.1:PORT/page.html', { timeoutMs: 30000 });
//
// Playwright cannot drive Debian's firefox-esr (it needs its own patched
// build), so this starts `firefox-esr --headless --no-remote --profile DIR
// URL` itself and the page reports by POSTing to a small server this
// module starts on 127.0.0.1. The page learns where from the query
// parameter `report` that runInFirefox adds to the URL; a page can use
// REPORTER (below) for that, or do it by hand:
//
//   const to = new URLSearchParams(location.search).get('report');
//   fetch(to, { method: 'POST', body: JSON.stringify(result) });
//
// runInFirefox resolves with the first POST's body, parsed as JSON (the
// text itself when it is not JSON), and then ends Firefox. It rejects when
// Firefox exits first, or when nothing arrives within timeoutMs; the error
// holds the tail of Firefox's output. Content console messages go to that
// output too (devtools.console.stdout.content), which the error shows.
//
// Each run gets a fresh profile in a temporary folder (removed after), with
// the preferences below: no first-run pages, no updates or telemetry, no
// connections of Firefox's own (the machine may have no internet).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

export const FIREFOX = process.env.FERRY_FIREFOX || '/usr/bin/firefox-esr';

const PREFS = {
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.startup.page': 0,
  'startup.homepage_welcome_url': 'about:blank',
  'startup.homepage_welcome_url.additional': '',
  'browser.aboutwelcome.enabled': false,
  'browser.newtabpage.enabled': false,
  'browser.sessionstore.resume_from_crash': false,
  'browser.tabs.warnOnClose': false,
  'toolkit.startup.max_resumed_crashes': -1,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false,
  'toolkit.telemetry.enabled': false,
  'app.update.auto': false,
  'app.update.checkInstallTime': false,
  'extensions.update.enabled': false,
  'extensions.getAddons.cache.enabled': false,
  'browser.search.update': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.safebrowsing.blockedURIs.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
  'network.http.speculative-parallel-limit': 0,
  'media.gmp-manager.updateEnabled': false,
  'browser.region.update.enabled': false,
  'privacy.sanitize.sanitizeOnShutdown': false,
  'devtools.console.stdout.content': true,
  'browser.dom.window.dump.enabled': true,
};

const userJs = (extra = {}) => Object.entries({ ...PREFS, ...extra }).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});\n`).join('');

/**
 * A classic script (text) for a page to include in its <head>, before its
 * own scripts: it collects uncaught errors, unhandled rejections and
 * console.error calls, and defines `window.ferryReport(value)`, which POSTs
 * `{ value, errors, url }` to the `report` URL that runInFirefox gave the
 * page (and does nothing when there is none, e.g. in Chromium).
 */
export const REPORTER = `(function () {
  var errors = [];
  var text = function (x) { return x && x.stack ? String(x.stack) : String(x); };
  addEventListener('error', function (e) { errors.push('uncaught: ' + (e.error ? text(e.error) : e.message || (e.target && e.target.src ? 'failed to load ' + e.target.src : 'an error event'))); }, true);
  addEventListener('unhandledrejection', function (e) { errors.push('unhandled rejection: ' + text(e.reason)); });
  var consoleError = console.error;
  console.error = function () { errors.push('console.error: ' + Array.prototype.map.call(arguments, text).join(' ')); return consoleError.apply(console, arguments); };
  var to = new URLSearchParams(location.search).get('report');
  window.ferryReport = function (value) {
    if (!to) return Promise.resolve(false);
    return fetch(to, { method: 'POST', body: JSON.stringify({ value: value, errors: errors, url: location.href }) })
      .then(function () { return true; });
  };
})();`;

// The server the page reports to: the first POST resolves `posted`.
function startReportServer() {
  let resolvePosted;
  const posted = new Promise((r) => { resolvePosted = r; });
  const server = http.createServer((req, res) => {
    // A text/plain POST is a "simple" cross-origin request (no preflight);
    // the header lets the page read the answer. OPTIONS for pages that
    // send JSON content types.
    const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*', 'cache-control': 'no-store' };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'access-control-allow-methods': 'POST' });
      res.end();
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { ...cors, allow: 'POST' });
      res.end();
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(204, cors);
      res.end();
      const body = Buffer.concat(chunks).toString('utf8');
      let value = body;
      try {
        value = JSON.parse(body);
      } catch {
        // not JSON: the text as is
      }
      resolvePosted(value);
    });
  });
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({
      url: `http://127.0.0.1:${server.address().port}/report`,
      posted,
      close: () => new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
    }));
  });
}

/**
 * Opens url in a new headless Firefox and resolves with what the page
 * POSTs to the `report` URL added to its query string.
 * @param {string} url
 * @param {{timeoutMs?: number, firefox?: string, reportParam?: string, prefs?: object}} [opts]
 *   prefs: more preferences for the profile (the bench turns off timer clamping)
 * @returns {Promise<any>}
 */
export async function runInFirefox(url, { timeoutMs = 30000, firefox = FIREFOX, reportParam = 'report', prefs = {} } = {}) {
  if (!fs.existsSync(firefox)) {
    throw new Error(`${firefox} is missing: run ./configure (it installs Debian's firefox-esr package)`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-firefox-'));
  fs.writeFileSync(path.join(profile, 'user.js'), userJs(prefs));
  const reports = await startReportServer();
  const target = new URL(url);
  target.searchParams.set(reportParam, reports.url);

  let output = '';
  const keep = (d) => {
    output += d;
    if (output.length > 64 << 10) output = output.slice(-32 << 10);
  };
  // Its own process group, so that ending it ends its content processes.
  const child = spawn(firefox, ['--headless', '--no-remote', '--profile', profile, target.href], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MOZ_HEADLESS: '1', MOZ_CRASHREPORTER_DISABLE: '1' },
  });
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const failed = new Promise((resolve) => child.once('error', (e) => resolve({ error: e })));
  const tail = () => output.trim().split('\n').slice(-30).join('\n');

  let timer;
  const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve({ timeout: true }), timeoutMs); });
  try {
    const first = await Promise.race([
      reports.posted.then((value) => ({ value })),
      exited.then((e) => ({ exited: e })),
      failed,
      timeout,
    ]);
    if ('value' in first) return first.value;
    if (first.error) throw new Error(`cannot start ${firefox}: ${first.error.message}`);
    if (first.exited) {
      throw new Error(`Firefox exited (${first.exited.signal || `status ${first.exited.code}`}) before ${target.href} reported; its output:\n${tail()}`);
    }
    throw new Error(`${url} did not report within ${timeoutMs} ms in Firefox; its output:\n${tail()}`);
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const t = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000);
      await exited;
      clearTimeout(t);
    }
    await reports.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}
