// ferry-build (the one command users compile actors with) and the error
// table shared by C and JS.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { System } from '../../glue/index.mjs';
import { ERRNO } from '../../glue/wire/errors.mjs';
import { loadCodec } from '../../glue/codec-wasm.mjs';
import { root, wasmDir, mustExist } from './paths.mjs';

jest.setTimeout(120000);
const build = path.join(root, 'glue/ferry-build.mjs');
const run = (args) => spawnSync(process.execPath, [build, ...args], { encoding: 'utf8' });

test('ferry-build compiles a user actor into a module that runs', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-build-'));
  const src = path.join(dir, 'greeter.c');
  fs.writeFileSync(src, `
#include <ferry.h>
#include <stdio.h>
typedef struct greet { const char *name; uint32_t times; } greet;
FERRY_SCHEMA(greet_schema, greet, FERRY_F_CSTR(greet, name), FERRY_F_U32(greet, times));
static int greeter(ferry_msg *init) {
    (void)init;
    ferry_msg m;
    ferry_arena a;
    ferry_arena_init(&a);
    while (ferry_recv(&m, FERRY_FOREVER) == FERRY_OK) {
        greet g;
        ferry_decode_error err;
        if (ferry_msg_decode(&m, &greet_schema, &g, &a, &err)) {
            ferry_reply_error(&m, err.code, err.message);
        } else {
            char text[64];
            snprintf(text, sizeof text, "hello %s x%u", g.name, (unsigned)g.times);
            ferry_cbor_buf b;
            ferry_cbor_buf_init(&b);
            ferry_cbor_put_cstr(&b, text);
            ferry_reply_raw(&m, b.data, b.len);
            ferry_cbor_buf_free(&b);
        }
        ferry_msg_free(&m);
        ferry_arena_reset(&a);
    }
    return 0;
}
FERRY_ACTOR("greeter", greeter);
`);
  const out = path.join(dir, 'app.wasm');
  const r = run([src, '-o', out]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const sys = await System.start({ module: out });
  const g = await sys.spawn('greeter');
  expect(await g.call('greet', { name: 'ann', times: 3 })).toBe('hello ann x3');
  await expect(g.call('greet', { name: 'ann' })).rejects.toThrow('greet.times: required field missing');
  await sys.shutdown();
  fs.rmSync(dir, { recursive: true });
});

test('ferry-build reports bad input clearly', () => {
  let r = run([]);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/no C source given/);
  r = run(['/nonexistent.c', '-o', '/tmp/x.wasm']);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/no such file: \/nonexistent.c/);
  r = run([path.join(root, 'examples/echo/echo.c'), '-o', '/tmp/x.js']);
  expect(r.stderr).toMatch(/must end in .wasm/);
  // Other options go to emcc (after ferry's, so they win): emcc judges them.
  r = run([path.join(root, 'examples/echo/echo.c'), '-o', '/tmp/x.wasm', '--frob']);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/--frob[\s\S]*ferry-build: emcc failed \(exit status 1\)/);
  // A compile error is emcc's own message, and a non-zero exit.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-build-'));
  fs.writeFileSync(path.join(dir, 'bad.c'), 'int f(void) { return undefined_thing; }\n');
  r = run([path.join(dir, 'bad.c'), '-o', path.join(dir, 'bad.wasm')]);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/undefined_thing/);
  fs.rmSync(dir, { recursive: true });
});

test('the JS error table matches the C one', async () => {
  const { default: factory } = await import(mustExist(path.join(wasmDir, 'ferry-codec.mjs')));
  const module = await WebAssembly.compile(fs.readFileSync(mustExist(path.join(wasmDir, 'ferry-codec.wasm'))));
  // loadCodec hides the raw module; instantiate once more for errname.
  let m;
  await loadCodec({ factory: async (o) => (m = await factory(o)), module });
  const names = {};
  for (let code = 0; code >= -40; code--) {
    const p = m._fy_js_errname(code);
    let s = '';
    for (let i = p; m.HEAPU8[i]; i++) s += String.fromCharCode(m.HEAPU8[i]);
    if (s !== 'EUNKNOWN') names[s] = code;
  }
  expect(names).toEqual({ ...ERRNO });
});
