#!/usr/bin/env node
// ferry-build - compile C actors into a wasm module for System.start.
//
//   npx ferry-build my_actors.c [more.c ...] -o app.wasm [options]
//   node node_modules/ferry/glue/ferry-build.mjs ...      (the same)
//
// It supplies ferry's include path and runtime sources and the emcc flags a
// ferry module needs: a standalone wasm (no emscripten JS), Asyncify with
// only the wait import (worker/abi.mjs) instrumented, growable memory.
//
// The C dialect is chosen, not left to the compiler: -std=gnu11, which is
// C11 with the POSIX and BSD functions of emscripten's libc (musl) declared
// by their usual headers (strdup, strndup, getline, ...; -std=c11 hides
// them and emcc makes an implicit declaration an error). Warnings are
// -Wall -Wextra. Every option a user passes comes after ferry's, so theirs
// win (-std=c11, -Wno-unused-parameter, -O3, -Werror, ...). They apply to
// ferry's runtime sources too, which are clean under -Wall -Wextra -Wpedantic.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUSPENDING_IMPORT, EXPORTS } from './worker/abi.mjs';
import { memorySection } from './host/memory.mjs';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The C runtime, layer by layer (meson.build lists the same files). */
export const RUNTIME_SOURCES = [
  'error.c',
  'cbor/encode.c', 'cbor/read.c', 'cbor/text.c',
  'schema/arena.c', 'schema/encode.c', 'schema/decode.c',
  'runtime/envelope.c', 'runtime/actor.c', 'runtime/message.c', 'runtime/call.c', 'runtime/blob.c',
  'runtime/memory.c',
].map((f) => path.join(pkg, 'src', f));

/** The C dialect and warnings ferry-build compiles with (before the user's flags). */
export const DIALECT = ['-std=gnu11', '-Wall', '-Wextra'];

/** The emcc arguments for a ferry module, before the user's own. */
export function ferryFlags({ opt = '-O2', debug = false } = {}) {
  return [
    ...DIALECT, opt, ...(debug ? ['-g'] : []),
    '-I', path.join(pkg, 'include'), '-I', path.join(pkg, 'src'),
    '-sSTANDALONE_WASM=1', '--no-entry',
    '-sASYNCIFY=1', `-sASYNCIFY_IMPORTS=["${SUSPENDING_IMPORT}"]`,
    '-sALLOW_MEMORY_GROWTH=1', '-sINITIAL_MEMORY=16777216',
    // The worker makes the memory, with the actor's cap as its maximum
    // (glue/host/memory.mjs); sbrk is wrapped so that a grow refused at
    // the cap is reported to the glue (src/runtime/memory.c).
    '-sIMPORTED_MEMORY=1', '-Wl,--wrap=sbrk',
    '-sEXPORTED_FUNCTIONS=["_malloc","_free"]',
    '-sWARN_ON_UNDEFINED_SYMBOLS=0', '-sERROR_ON_UNDEFINED_SYMBOLS=0',
  ];
}

const USAGE = `usage: ferry-build FILE.c [FILE.c ...] [-o OUT.wasm] [options]

Compiles C actors (FERRY_ACTOR) with ferry's runtime into a wasm module for
System.start. Needs emscripten's emcc on PATH (or in $EMCC).

  -o FILE          output, ending in .wasm (default: a.wasm)
  -O0 ... -O3, -Os, -Oz
                   optimisation (default -O2)
  -g               keep debug information
  -I DIR, -D NAME[=VALUE], -U NAME
                   passed to the compiler
  -v, --verbose    print the emcc command and the result's size
  --version        print ferry's version
  -h, --help       this text
  -- ARGS          everything after -- goes to emcc unchanged

Any other option that starts with - (-std=..., -W..., -f..., -s..., -l...,
-L...) goes to emcc after ferry's own: ferry compiles as -std=gnu11 -Wall
-Wextra, and what you pass wins.
`;

class UsageError extends Error {}

/** Parses ferry-build's command line. Throws UsageError on bad input. */
export function parseArgs(argv) {
  const o = { inputs: [], extra: [], out: 'a.wasm', opt: '-O2', debug: false, verbose: false, help: false, version: false };
  const value = (i, flag) => {
    if (i >= argv.length) throw new UsageError(`${flag} needs a value`);
    return argv[i];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { o.extra.push(...argv.slice(i + 1)); break; }
    if (a === '-o') o.out = value(++i, '-o');
    else if (/^-O[0-3sz]$/.test(a)) o.opt = a;
    else if (a === '-g') o.debug = true;
    else if (a === '-v' || a === '--verbose') o.verbose = true;
    else if (a === '-h' || a === '--help') o.help = true;
    else if (a === '--version') o.version = true;
    else if (a === '-I' || a === '-D' || a === '-U') o.extra.push(a, value(++i, a));
    else if (a === '-') throw new UsageError('reading C from stdin is not supported: name a file');
    else if (a.startsWith('-')) o.extra.push(a);
    else o.inputs.push(a);
  }
  return o;
}

// Runs emcc, passing its output through and keeping stderr for hints.
function runEmcc(emcc, args, env) {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(emcc, args, { stdio: ['ignore', 'inherit', 'pipe'], env });
    } catch (error) {
      resolve({ error });
      return;
    }
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
      process.stderr.write(d);
    });
    child.on('error', (error) => resolve({ error }));
    child.on('close', (status, signal) => resolve({ status, signal, stderr }));
  });
}

/** Builds a module; resolves with the output path or throws an Error whose
 * message says what to do. */
export async function build(o) {
  if (!o.inputs.length) throw new UsageError('no C source given');
  for (const f of o.inputs) {
    let st;
    try {
      st = fs.statSync(f);
    } catch {
      throw new UsageError(`no such file: ${f}`);
    }
    if (!st.isFile()) throw new UsageError(`not a file: ${f}`);
  }
  if (!o.out.endsWith('.wasm')) throw new UsageError(`the output must end in .wasm, got ${o.out}`);
  fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });

  const emcc = process.env.EMCC || 'emcc';
  const env = { ...process.env };
  // Debian's emscripten needs its JS optimizer's modules (acorn) from here.
  if (fs.existsSync('/usr/share/nodejs')) env.NODE_PATH = ['/usr/share/nodejs', env.NODE_PATH].filter(Boolean).join(path.delimiter);
  const args = [...ferryFlags({ opt: o.opt, debug: o.debug }), ...o.extra, ...RUNTIME_SOURCES, ...o.inputs, '-o', o.out];
  if (o.verbose) process.stderr.write(`${emcc} ${args.join(' ')}\n`);
  const r = await runEmcc(emcc, args, env);
  if (r.error) {
    throw new Error(`cannot run ${emcc}: ${r.error.message}\n` +
      'ferry-build needs emscripten: install it (Debian/Ubuntu: apt-get install emscripten; elsewhere: emsdk) ' +
      'so that emcc is on PATH, or set EMCC to its path');
  }
  if (r.status !== 0) {
    let msg = `emcc failed (${r.signal ? `signal ${r.signal}` : `exit status ${r.status}`}); the compiler's messages are above`;
    if (/implicit declaration of function/.test(r.stderr)) {
      msg += '\nhint: include the header that declares the function. ferry-build compiles as -std=gnu11, so ' +
        'POSIX functions (strdup, getline, ...) are declared by their usual headers unless you passed -std=c11 or similar';
    }
    throw new Error(msg);
  }
  // emcc writes a .wasm only; check that it is a ferry module.
  let names;
  try {
    const bytes = fs.readFileSync(o.out);
    names = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
    // The memory import's limits, for the worker that makes the memory.
    const sec = memorySection(bytes);
    if (sec) fs.appendFileSync(o.out, sec);
  } catch (e) {
    throw new Error(`emcc succeeded but ${o.out} is not a loadable wasm module: ${e.message}`);
  }
  if (!names.includes(EXPORTS.START)) {
    fs.rmSync(o.out, { force: true });
    throw new Error(`${o.out} has no ${EXPORTS.START} export, so it is not a ferry module (was EMCC=${emcc} emscripten's emcc?); the file was removed`);
  }
  // Actors register themselves when the module starts (FERRY_ACTOR is a
  // constructor), so a module without any is valid and fails only at
  // spawn. Say so now when no source mentions one.
  if (!o.inputs.some((f) => fs.readFileSync(f, 'latin1').includes('FERRY_ACTOR'))) {
    process.stderr.write(`ferry-build: warning: no FERRY_ACTOR(...) in ${o.inputs.join(', ')}: spawn will find no actor types in ${o.out}\n`);
  }
  if (o.verbose) process.stderr.write(`ferry-build: wrote ${o.out} (${fs.statSync(o.out).size} bytes)\n`);
  return o.out;
}

/** The command: exits 0 on success, 2 on a usage error, 1 on any failure. */
export async function main(argv) {
  try {
    const o = parseArgs(argv);
    if (o.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (o.version) {
      process.stdout.write(`ferry-build ${JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')).version}\n`);
      return 0;
    }
    await build(o);
    return 0;
  } catch (e) {
    process.stderr.write(`ferry-build: ${e.message}\n`);
    if (e instanceof UsageError) {
      process.stderr.write('try: ferry-build --help\n');
      return 2;
    }
    return 1;
  }
}

// Run as a command, however it was reached: `npx ferry-build` and npm
// scripts go through a symlink in node_modules/.bin, so compare real paths
// (comparing argv[1] as given with this file made the command a silent
// no-op there).
function isMain() {
  if (!process.argv[1]) return false;
  try {
    return fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) process.exitCode = await main(process.argv.slice(2));
