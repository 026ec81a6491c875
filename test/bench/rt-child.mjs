// rt-child.mjs - Node runtime rows in a process of their own (child.mjs
// says why; runtime.mjs starts it):
//
//   node test/bench/rt-child.mjs '{"rows": ["rt16.call_vs_transfer"], "quick": false, "mode": "1cpu"}'
//
// mode: '1cpu' or '2cpu' pins the threads (placement.mjs), null does not.
// Prints what measure() returned as one line of JSON; progress on stderr.
import { measure } from './rt-cases.mjs';
import { makePlacement } from './placement.mjs';

const o = JSON.parse(process.argv[2] ?? '{}');
const tag = o.mode ? `node.${o.mode}` : 'node';
const log = (s) => process.stderr.write(`${tag}: ${s}\n`);
let place = null;
if (o.mode) {
  place = makePlacement(o.mode, log);
  if (place.why) log(`cannot pin threads (${place.why}); these rows run unpinned`);
}
const { results, cfg } = await measure({ rows: o.rows, quick: !!o.quick, place, log });
process.stdout.write(`${JSON.stringify({ results, cfg })}\n`);
process.exit(0);
