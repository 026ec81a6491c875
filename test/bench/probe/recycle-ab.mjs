// recycle-ab.mjs - 20 MiB bytes round trips with and without recycle()
// (recycle-ab-cases.mjs): 9 alternated batches of 10 after 2 warm-up
// rounds, medians in ms per round trip. In this Node process by default;
// --chromium or --firefox runs recycle-ab.html in that browser (headless).
//
//   node test/bench/probe/recycle-ab.mjs [--chromium | --firefox] [--batches N] [--n N] [--only with|without] [--json FILE]
//
// --only runs one case alone, without the other's garbage to collect.
//
// Needs build/wasm/test-actors.wasm (./configure).
import fs from 'node:fs';
import os from 'node:os';
import { runProbePage } from './browser-page.mjs';
import { abRecycle } from './recycle-ab-cases.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const batches = Number(opt('--batches', 9));
const n = Number(opt('--n', 10));
const only = opt('--only', null);
let result;
if (args.includes('--chromium') || args.includes('--firefox')) {
  result = await runProbePage('test/bench/probe/recycle-ab.html', {
    chromium: args.includes('--chromium'), global: 'recycleAB', timeoutMs: 600000,
    query: `batches=${batches}&n=${n}${only ? `&only=${only}` : ''}`,
  });
} else {
  result = { engine: `node ${process.version}`, ...(await abRecycle({ batches, n, only })) };
}
if (result.error) throw new Error(result.error);
result = { date: new Date().toISOString(), loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100), cpus: os.cpus().length, ...result };
console.log(`${result.userAgent ?? result.engine}: ms per 20 MiB round trip without recycle ${result.msPerRoundTrip.without ?? '-'}, with ${result.msPerRoundTrip.with ?? '-'} (ratio ${result.ratio ?? '-'}); pool: ${JSON.stringify(result.pool)}`);
const file = opt('--json', null);
if (file) fs.writeFileSync(file, JSON.stringify(result, null, 1) + '\n');
