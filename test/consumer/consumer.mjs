// consumer.mjs - the package as a new user meets it, for
// test/js/package.test.mjs: pack it, install the tarball into fresh apps
// under build/consumer/, run commands there.
//
// Offline-friendly: the only registry traffic is `npm install` of the
// tarball's own dependencies (cbor-x and its optional helpers), with
// --prefer-offline so npm's cache answers when it can. The tools a user
// would add to an app (vite, esbuild, typescript) come from this
// repository's node_modules (its lock file): their bin folder goes first on
// PATH, so an app's own `npm run build` finds them as if installed there.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { root, buildDir } from '../js/paths.mjs';

export const consumerDir = path.join(buildDir, 'consumer');
export const repoBin = path.join(root, 'node_modules', '.bin');
const npmCli = process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath) ? process.env.npm_execpath : null;

/** Environment for commands in an app: repo tools on PATH, no npm noise. */
export function appEnv(extra = {}) {
  const env = { ...process.env, PATH: `${repoBin}${path.delimiter}${process.env.PATH}`, ...extra };
  // What `npm test` exports about this repository must not reach the apps'
  // npm and node: with npm_config_local_prefix an `npm install` in an app
  // would install into the repository. The user's npm settings stay.
  for (const k of Object.keys(env)) {
    if (/^npm_(?!config_)|^npm_config_(local_prefix|prefix|global_prefix)$|^(NODE_OPTIONS|INIT_CWD)$|^JEST_/.test(k)) delete env[k];
  }
  env.npm_config_fund = 'false';
  env.npm_config_audit = 'false';
  env.npm_config_update_notifier = 'false';
  return env;
}

/**
 * Runs a command; resolves with { status, stdout, stderr, ms } (never
 * rejects on a non-zero status: the tests look at it).
 */
export function run(cmd, args, { cwd, env = appEnv(), timeoutMs = 120000 } = {}) {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status: signal ? `killed by ${signal} (timeout ${timeoutMs} ms?)` : status, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** `npm ARGS` with the npm that runs this test (or the one on PATH). */
export const npm = (args, opts) => (npmCli ? run(process.execPath, [npmCli, ...args], opts) : run('npm', args, opts));

/** A command's output, for error messages. */
export const said = (r) => `status ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** Packs the package into build/consumer/; resolves with the tarball's
 * path and npm's list of its files. */
export async function pack() {
  fs.mkdirSync(consumerDir, { recursive: true });
  for (const f of fs.readdirSync(consumerDir)) if (f.endsWith('.tgz')) fs.rmSync(path.join(consumerDir, f));
  const r = await npm(['pack', '--json', '--pack-destination', consumerDir], { cwd: root });
  if (r.status !== 0) throw new Error(`npm pack failed: ${said(r)}`);
  const [info] = JSON.parse(r.stdout);
  return { tarball: path.join(consumerDir, info.filename), files: info.files.map((f) => f.path).sort(), size: info.size, unpackedSize: info.unpackedSize };
}

/**
 * A fresh app folder build/consumer/NAME with a package.json and files
 * ({ relative path: text }), or a copy of `template` (minus its
 * dependencies: the tarball is installed instead, the dev tools come from
 * this repository).
 */
export function makeApp(name, { files = {}, template = null, pkg = {} } = {}) {
  const dir = path.join(consumerDir, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  let manifest = { name: `consumer-${name}`, private: true, version: '0.0.0', type: 'module' };
  if (template) {
    fs.cpSync(template, dir, {
      recursive: true,
      filter: (src) => !/(^|\/)(node_modules|dist)(\/|$)|\.wasm$/.test(path.relative(template, src)),
    });
    manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    delete manifest.dependencies;
    delete manifest.devDependencies;
  }
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ ...manifest, ...pkg }, null, 2) + '\n');
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

/** `npm install TARBALL` in an app, as the README says. */
export async function installTarball(dir, tarball) {
  const r = await npm(['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: dir, timeoutMs: 180000 });
  if (r.status !== 0) throw new Error(`npm install ${tarball} failed in ${dir}: ${said(r)}`);
  return r;
}
