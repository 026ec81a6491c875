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
// Workers load glue/worker.mjs (one generated file) with no bare specifiers
// (import maps do not reach module workers), so the page's import map for
// cbor-x is all the page needs.
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

/**
 * Starts the server.
 * @param {{root?: string, port?: number, host?: string}} [opts]
 * @returns {Promise<{url: string, port: number, close: () => Promise<void>,
 *   requests: string[]}>}
 */
export function startServer({ root = repoRoot, port = 0, host = '127.0.0.1' } = {}) {
  const realRoot = fs.realpathSync(root);
  const requests = [];
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
