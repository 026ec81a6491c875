// memory.mjs - an actor's wasm memory cap (System.start / spawn
// `maxMemory`).
//
// ferry-build links modules with -sIMPORTED_MEMORY, so each worker makes
// the actor's WebAssembly.Memory itself, with a `maximum` it chooses; a
// memory.grow past it fails, sbrk fails and malloc returns NULL in C.
// WebAssembly.Module.imports() names the memory import but not its limits,
// and a compiled Module has no bytes left to read; so ferry-build copies
// the import's limits into a custom section (readable from any Module)
// after emcc has written the file.
import { FerryError } from '../wire/errors.mjs';

export const PAGE = 65536;
/** The custom section ferry-build appends: JSON {initial, maximum} in pages. */
export const SECTION = 'ferry.memory';
/** The default cap (docs/api.md: why 256 MiB). */
export const DEFAULT_MAX_MEMORY = 256 * 1024 * 1024;
/** The most a wasm32 memory can address. */
export const LIMIT = 4 * 1024 * 1024 * 1024;

function leb(bytes, pos) {
  let v = 0;
  let shift = 0;
  for (;;) {
    if (pos.at >= bytes.length) throw new Error('truncated LEB128');
    const b = bytes[pos.at++];
    v += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) return v;
    shift += 7;
    if (shift > 35) throw new Error('LEB128 too long');
  }
}

function limits(bytes, pos) {
  const flags = bytes[pos.at++];
  const initial = leb(bytes, pos);
  const maximum = flags & 1 ? leb(bytes, pos) : null;
  return { initial, maximum };
}

/**
 * The limits of the memory a wasm binary imports, in pages, or null if it
 * imports none (it defines its own: no cap can be set).
 * @param {Uint8Array} bytes
 * @returns {{initial: number, maximum: number|null}|null}
 */
export function memoryImportLimits(bytes) {
  const pos = { at: 8 };
  while (pos.at < bytes.length) {
    const id = bytes[pos.at++];
    const size = leb(bytes, pos);
    const end = pos.at + size;
    if (id !== 2) {
      pos.at = end;
      continue;
    }
    const count = leb(bytes, pos);
    for (let i = 0; i < count; i++) {
      for (let k = 0; k < 2; k++) {
        const n = leb(bytes, pos); // module, then name
        pos.at += n;
      }
      const kind = bytes[pos.at++];
      if (kind === 0) leb(bytes, pos); // function: type index
      else if (kind === 1) { // table: element type, limits
        pos.at++;
        limits(bytes, pos);
      } else if (kind === 2) return limits(bytes, pos);
      else if (kind === 3) pos.at += 2; // global: value type, mutability
      else if (kind === 4) { // tag: attribute, type index
        pos.at++;
        leb(bytes, pos);
      } else throw new Error(`unknown import kind ${kind}`);
    }
    return null;
  }
  return null;
}

/** A custom section (id 0) named `name` holding `payload`. */
export function customSection(name, payload) {
  const u = (n) => {
    const out = [];
    do {
      let b = n & 0x7f;
      n = Math.floor(n / 128);
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  const nameBytes = new TextEncoder().encode(name);
  const body = [...u(nameBytes.length), ...nameBytes, ...payload];
  return Uint8Array.from([0, ...u(body.length), ...body]);
}

/** What ferry-build appends to a module: its memory import's limits. */
export function memorySection(bytes) {
  const l = memoryImportLimits(bytes);
  if (!l) return null;
  return customSection(SECTION, new TextEncoder().encode(JSON.stringify(l)));
}

/**
 * The memory import of a compiled module: {initial, maximum} in pages
 * (maximum: what the module itself allows), or null for a module that
 * defines its own memory (built without ferry-build's -sIMPORTED_MEMORY).
 * @param {WebAssembly.Module} module
 */
export function moduleMemory(module) {
  const imported = WebAssembly.Module.imports(module).some((i) => i.kind === 'memory');
  if (!imported) return null;
  const sec = WebAssembly.Module.customSections(module, SECTION);
  if (!sec.length) {
    throw new FerryError('EINVAL', `this module imports its memory but has no "${SECTION}" section giving its size: build it with ferry-build`);
  }
  const l = JSON.parse(new TextDecoder().decode(sec[0]));
  return { initial: l.initial, maximum: l.maximum ?? 65536 };
}

/**
 * Checks a maxMemory option (bytes) and returns the cap in pages: rounded
 * down to whole 64 KiB pages (a cap is never exceeded), and no more than
 * the module allows.
 * @param {*} bytes
 * @param {{initial: number, maximum: number}|null} mem the module's import
 * @param {string} where who is asking, for the message
 */
export function capPages(bytes, mem, where) {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes <= 0) {
    throw new FerryError('EINVAL', `${where}: maxMemory must be a positive number of bytes, not ${typeof bytes === 'number' ? bytes : typeof bytes}`);
  }
  if (bytes > LIMIT) {
    throw new FerryError('EINVAL', `${where}: maxMemory ${bytes} is more than a wasm32 memory can hold (4 GiB)`);
  }
  const pages = Math.floor(bytes / PAGE);
  if (mem && pages < mem.initial) {
    throw new FerryError('EINVAL', `${where}: maxMemory ${bytes} (${pages} pages of 64 KiB) is below the module's initial memory of ${mem.initial * PAGE} bytes (${mem.initial} pages)`);
  }
  return mem ? Math.min(pages, mem.maximum) : pages;
}
