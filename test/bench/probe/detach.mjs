// detach.mjs - runs detach.html (what detaching a received buffer before
// posting it costs: structuredClone with transfer, ArrayBuffer.transfer)
// in headless firefox-esr, and in Chromium with --chromium; prints the
// medians (us per round trip) and writes them with --json FILE.
//
//   node test/bench/probe/detach.mjs [--chromium] [--no-xfer] [--rounds N] [--json FILE]
import fs from 'node:fs';
import { runProbePage } from './browser-page.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const rounds = Number(opt('--rounds', 9));
const result = await runProbePage('test/bench/probe/detach.html', {
  chromium: args.includes('--chromium'), global: 'detachProbe',
  query: `rounds=${rounds}${args.includes('--no-xfer') ? '&noxfer' : ''}`,
});
console.log(`${result.userAgent}\nmedians (us per round trip): ${JSON.stringify(result.medians)}`);
const file = opt('--json', null);
if (file) fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), ...result }, null, 1) + '\n');
