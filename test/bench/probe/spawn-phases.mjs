// spawn-phases.mjs - runs spawn-phases.html (where spawn8_vs_js's time goes
// in a browser) in headless firefox-esr, and in Chromium with --chromium;
// prints the medians (ms for 8 workers) and writes them with --json FILE.
//
//   node test/bench/probe/spawn-phases.mjs [--chromium] [--rounds N] [--json FILE]
//
// Needs build/wasm/test-actors.wasm (./configure).
import fs from 'node:fs';
import { runProbePage } from './browser-page.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const rounds = Number(opt('--rounds', 11));
const result = await runProbePage('test/bench/probe/spawn-phases.html', {
  chromium: args.includes('--chromium'), global: 'spawnPhases', query: `rounds=${rounds}`,
});
const m = result.medians;
console.log(`${result.userAgent}\nmedians for 8 workers (ms): js ${m.js}, bundle ${m.bundle}, spawn ${m.spawn}, spawn + call ${m.call}`);
const file = opt('--json', null);
if (file) fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), ...result }, null, 1) + '\n');
