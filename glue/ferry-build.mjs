#!/usr/bin/env node
// ferry-build - compile C actors into a wasm module for System.start.
//
//   node glue/ferry-build.mjs my_actors.c [more.c ...] -o app.wasm [options]
//
// Options:
//   -o FILE        output (default: a.wasm)
//   -O0..-O3, -Os, -Oz   optimisation (default -O2)
//   -I DIR, -D NAME[=V]  passed to the compiler
//   -g             keep debug info
//   -v, --verbose  print the emcc command
//   -- ARGS        the rest goes to emcc unchanged
//
// It supplies ferry's include path and runtime sources and the emcc flags a
// ferry module needs: a standalone wasm (no emscripten JS), Asyncify with
// only the wait import (worker/abi.mjs) instrumented, growable memory.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUSPENDING_IMPORT, EXPORTS } from './worker/abi.mjs';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The C runtime, layer by layer (meson.build lists the same files). */
export const RUNTIME_SOURCES = [
  'error.c',
  'cbor/encode.c', 'cbor/read.c', 'cbor/text.c',
  'schema/arena.c', 'schema/encode.c', 'schema/decode.c',
  'runtime/envelope.c', 'runtime/actor.c', 'runtime/message.c', 'runtime/call.c', 'runtime/blob.c',
].map((f) => path.join(pkg, 'src', f));

/** The emcc arguments for a ferry module (exported for the build system). */
export function ferryFlags({ opt = '-O2', debug = false } = {}) {
  return [
    '-std=c11', opt, ...(debug ? ['-g'] : []),
    '-Wall', '-Wextra',
    '-I', path.join(pkg, 'include'), '-I', path.join(pkg, 'src'),
    '-sSTANDALONE_WASM=1', '--no-entry',
    '-sASYNCIFY=1', `-sASYNCIFY_IMPORTS=["${SUSPENDING_IMPORT}"]`,
    '-sALLOW_MEMORY_GROWTH=1', '-sINITIAL_MEMORY=16777216',
    '-sEXPORTED_FUNCTIONS=["_malloc","_free"]',
    '-sWARN_ON_UNDEFINED_SYMBOLS=0', '-sERROR_ON_UNDEFINED_SYMBOLS=0',
  ];
}

function usage(code, msg) {
  if (msg) process.stderr.write(`ferry-build: ${msg}\n`);
  process.stderr.write('usage: ferry-build FILE.c [FILE.c ...] -o OUT.wasm [-O2] [-I DIR] [-D NAME] [-g] [-v] [-- EMCC ARGS]\n');
  process.exit(code);
}

function main(argv) {
  const inputs = [];
  const extra = [];
  let out = 'a.wasm';
  let opt = '-O2';
  let debug = false;
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { extra.push(...argv.slice(i + 1)); break; }
    if (a === '-o') out = argv[++i] ?? usage(2, '-o needs a file name');
    else if (/^-O[0-3sz]$/.test(a)) opt = a;
    else if (a === '-g') debug = true;
    else if (a === '-v' || a === '--verbose') verbose = true;
    else if (a === '-h' || a === '--help') usage(0);
    else if (a === '-I' || a === '-D') extra.push(a, argv[++i] ?? usage(2, `${a} needs a value`));
    else if (a.startsWith('-I') || a.startsWith('-D')) extra.push(a);
    else if (a.startsWith('-')) usage(2, `unknown option ${a}`);
    else inputs.push(a);
  }
  if (!inputs.length) usage(2, 'no C source given');
  for (const f of inputs) if (!fs.existsSync(f)) usage(2, `no such file: ${f}`);
  if (!out.endsWith('.wasm')) usage(2, `the output must end in .wasm, got ${out}`);

  const emcc = process.env.EMCC || 'emcc';
  const env = { ...process.env };
  // Debian's emscripten needs its JS optimizer's modules (acorn) from here.
  if (fs.existsSync('/usr/share/nodejs')) env.NODE_PATH = ['/usr/share/nodejs', env.NODE_PATH].filter(Boolean).join(':');
  const args = [...ferryFlags({ opt, debug }), ...RUNTIME_SOURCES, ...inputs, ...extra, '-o', out];
  if (verbose) process.stderr.write(`${emcc} ${args.join(' ')}\n`);
  const r = spawnSync(emcc, args, { stdio: 'inherit', env });
  if (r.error) {
    process.stderr.write(`ferry-build: cannot run ${emcc}: ${r.error.message}\n` +
      'ferry-build: install emscripten (Debian: apt-get install emscripten) or set EMCC\n');
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
  // emcc writes a .wasm only; check that it is a ferry module.
  const mod = new WebAssembly.Module(fs.readFileSync(out));
  const names = WebAssembly.Module.exports(mod).map((e) => e.name);
  if (!names.includes(EXPORTS.START)) {
    process.stderr.write(`ferry-build: ${out} has no ${EXPORTS.START} export (no FERRY_ACTOR in the sources?)\n`);
    process.exit(1);
  }
  if (verbose) process.stderr.write(`ferry-build: wrote ${out} (${fs.statSync(out).size} bytes)\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) main(process.argv.slice(2));
