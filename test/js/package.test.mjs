// The npm package as a new user meets it: `npm pack`, the tarball
// installed into fresh apps under build/consumer/ (test/consumer/), then
//   - what the tarball holds, and that every export has types;
//   - a Node app: `npx ferry-build` (and the other ways to reach it), its
//     failures, the C dialect, the docs' own C examples, the app running;
//   - examples/web-app built with vite's default config (`npm run build`),
//     and the same app with esbuild as docs/api.md says, each served on
//     127.0.0.1 and run in headless Chromium (console watched) and in
//     Firefox ESR (test/browser/firefox.mjs);
//   - load failures in a page that name the URL that failed;
//   - tsc on a TypeScript consumer, moduleResolution bundler and nodenext,
//     with errors that must be reported.
import fs from 'node:fs';
import path from 'node:path';
import { jest } from '@jest/globals';
import ts from 'typescript';
import { root, buildDir } from './paths.mjs';
import { pack, makeApp, installTarball, run, npm, said, appEnv, repoBin } from '../consumer/consumer.mjs';
import { startServer } from '../browser/server.mjs';
import { runInFirefox, REPORTER } from '../browser/firefox.mjs';
import { RUNTIME_SOURCES } from '../../glue/ferry-build.mjs';

jest.setTimeout(240000);

const CHROMIUM = process.env.FERRY_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let packed; // { tarball, files, size, unpackedSize }
let browser = null;

beforeAll(async () => {
  packed = await pack();
});
afterAll(async () => {
  await browser?.close();
});

// ------------------------------------------------------------- tarball

test('the tarball holds what a consumer needs and nothing else', () => {
  const { files } = packed;
  for (const f of ['package.json', 'LICENSE', 'README.md', 'CHANGELOG.md', 'glue/index.mjs', 'glue/index.d.mts',
    'glue/worker.mjs', 'glue/new-worker.mjs', 'glue/ferry-build.mjs', 'glue/ferry-build.d.mts', 'glue/serializer.mjs',
    'glue/serializer.d.mts', 'include/ferry.h', 'src/runtime/actor.c', 'docs/api.md', 'docs/guide.md',
    'examples/web-app/package.json', 'examples/web-app/index.html', 'examples/web-app/src/main.js',
    'examples/web-app/src/greeter.c']) {
    expect(files).toContain(f);
  }
  // Every C source ferry-build compiles ships, with the headers they include.
  for (const f of RUNTIME_SOURCES) expect(files).toContain(path.relative(root, f));
  for (const dir of ['include', 'src/runtime', 'src/cbor']) {
    for (const h of fs.readdirSync(path.join(root, dir), { recursive: true })) {
      if (String(h).endsWith('.h')) expect(files).toContain(path.posix.join(dir, String(h)));
    }
  }
  const allowed = [
    /^(package\.json|LICENSE|README\.md|CHANGELOG\.md)$/,
    /^glue\/(host|wire)\/[a-z-]+\.mjs$/, /^glue\/[a-z-]+\.(mjs|d\.mts)$/, /^glue\/worker\/abi\.mjs$/,
    /^include\/ferry(\.h|\/[a-z]+\.h)$/, /^src\/(error\.c|(cbor|schema|runtime)\/[a-z_]+\.[ch])$/,
    /^docs\/([a-z-]+\.md|perf-chart\.svg|soak-memory\.svg)$/, /^examples\/web-app\/(package\.json|index\.html|README\.md|src\/[a-z]+\.(js|c))$/,
  ];
  expect(files.filter((f) => !allowed.some((re) => re.test(f)))).toEqual([]);
  // Not shipped: tests, build outputs, the worker bundler, the codec binding
  // (it needs build outputs), examples that only run in a checkout.
  for (const f of files) expect(f).not.toMatch(/^(test|build|cross|node_modules)\/|\.wasm$|make-worker-bundle|codec-wasm|examples\/(echo|pingpong|codec-demo)/);
  // A guard against shipping something big by mistake (the allowlist above
  // guards what kind of file ships); about 212 KB now, most of it the
  // worker bundle and the docs.
  expect(packed.size).toBeLessThan(256 * 1024);
});

test('the shipped docs link only to files that ship', () => {
  const broken = [];
  for (const f of packed.files.filter((x) => x.endsWith('.md'))) {
    const text = fs.readFileSync(path.join(root, f), 'utf8');
    for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      const target = m[1];
      if (/^[a-z]+:/.test(target)) continue; // absolute URLs
      const rel = path.posix.normalize(path.posix.join(path.posix.dirname(f), target));
      if (!packed.files.includes(rel) && !packed.files.some((x) => x.startsWith(rel.replace(/\/$/, '') + '/'))) broken.push(`${f}: ${target}`);
    }
  }
  expect(broken).toEqual([]);
});

// Names a module exports at run time vs. the names its .d.mts declares.
function declaredExports(dts) {
  const program = ts.createProgram([dts], { noEmit: true, strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: [] });
  const checker = program.getTypeChecker();
  const sym = checker.getSymbolAtLocation(program.getSourceFile(dts));
  return checker.getExportsOfModule(sym).map((s) => s.getName()).sort();
}

test('every export of every entry point has a type declaration', async () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const entries = Object.entries(pkg.exports).filter(([k]) => k !== './package.json');
  expect(entries.map(([k]) => k).sort()).toEqual(['.', './build', './cbor']);
  for (const [sub, target] of entries) {
    expect(Object.keys(target)).toEqual(['types', 'default']); // types first, as TypeScript requires
    const runtime = Object.keys(await import(path.join(root, target.default))).sort();
    const declared = declaredExports(path.join(root, target.types));
    // Values must be declared; the .d.mts may add type-only names.
    expect({ sub, missing: runtime.filter((n) => !declared.includes(n)) }).toEqual({ sub, missing: [] });
    expect({ sub, extra: declared.filter((n) => !runtime.includes(n) && !isTypeOnly(target.types, n)) }).toEqual({ sub, extra: [] });
  }
  expect(pkg.bin).toEqual({ 'ferry-build': './glue/ferry-build.mjs' });
  expect(fs.readFileSync(path.join(root, 'glue/ferry-build.mjs'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
});

function isTypeOnly(dts, name) {
  const text = fs.readFileSync(path.join(root, dts), 'utf8');
  return new RegExp(`^export (type|interface) ${name}\\b`, 'm').test(text);
}

// ------------------------------------------------------------- a Node app

const NODE_ACTOR = `/* kv.c - a key-value actor, as a user writes one. */
#include <ferry.h>
#include <stdlib.h>
#include <string.h>

static char *last; /* strdup is POSIX: declared by <string.h> under gnu11 */

static int kv(ferry_msg *init) {
    (void)init;
    ferry_msg m;
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        if (m.kind == FERRY_MSG_CALL && strcmp(m.type, "put") == 0) {
            free(last);
            last = strdup(m.type);
            ferry_reply_raw(&m, m.body, m.body_len);
        } else if (m.kind == FERRY_MSG_CALL) {
            ferry_reply_error(&m, FERRY_ENOTFOUND, "no such call");
        }
        ferry_msg_free(&m);
    }
    return 0;
}
FERRY_ACTOR("kv", kv);
`;

const NODE_MAIN = `import { System, transfer, FerryError } from 'ferry';
// Resolved inside this app, not from the repository around it.
console.log('resolved', import.meta.resolve('ferry'), import.meta.resolve('cbor-x'));
const sys = await System.start({ module: new URL('./kv.wasm', import.meta.url) });
const kv = await sys.spawn('kv');
const back = await kv.call('put', { key: 'a', data: new Uint8Array(100000).fill(7) }, { timeout: 5000 });
console.log('reply', back.key, back.data.length, back.data[12345]);
// Moved, not copied: the caller's buffer is detached once sent (by the
// time a later call on the same actor is answered, at the latest).
const moved = new Uint8Array(1 << 20);
kv.send('put', { data: transfer(moved) });
try {
  await kv.call('nope', 1);
} catch (e) {
  console.log('detached', moved.byteLength === 0);
  console.log('error', e instanceof FerryError, e.code, e.message);
}
await sys.shutdown();
console.log('done');
`;

let nodeApp;

async function getNodeApp() {
  if (nodeApp) return nodeApp;
  const dir = makeApp('node-app', {
    files: { 'kv.c': NODE_ACTOR, 'main.mjs': NODE_MAIN, 'bad.c': 'int helper(int x) { return x + 1; }\n', 'broken.c': 'int f(void) { return }\n' },
    pkg: { scripts: { 'build:wasm': 'ferry-build kv.c -o kv.wasm' } },
  });
  await installTarball(dir, packed.tarball);
  nodeApp = dir;
  return dir;
}

test('a Node app: npm install the tarball, npx ferry-build, run the actor', async () => {
  const dir = await getNodeApp();
  // Installed where a user's app has it, with its one dependency.
  expect(fs.existsSync(path.join(dir, 'node_modules/ferry/glue/worker.mjs'))).toBe(true);
  expect(fs.existsSync(path.join(dir, 'node_modules/cbor-x/package.json'))).toBe(true);
  expect(fs.lstatSync(path.join(dir, 'node_modules/.bin/ferry-build')).isSymbolicLink()).toBe(true);

  const b = await run('npx', ['--no-install', 'ferry-build', 'kv.c', '-o', 'kv.wasm'], { cwd: dir });
  expect(said(b)).toBe(said({ ...b, stdout: '', stderr: '', status: 0 })); // silent and successful: no warnings
  expect(fs.statSync(path.join(dir, 'kv.wasm')).size).toBeGreaterThan(1000);

  const r = await run(process.execPath, ['main.mjs'], { cwd: dir });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const lines = r.stdout.trim().split('\n');
  const [, ferryUrl, cborUrl] = lines[0].split(' ');
  expect(ferryUrl).toBe(new URL(`file://${dir}/node_modules/ferry/glue/index.mjs`).href);
  expect(cborUrl.startsWith(new URL(`file://${dir}/node_modules/cbor-x/`).href)).toBe(true);
  expect(lines.slice(1)).toEqual([
    'reply a 100000 7',
    'detached true',
    'error true ENOTFOUND no such call',
    'done',
  ]);
});

test("README's Install and use works as written, in a fresh app", async () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Install and use'), readme.indexOf('## Develop ferry'));
  const blocks = [...section.matchAll(/^```(\w+)\n([\s\S]*?)^```/gm)].map((m) => ({ lang: m[1], code: m[2] }));
  const find = (lang, start) => {
    const b = blocks.find((x) => x.lang === lang && x.code.startsWith(start));
    if (!b) throw new Error(`README's Install and use has no ${lang} block starting with ${start}`);
    return b.code;
  };
  const commands = blocks.filter((b) => b.lang === 'sh').map((b) => b.code).join('');
  expect(commands).toMatch(/^npm install ferry$/m);
  expect(commands).toMatch(/^npx ferry-build echo\.c -o echo\.wasm$/m);
  const dir = makeApp('readme-app', { files: { 'echo.c': find('c', '/* echo.c */'), 'main.mjs': find('js', '// main.mjs') } });
  await installTarball(dir, packed.tarball);
  const b = await run('npx', ['--no-install', 'ferry-build', 'echo.c', '-o', 'echo.wasm'], { cwd: dir });
  expect(said(b)).toBe(said({ status: 0, stdout: '', stderr: '' }));
  const r = await run(process.execPath, ['main.mjs'], { cwd: dir });
  expect(said(r)).toBe(said({ status: 0, stdout: find('text', ''), stderr: '' }));
});

test('ferry-build is reached every way the docs name, and fails loudly', async () => {
  const dir = await getNodeApp();
  // An npm script calling it, node on the file itself, the .bin symlink, npx.
  fs.rmSync(path.join(dir, 'kv.wasm'), { force: true });
  const viaScript = await npm(['run', '--silent', 'build:wasm'], { cwd: dir });
  expect(viaScript.status).toBe(0);
  expect(fs.existsSync(path.join(dir, 'kv.wasm'))).toBe(true);
  const direct = await run(process.execPath, ['node_modules/ferry/glue/ferry-build.mjs', '--version'], { cwd: dir });
  expect(direct.stdout).toBe(`ferry-build ${JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version}\n`);
  const bin = await run('./node_modules/.bin/ferry-build', ['--version'], { cwd: dir });
  expect(bin.stdout).toBe(direct.stdout);
  const help = await run('npx', ['--no-install', 'ferry-build', '--help'], { cwd: dir });
  expect(help.status).toBe(0);
  expect(help.stdout).toMatch(/^usage: ferry-build FILE\.c/);
  expect(help.stdout).toContain('-std=gnu11');

  // Failures: non-zero, and a message that says what to do.
  const none = await run('npx', ['--no-install', 'ferry-build'], { cwd: dir });
  expect(none.status).toBe(2);
  expect(none.stderr).toBe('ferry-build: no C source given\ntry: ferry-build --help\n');
  const missing = await run('npx', ['--no-install', 'ferry-build', 'nope.c', '-o', 'x.wasm'], { cwd: dir });
  expect(missing.status).toBe(2);
  expect(missing.stderr).toContain('ferry-build: no such file: nope.c');
  const badOut = await run('npx', ['--no-install', 'ferry-build', 'kv.c', '-o', 'kv.js'], { cwd: dir });
  expect(badOut.status).toBe(2);
  expect(badOut.stderr).toContain('the output must end in .wasm, got kv.js');
  const noEmcc = await run('npx', ['--no-install', 'ferry-build', 'kv.c', '-o', 'x.wasm'], { cwd: dir, env: appEnv({ EMCC: '/nonexistent/emcc' }) });
  expect(noEmcc.status).toBe(1);
  expect(noEmcc.stderr).toMatch(/cannot run \/nonexistent\/emcc: .*ENOENT[\s\S]*install it \(Debian\/Ubuntu: apt-get install emscripten/);
  const broken = await run('npx', ['--no-install', 'ferry-build', 'broken.c', '-o', 'broken.wasm'], { cwd: dir });
  expect(broken.status).toBe(1);
  expect(broken.stderr).toMatch(/broken\.c:1:\d+: error: [\s\S]*ferry-build: emcc failed \(exit status 1\); the compiler's messages are above\n$/);
  // No actor in the sources: it builds, and says so.
  const noActor = await run('npx', ['--no-install', 'ferry-build', 'bad.c', '-o', 'bad.wasm'], { cwd: dir });
  expect(noActor.status).toBe(0);
  expect(noActor.stderr).toBe('ferry-build: warning: no FERRY_ACTOR(...) in bad.c: spawn will find no actor types in bad.wasm\n');
});

test('ferry-build compiles as gnu11; flags the user passes win, and an undeclared function gets a hint', async () => {
  const dir = await getNodeApp();
  // -std=c11 after ferry's -std=gnu11 wins: strdup is no longer declared.
  const strict = await run('npx', ['--no-install', 'ferry-build', 'kv.c', '-o', 'strict.wasm', '-std=c11'], { cwd: dir });
  expect(strict.status).toBe(1);
  expect(strict.stderr).toMatch(/implicit declaration of function 'strdup'/);
  expect(strict.stderr).toMatch(/hint: include the header that declares the function\. ferry-build compiles as -std=gnu11/);
  // A warning flag of the user's turns on, -Werror makes it fatal.
  const werror = await run('npx', ['--no-install', 'ferry-build', 'kv.c', '-o', 'w.wasm', '-Wshadow', '-Werror', '-Dlast=init'], { cwd: dir });
  expect(werror.status).toBe(1);
  expect(werror.stderr).toMatch(/declaration shadows|-Werror,-Wshadow/);
});

// Every complete C example in the shipped docs (one that includes ferry.h
// and registers an actor) builds without a warning.
test("the docs' own C examples compile without warnings", async () => {
  const dir = await getNodeApp();
  const blocks = [];
  for (const f of packed.files.filter((x) => x.endsWith('.md'))) {
    const text = fs.readFileSync(path.join(root, f), 'utf8');
    for (const m of text.matchAll(/^```c\n([\s\S]*?)^```/gm)) {
      if (m[1].includes('#include <ferry.h>') && m[1].includes('FERRY_ACTOR(')) blocks.push({ f, code: m[1] });
    }
  }
  expect(blocks.map((b) => b.f)).toEqual(expect.arrayContaining(['README.md', 'docs/guide.md']));
  const results = await Promise.all(blocks.map(({ code }, i) => {
    fs.writeFileSync(path.join(dir, `doc${i}.c`), code);
    return run('npx', ['--no-install', 'ferry-build', `doc${i}.c`, '-o', `doc${i}.wasm`], { cwd: dir });
  }));
  results.forEach((r, i) => expect({ file: blocks[i].f, out: said(r) }).toEqual({ file: blocks[i].f, out: said({ status: 0, stdout: '', stderr: '' }) }));
});

// ------------------------------------------------------------- web apps

// Classic script the tests add to a built page: collects errors (REPORTER)
// and reports the #result element once the app set data-state to done or
// error. Chromium reads the DOM itself; the report matters in Firefox.
const WATCH = `${REPORTER}
(function () {
  var sent = false;
  function check() {
    var el = document.querySelector('#result');
    if (sent || !el || (el.dataset.state !== 'done' && el.dataset.state !== 'error')) return;
    sent = true;
    window.ferryReport({ state: el.dataset.state, text: el.textContent });
  }
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
})();`;

function addWatcher(dist, page = 'index.html', as = 'watched.html') {
  const html = fs.readFileSync(path.join(dist, page), 'utf8');
  if (!html.includes('<head>')) throw new Error(`${page} has no <head>`);
  fs.writeFileSync(path.join(dist, as), html.replace('<head>', `<head>\n<script>${WATCH}</script>`));
  return as;
}

async function chromium() {
  if (browser) return browser;
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run ./configure (it installs Debian's chromium)`);
  const { chromium: c } = await import('playwright-core');
  browser = await c.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 20000 });
  return browser;
}

// Opens url in Chromium; resolves with the #result element's state and text
// once it is done or failed, and every console error or uncaught error of
// the page and its workers.
async function inChromium(url) {
  const page = await (await chromium()).newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  try {
    await page.goto(url);
    await page.waitForSelector('#result[data-state="done"], #result[data-state="error"]', { timeout: 20000 });
    const result = await page.$eval('#result', (el) => ({ state: el.dataset.state, text: el.textContent }));
    return { result, problems };
  } finally {
    await page.close();
  }
}

async function serve(dir, fn) {
  const srv = await startServer({ root: dir });
  try {
    return await fn(srv.url);
  } finally {
    await srv.close();
  }
}

let webApp;
async function getWebApp() {
  if (webApp) return webApp;
  const dir = makeApp('web-app', { template: path.join(root, 'examples/web-app') });
  await installTarball(dir, packed.tarball);
  // The template's own build script: ferry-build, then vite with no config.
  expect(fs.existsSync(path.join(dir, 'vite.config.js'))).toBe(false);
  const b = await npm(['run', 'build'], { cwd: dir });
  if (b.status !== 0) throw new Error(`npm run build failed: ${said(b)}`);
  webApp = { dir, build: b };
  return webApp;
}

const OK_RESULT = { state: 'done', text: 'hello web x2' };

test('examples/web-app builds with vite, default config, with no warnings', async () => {
  const { dir, build: b } = await getWebApp();
  expect(b.stderr).toBe('');
  expect(b.stdout).not.toMatch(/warn|externalized|\(!\)|error/i);
  expect(b.stdout).toMatch(/built in/);
  const assets = fs.readdirSync(path.join(dir, 'dist/assets'));
  expect(assets.filter((f) => /^worker-.*\.js$/.test(f))).toHaveLength(1); // the worker, emitted by vite
  expect(assets.filter((f) => /^greeter-.*\.wasm$/.test(f))).toHaveLength(1);
});

test('the vite build runs in headless Chromium: the DOM shows the reply, no console error', async () => {
  const { dir } = await getWebApp();
  const { result, problems } = await serve(path.join(dir, 'dist'), (url) => inChromium(`${url}/index.html`));
  expect(problems).toEqual([]);
  expect(result).toEqual(OK_RESULT);
});

test('the vite build runs in Firefox ESR', async () => {
  const { dir } = await getWebApp();
  const dist = path.join(dir, 'dist');
  const page = addWatcher(dist);
  const posted = await serve(dist, (url) => runInFirefox(`${url}/${page}`, { timeoutMs: 60000 }));
  expect(posted.errors).toEqual([]);
  expect(posted.value).toEqual(OK_RESULT);
}, 120000);

test('the app unbundled, with the import map docs/guide.md gives, runs in Chromium', async () => {
  const { dir } = await getWebApp(); // src/greeter.wasm built
  const guide = fs.readFileSync(path.join(root, 'docs/guide.md'), 'utf8');
  const map = guide.match(/<script type="importmap">[\s\S]*?<\/script>/);
  expect(map).not.toBeNull();
  const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8').replace('<head>', `<head>\n${map[0]}`);
  fs.writeFileSync(path.join(dir, 'unbundled.html'), html);
  const { result, problems } = await serve(dir, (url) => inChromium(`${url}/unbundled.html`));
  expect(problems).toEqual([]);
  expect(result).toEqual(OK_RESULT);
});

// esbuild does not follow `new URL(..., import.meta.url)`: as docs/api.md
// says, the worker script (one file) and the .wasm go next to the bundle.
let esbuildApp;
async function getEsbuildApp() {
  if (esbuildApp) return esbuildApp;
  const { dir } = await getWebApp(); // has src/greeter.wasm from its build
  const out = path.join(dir, 'dist-esbuild');
  fs.rmSync(out, { recursive: true, force: true });
  const b = await run(path.join(repoBin, 'esbuild'), ['src/main.js', '--bundle', '--format=esm', `--outdir=dist-esbuild`, '--log-level=warning'], { cwd: dir });
  if (b.status !== 0) throw new Error(`esbuild failed: ${said(b)}`);
  fs.copyFileSync(path.join(dir, 'node_modules/ferry/glue/worker.mjs'), path.join(out, 'worker.mjs'));
  fs.copyFileSync(path.join(dir, 'src/greeter.wasm'), path.join(out, 'greeter.wasm'));
  const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8').replace('/src/main.js', './main.js');
  fs.writeFileSync(path.join(out, 'index.html'), html);
  esbuildApp = { dir, out, build: b };
  return esbuildApp;
}

test('the same app bundled by esbuild (--bundle --format=esm) with no warnings runs in Chromium', async () => {
  const { out, build: b } = await getEsbuildApp();
  expect(b.stdout + b.stderr).toBe('');
  const { result, problems } = await serve(out, (url) => inChromium(`${url}/index.html`));
  expect(problems).toEqual([]);
  expect(result).toEqual(OK_RESULT);
});

test('the esbuild bundle runs in Firefox ESR', async () => {
  const { out } = await getEsbuildApp();
  const page = addWatcher(out);
  const posted = await serve(out, (url) => runInFirefox(`${url}/${page}`, { timeoutMs: 60000 }));
  expect(posted.errors).toEqual([]);
  expect(posted.value).toEqual(OK_RESULT);
}, 120000);

test('a page whose worker script or wasm is missing says which URL failed and why', async () => {
  const { out } = await getEsbuildApp();
  const noWorker = path.join(buildDir, 'consumer', 'esbuild-no-worker');
  const noWasm = path.join(buildDir, 'consumer', 'esbuild-no-wasm');
  for (const [dir, drop] of [[noWorker, 'worker.mjs'], [noWasm, 'greeter.wasm']]) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.cpSync(out, dir, { recursive: true });
    fs.rmSync(path.join(dir, drop));
  }
  await serve(noWorker, async (url) => {
    const { result } = await inChromium(`${url}/index.html`);
    expect(result.state).toBe('error');
    expect(result.text).toContain(`the worker script ${url}/worker.mjs failed to load: the server answers HTTP 404`);
  });
  await serve(noWasm, async (url) => {
    const { result } = await inChromium(`${url}/index.html`);
    expect(result.state).toBe('error');
    expect(result.text).toContain(`cannot compile ${url}/greeter.wasm: cannot load ${url}/greeter.wasm: HTTP 404`);
  });
  // Firefox words nothing either; the message is ferry's.
  const posted = await serve(noWorker, (url) => runInFirefox(`${url}/${addWatcher(noWorker)}`, { timeoutMs: 60000 }));
  expect(posted.value.state).toBe('error');
  expect(posted.value.text).toMatch(/the worker script http:\/\/127\.0\.0\.1:\d+\/worker\.mjs failed to load: the server answers HTTP 404/);
}, 180000);

// ------------------------------------------------------------- TypeScript

const TS_USE = `import { System, transfer, FerryError, OutOfBand, HOST, KIND, peekHeader, postItems,
  type ActorRef, type DownReason, type StartOptions } from 'ferry';
import { encode, decode, encodeToArrayBuffer, TAG_OOB } from 'ferry/cbor';
import { RUNTIME_SOURCES, DIALECT, ferryFlags, parseArgs, build, main } from 'ferry/build';

export async function use(): Promise<number> {
  const opts: StartOptions = { module: new URL('./app.wasm', import.meta.url), mailbox: { messages: 10 } };
  const sys: System = await System.start(opts);
  const ref: ActorRef = await sys.spawn('echo', { init: { a: 1 } });
  const r = await ref.call<{ n: number }>('get', { key: 'a' }, { timeout: 100 });
  await ref.call('put', { data: transfer(new Uint8Array(4)) });
  ref.down.then((d: DownReason) => d.code);
  ref.onerror = (e: FerryError) => console.log(e.code, e.errno);
  sys.handle('h', async (v) => {
    if (v === null) throw new FerryError('ENOTFOUND', 'nothing', { cause: v });
    return v;
  });
  const ab: ArrayBuffer = encodeToArrayBuffer({ a: 1 });
  const head = peekHeader(encode([KIND.CALL, 't', 1, null]));
  postItems({ postMessage() {} }, [{ buf: ab, xfer: null }]);
  const flags: string[] = ferryFlags({ opt: '-O3' });
  const o = parseArgs(['a.c', '-o', 'a.wasm']);
  const out: string = await build(o);
  const status: number = await main(['--help']);
  await sys.shutdown();
  return r.n + HOST + (head?.corr ?? 0) + new OutOfBand(TAG_OOB).index + RUNTIME_SOURCES.length + DIALECT.length +
    flags.length + out.length + status + (decode(new Uint8Array([0])) as number);
}

// Errors tsc must report: each directive below expects one on its next
// line, and tsc fails on a directive with nothing to expect.
export async function misuse(sys: System, ref: ActorRef): Promise<void> {
  // @ts-expect-error the module must be a URL, path, bytes, Response or Module
  await System.start({ module: 42 });
  // @ts-expect-error module is required
  await System.start({});
  // @ts-expect-error actor type names are strings
  await sys.spawn(7);
  // @ts-expect-error timeout is milliseconds
  await ref.call('x', 1, { timeout: 'soon' });
  // @ts-expect-error no such optimisation level
  ferryFlags({ opt: '-O9' });
  // @ts-expect-error transfer takes buffers
  transfer('text');
  // @ts-expect-error id is read-only
  ref.id = 3;
  // @ts-expect-error codes are FERRY_E* names
  new FerryError('EWHATEVER', 'x');
}
`;

// The module: 42 error, word for word, without the directive.
const TS_BAD = `import { System } from 'ferry';
export const s = System.start({ module: 42 });
`;

const TS_NO_CODEC = `import { loadCodec } from 'ferry/codec';
export { loadCodec };
`;

const tsconfig = (resolution, files) => JSON.stringify({
  compilerOptions: {
    target: 'ES2022', lib: ['ES2022', 'DOM'], strict: true, noEmit: true, skipLibCheck: false, types: [],
    module: resolution === 'bundler' ? 'ESNext' : 'NodeNext', moduleResolution: resolution,
  },
  files,
}, null, 2);

let tsApp;
async function getTsApp() {
  if (tsApp) return tsApp;
  const dir = makeApp('ts-app', {
    files: {
      'use.ts': TS_USE, 'bad.ts': TS_BAD, 'nocodec.ts': TS_NO_CODEC,
      'tsconfig.bundler.json': tsconfig('bundler', ['use.ts']),
      'tsconfig.nodenext.json': tsconfig('nodenext', ['use.ts']),
      'tsconfig.bad.json': tsconfig('bundler', ['bad.ts']),
      'tsconfig.nocodec.json': tsconfig('nodenext', ['nocodec.ts']),
    },
  });
  await installTarball(dir, packed.tarball);
  tsApp = dir;
  return dir;
}

const tsc = (dir, project) => run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: dir });

test.each(['bundler', 'nodenext'])('a TypeScript consumer type-checks under moduleResolution %s, and its misuses are errors', async (res) => {
  const dir = await getTsApp();
  const r = await tsc(dir, `tsconfig.${res}.json`);
  expect(said(r)).toBe(said({ status: 0, stdout: '', stderr: '' }));
});

test('System.start({ module: 42 }) is a type error that says what module may be; ferry/codec does not exist', async () => {
  const dir = await getTsApp();
  const bad = await tsc(dir, 'tsconfig.bad.json');
  expect(bad.status).toBe(2);
  expect(bad.stdout).toMatch(/bad\.ts\(2,33\): error TS2322: Type 'number' is not assignable to type 'string \| ArrayBuffer \| .*URL.*Module/);
  const codec = await tsc(dir, 'tsconfig.nocodec.json');
  expect(codec.status).toBe(2);
  expect(codec.stdout).toMatch(/error TS2307: Cannot find module 'ferry\/codec'/);
});
