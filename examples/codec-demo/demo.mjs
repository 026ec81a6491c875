// npm run demo (until the actor runtime exists): runs the codec demo as
// wasm under node, the way ferry actors will run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const prog = path.join(root, 'build/wasm/codec_demo.js');
if (!fs.existsSync(prog)) {
  console.error(`${prog} is missing: run ./configure first`);
  process.exit(1);
}
console.log('ferry codec demo (C compiled to wasm, running in node)\n');
const r = spawnSync(process.execPath, ['--no-experimental-fetch', prog], { stdio: 'inherit' });
process.exit(r.status ?? 1);
