// serve.mjs - `npm run demo -- --web`: serves the cache demo's page on
// 127.0.0.1 and prints its URL.
//
// The page and every worker load the glue straight from the checkout, with
// no bundler. The glue imports cbor-x by its bare name, which an import map
// resolves for the page but not for workers (import maps do not reach
// module workers), and the client workers import the glue too (they
// connect to the cache). So this server rewrites that one import in the
// glue's modules it serves to cbor-x's file: page and workers then load
// the same module graph. Only the files the page needs are served.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const ALLOWED = [/^\/examples\/cache\/[\w/.-]+\.(mjs|html|css)$/, /^\/glue\/[\w/.-]+\.mjs$/, /^\/node_modules\/cbor-x\/[\w/.-]+\.js$/, /^\/build\/wasm\/cache\.wasm$/];
const TYPES = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.wasm': 'application/wasm' };
const CBOR_X = '/node_modules/cbor-x/index.js';
const PAGE = '/examples/cache/web/';

/** Starts the server; resolves {url, close}. */
export function startWebServer({ port = 0, host = '127.0.0.1' } = {}) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname === '/') {
      res.writeHead(302, { location: `${PAGE}${url.search}` }).end();
      return;
    }
    const p = url.pathname === PAGE ? `${PAGE}index.html` : url.pathname;
    if (req.method !== 'GET' || p.includes('..') || !ALLOWED.some((re) => re.test(p))) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`404 ${p}\n`);
      return;
    }
    fs.readFile(path.join(root, p), (err, data) => {
      if (err) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`404 ${p}: ${err.code}\n`);
        return;
      }
      if (p.startsWith('/glue/')) data = data.toString('utf8').replace(/from 'cbor-x'/g, `from '${CBOR_X}'`);
      res.writeHead(200, { 'content-type': TYPES[path.extname(p)] || 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(data);
    });
  });
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      resolve({
        url: `http://${host}:${server.address().port}${PAGE}`,
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

/** `npm run demo -- --web`: serve until interrupted. */
export async function serveWeb(opts) {
  if (!fs.existsSync(path.join(root, 'build/wasm/cache.wasm')))
    throw new Error('build/wasm/cache.wasm is missing: run ./configure');
  const srv = await startWebServer({ port: Number(process.env.PORT || 0) });
  const q = new URLSearchParams({ clients: opts.clients, mode: opts.mode, budgetMb: opts.budgetMb });
  console.log(`cache demo page: ${srv.url}?${q}`);
  console.log(`  (add &seconds=N for a fixed run of ferry then the baseline; Ctrl-C stops the server)`);
}
