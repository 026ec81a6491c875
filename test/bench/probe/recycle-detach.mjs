// recycle-detach.mjs - runs recycle-detach.html (which way recycle()
// detaches a 20 MiB buffer that came from a worker, and what a round trip
// in the detached-and-reused buffer costs) in headless firefox-esr, and in
// Chromium with --chromium; prints the medians and writes them with
// --json FILE.
//
//   node test/bench/probe/recycle-detach.mjs [--chromium] [--batches N] [--n N] [--json FILE]
import fs from 'node:fs';
import { runProbePage } from './browser-page.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const result = await runProbePage('test/bench/probe/recycle-detach.html', {
  chromium: args.includes('--chromium'), global: 'recycleDetach',
  query: `batches=${opt('--batches', 9)}&n=${opt('--n', 10)}`,
});
console.log(`${result.userAgent}\nms per round trip: ${JSON.stringify(result.msPerRoundTrip)}\nus per detach: ${JSON.stringify(result.usPerDetach)}`);
const file = opt('--json', null);
if (file) fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), ...result }, null, 1) + '\n');
