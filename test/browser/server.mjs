// server.mjs - a tiny read-only static HTTP server for the browser tests.
//
//   import { startServer } from './server.mjs';
//   const srv = await startServer({ root });      // 127.0.0.1, a free port
//   srv.url                                        // 'http://127.0.0.1:PORT'
//   await srv.close();
//
// Serves files under `root` (the repository by default) for GET and HEAD
// only, with the MIME types browsers insist on (text/javascript for
// modules, application/wasm for WebAssembly.compileStreaming). Anything
// that resolves outside the root, directories, dotfiles and missing files
// are 404. Run directly (`node test/browser/server.mjs [port]`) to open
// test/browser/page.html by hand.
//
// workerImportMap: browsers apply a page's <script type="importmap"> to the
// page only, never inside module workers (Chromium 156: a bare specifier in
// a worker's module graph fails to resolve before anything is fetched). So
// glue/worker.mjs -> glue/cbor.mjs -> 'cbor-x' cannot load unbundled. With
// this option the server does for worker scripts what the import map does
// for the page: in JavaScript requested with `Sec-Fetch-Dest: worker`
// (every module of a worker's graph), `import ... from 'SPECIFIER'` and
// `import('SPECIFIER')` of a mapped bare specifier are rewritten to the
// mapped URL. Page scripts are served untouched. `rewritten` lists the
// files that needed it; when the worker graph has no bare imports left it
// stays empty and the option is a no-op.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const TYPES = {
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

function notFound(res, why = 'not found') {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`404 ${why}\n`);
}

// Maps a request path to a file inside root, or null. Decodes %xx once,
// rejects NUL and backslashes, and checks the resolved real path (so a
// symlink out of the tree is refused too).
function resolveFile(root, urlPath) {
  let p;
  try {
    p = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (p.includes('\0') || p.includes('\\')) return null;
  if (p.split('/').some((seg) => seg.startsWith('.') && seg !== '')) return null; // .., .git, .env
  const file = path.resolve(root, '.' + path.posix.normalize('/' + p));
  if (file !== root && !file.startsWith(root + path.sep)) return null;
  let real;
  try {
    real = fs.realpathSync(file);
  } catch {
    return null;
  }
  if (real !== root && !real.startsWith(root + path.sep)) return null;
  return real;
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Rewrites mapped bare specifiers in static and dynamic imports/exports.
function applyImportMap(source, imports) {
  let out = source;
  for (const [spec, target] of Object.entries(imports)) {
    const q = `(['"])${escapeRe(spec)}\\2`; // group 1 is the prefix
    out = out
      .replace(new RegExp(`(\\bfrom\\s*)${q}`, 'g'), (_, pre, quote) => `${pre}${quote}${target}${quote}`)
      .replace(new RegExp(`(\\bimport\\s*(?:\\(\\s*)?)${q}`, 'g'), (_, pre, quote) => `${pre}${quote}${target}${quote}`);
  }
  return out;
}

/** Reads the import map of an HTML file (its first <script type="importmap">). */
export function readImportMap(htmlFile) {
  const html = fs.readFileSync(htmlFile, 'utf8');
  const m = html.match(/<script\s+type=["']importmap["']\s*>([\s\S]*?)<\/script>/i);
  if (!m) throw new Error(`${htmlFile} has no <script type="importmap">`);
  return JSON.parse(m[1]);
}

/**
 * Starts the server.
 * @param {{root?: string, port?: number, host?: string, workerImportMap?: {imports: object}}} [opts]
 * @returns {Promise<{url: string, port: number, close: () => Promise<void>,
 *   requests: string[], rewritten: Set<string>}>}
 */
export function startServer({ root = repoRoot, port = 0, host = '127.0.0.1', workerImportMap = null } = {}) {
  const realRoot = fs.realpathSync(root);
  const requests = [];
  const rewritten = new Set();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    requests.push(`${req.method} ${url.pathname}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
      res.end('405 read-only\n');
      return;
    }
    const file = resolveFile(realRoot, url.pathname);
    if (!file) return notFound(res);
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) return notFound(res);
      const ext = path.extname(file).toLowerCase();
      const type = TYPES[ext] || 'application/octet-stream';
      const headers = { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
      if (workerImportMap && req.headers['sec-fetch-dest'] === 'worker' && /^\.[cm]?js$/.test(ext)) {
        fs.readFile(file, 'utf8', (err2, text) => {
          if (err2) return notFound(res);
          const out = applyImportMap(text, workerImportMap.imports || {});
          if (out !== text) rewritten.add(url.pathname);
          res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(out) });
          res.end(req.method === 'HEAD' ? undefined : out);
        });
        return;
      }
      res.writeHead(200, { ...headers, 'content-length': st.size });
      if (req.method === 'HEAD') return res.end();
      fs.createReadStream(file).on('error', () => res.destroy()).pipe(res);
    });
  });
  // Keep-alive sockets would hold close() open; track and end them.
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const actual = server.address().port;
      resolve({
        url: `http://${host}:${actual}`,
        port: actual,
        requests,
        rewritten,
        close: () => new Promise((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        }),
      });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const srv = await startServer({ port: Number(process.argv[2] || 0) });
  console.log(`serving ${repoRoot} at ${srv.url}/test/browser/page.html`);
}
