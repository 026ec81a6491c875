// serve.mjs - a tiny static HTTP server for the browser benchmarks
// (test/bench/runtime.mjs): read-only, 127.0.0.1 only, a free port.
//
//   import { startServer } from './serve.mjs';
//   const srv = await startServer({ root });   // srv.url: 'http://127.0.0.1:PORT'
//   await srv.close();
//
// `node test/bench/serve.mjs [port]` serves the repository by hand; open
// http://127.0.0.1:PORT/test/bench/bench.html and call
// `await ferryBench.run({rows: ['rt16.call_vs_transfer'], quick: true})`
// in the console.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** Starts the server; resolves with { url, port, close() }. */
export function startServer({ root = ROOT, port = 0 } = {}) {
  const base = path.resolve(root);
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    let rel;
    try {
      rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const file = path.resolve(base, `.${rel}`);
    const inside = file === base || file.startsWith(base + path.sep);
    const hidden = path.relative(base, file).split(path.sep).some((p) => p.startsWith('.'));
    let stat = null;
    if (inside && !hidden) {
      try {
        stat = fs.statSync(file);
      } catch {}
    }
    if (!stat || !stat.isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${rel}\n`);
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
      'Content-Length': stat.size,
      // Cacheable, as a site's static files would be: a spawn then costs a
      // worker the same module fetches (none) whether it is ferry's or a
      // bare JS worker. Every bench run starts a fresh browser profile.
      'Cache-Control': 'max-age=3600',
    });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const p = server.address().port;
      resolve({
        url: `http://127.0.0.1:${p}`,
        port: p,
        close: () => new Promise((r) => {
          server.closeAllConnections?.();
          server.close(() => r());
        }),
      });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const srv = await startServer({ port: Number(process.argv[2] || 0) });
  process.stdout.write(`serving ${ROOT} at ${srv.url}/test/bench/bench.html\n`);
}
