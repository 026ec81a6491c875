// The C <-> JS interface is declared twice, once per language:
// src/runtime/imports.h (FY_IMPORTS, the META and SEG words, the export
// names) and glue/worker/abi.mjs. This test reads both, and the import
// section of a module built by ferry-build, and fails if any two disagree.
import fs from 'node:fs';
import path from 'node:path';
import { IMPORTS, META, SEG, EXPORTS, REQUIRED_EXPORTS, SUSPENDING_IMPORT } from '../../glue/worker/abi.mjs';
import { makeImports } from '../../glue/worker/imports.mjs';
import { ferryFlags } from '../../glue/ferry-build.mjs';
import { root, wasmDir, mustExist } from './paths.mjs';

const header = fs.readFileSync(path.join(root, 'src/runtime/imports.h'), 'utf8');

/** FY_IMPORTS(X) entries: name -> wasm type string. */
function headerImports() {
  const table = header.slice(header.indexOf('#define FY_IMPORTS(X)'), header.indexOf('/* The words fy_take writes'));
  const flat = table.replace(/\\\n/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ');
  const out = {};
  for (const m of flat.matchAll(/X\(\s*(\w+)\s*,[^"]*"([^"]+)"\s*\)/g)) out[m[1]] = m[2];
  return out;
}

/** enum values of the header whose names start with prefix. */
function headerEnum(prefix) {
  const out = {};
  for (const m of header.matchAll(new RegExp(`\\b${prefix}(\\w+)\\s*=\\s*(\\d+)`, 'g'))) out[m[1]] = Number(m[2]);
  return out;
}

// --- a small reader of a wasm binary's type and import sections.
function wasmImports(bytes) {
  let p = 8; // magic and version
  const u32 = () => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[p++];
      v |= (b & 0x7f) << shift;
      if (!(b & 0x80)) return v >>> 0;
      shift += 7;
    }
  };
  const name = () => {
    const n = u32();
    const s = new TextDecoder().decode(bytes.subarray(p, p + n));
    p += n;
    return s;
  };
  const VAL = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64' };
  const types = [];
  const imports = {};
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = u32();
    const end = p + size;
    if (id === 1) {
      const n = u32();
      for (let i = 0; i < n; i++) {
        expect(bytes[p++]).toBe(0x60);
        const params = Array.from({ length: u32() }, () => VAL[bytes[p++]]);
        const results = Array.from({ length: u32() }, () => VAL[bytes[p++]]);
        types.push(`(${params.join(',')})->${results.length ? results.join(',') : '()'}`);
      }
    } else if (id === 2) {
      const n = u32();
      for (let i = 0; i < n; i++) {
        const mod = name();
        const field = name();
        const kind = bytes[p++];
        if (kind !== 0) break; // only functions are imported by ferry modules
        imports[`${mod}.${field}`] = types[u32()];
      }
    }
    p = end;
  }
  return imports;
}

test('imports.h and abi.mjs declare the same imports with the same types', () => {
  expect(headerImports()).toEqual({ ...IMPORTS });
});

test('the META and SEG words and the export names agree', () => {
  const meta = headerEnum('FY_META_');
  expect(meta).toEqual({ ...META });
  const seg = headerEnum('FY_SEG_');
  expect(seg).toEqual({ ...SEG });
  expect(header).toMatch(new RegExp(`#define FY_EXPORT_START "${EXPORTS.START}"`));
  expect(header).toMatch(new RegExp(`#define FY_EXPORT_TYPE_NAMES "${EXPORTS.TYPE_NAMES}"`));
  expect(header).toMatch(new RegExp(`X\\(${SUSPENDING_IMPORT}, `));
});

test('a built module imports exactly what abi.mjs declares, with those types', () => {
  const bytes = new Uint8Array(fs.readFileSync(mustExist(path.join(wasmDir, 'test-actors.wasm'))));
  const imports = wasmImports(bytes);
  const env = Object.fromEntries(Object.entries(imports)
    .filter(([k]) => k.startsWith('env.fy_')).map(([k, v]) => [k.slice(4), v]));
  // The test actors use every import, so all must be there.
  expect(env).toEqual({ ...IMPORTS });
  const mod = new WebAssembly.Module(bytes);
  const exports = WebAssembly.Module.exports(mod).map((e) => e.name);
  for (const name of REQUIRED_EXPORTS) expect(exports).toContain(name);
});

test('the glue implements every declared import, and ferry-build suspends only the wait', () => {
  const env = makeImports({ ports: {}, blobs: {}, stats: {}, mem: {} });
  for (const name of Object.keys(IMPORTS)) expect(typeof env[name]).toBe('function');
  expect(() => env.not_an_import()).toThrow(/env.not_an_import, which ferry does not provide/);
  expect(ferryFlags()).toContain(`-sASYNCIFY_IMPORTS=["${SUSPENDING_IMPORT}"]`);
});
