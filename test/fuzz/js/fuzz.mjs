#!/usr/bin/env node
// fuzz.mjs - runs one JS fuzz target (engine.mjs) and prints its totals as
// one JSON line at the end (test/fuzz/run.mjs reads it).
//
//   node test/fuzz/js/fuzz.mjs --target js_envelope|js_port --seconds N
//        [--corpus DIR] [--seeds DIR] [--artifacts DIR] [--seed N] [--quiet]
//   node test/fuzz/js/fuzz.mjs --target NAME --replay FILE...
//   node test/fuzz/js/fuzz.mjs --target NAME --merge OUT_DIR IN_DIR...
import { fuzz, mergeCorpus } from './engine.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const name = opt('target', 'js_envelope');
const targets = {
  js_envelope: () => import('./target-envelope.mjs'),
  js_port: () => import('./target-port.mjs'),
};
if (!targets[name]) {
  console.error(`fuzz.mjs: no target ${name} (have: ${Object.keys(targets).join(', ')})`);
  process.exit(2);
}
const { target } = await targets[name]();

if (args.includes('--replay')) {
  // Runs saved inputs once each and says what each does.
  const fs = await import('node:fs');
  const files = args.slice(args.indexOf('--replay') + 1);
  if (target.setup) await target.setup();
  let bad = 0;
  for (const f of files) {
    try {
      await target.run(new Uint8Array(fs.readFileSync(f)));
      if (target.check) await target.check();
      console.log(`${f}: ok`);
    } catch (e) {
      bad++;
      console.log(`${f}: ${e.kind ?? e.name}: ${e.message}`);
    }
  }
  if (target.teardown) await target.teardown();
  process.exit(bad ? 1 : 0);
}

if (args.includes('--merge')) {
  const [out, ...ins] = args.slice(args.indexOf('--merge') + 1);
  const added = await mergeCorpus(target, out, ins);
  console.log(JSON.stringify({ target: name, merged: added }));
  process.exit(0);
}

const quiet = args.includes('--quiet');
const result = await fuzz(target, {
  seconds: Number(opt('seconds', 10)),
  corpusDir: opt('corpus'),
  seedDirs: opt('seeds') ? [opt('seeds')] : [],
  artifactDir: opt('artifacts'),
  seed: opt('seed') !== undefined ? Number(opt('seed')) : undefined,
  log: quiet ? () => {} : (s) => console.error(s),
});
console.log(JSON.stringify(result));
// A target's worker or ports may keep the loop alive; the totals are out.
process.exit(0);
