// Memory caps: spawn(name, { maxMemory }) and System.start({ maxMemory })
// bound an actor's wasm memory. Past the cap malloc returns NULL in C; an
// actor that dies after running out goes down with code ENOMEM; the
// System and the other actors go on. Actors: "hog" in test/actors/faults.c.
import path from 'node:path';
import { jest } from '@jest/globals';
import { System, FerryError } from '../../glue/index.mjs';
import { memoryImportLimits, memorySection, moduleMemory, SECTION } from '../../glue/host/memory.mjs';
import { wasmDir, mustExist, rejection } from './paths.mjs';

jest.setTimeout(60000);

const MiB = 1024 * 1024;
const modulePath = path.join(wasmDir, 'test-actors.wasm');
let sys;

beforeAll(async () => {
  sys = await System.start({ module: mustExist(modulePath) });
});

afterAll(async () => {
  await sys?.shutdown();
});

describe('an actor at its cap', () => {
  test('malloc returns NULL at a 32 MiB cap; the actor reports what it got and keeps serving', async () => {
    const hog = await sys.spawn('hog', { maxMemory: 32 * MiB });
    const before = await hog.stats();
    expect(before.maxMemory).toBe(32 * MiB);
    expect(before.memory).toBe(16 * MiB); // the module's initial memory
    const first = await hog.call('eat', MiB);
    // It got most of what the cap leaves after the stack, data and ferry's
    // own allocations, and never more than the cap.
    expect(first.got).toBeGreaterThan(8 * MiB);
    expect(first.got).toBeLessThanOrEqual(32 * MiB);
    const full = await hog.stats();
    expect(full.memory).toBeLessThanOrEqual(32 * MiB);
    expect(full.memory).toBeGreaterThan(31 * MiB);
    // Still serving: calls with bodies that need memory in C too.
    expect(await hog.call('echo', { s: 'x'.repeat(1000) })).toEqual({ s: 'x'.repeat(1000) });
    await hog.call('free');
    const again = await hog.call('eat', 64 * 1024);
    expect(again.got).toBeGreaterThanOrEqual(first.got);
    expect(again.got).toBeLessThanOrEqual(32 * MiB);
    expect(hog.alive).toBe(true);
    await hog.stop();
  });

  test.each([
    ['eat_trap', 'Trap', /trapped: unreachable after running out of memory/],
    ['eat_abort', 'Exit', /abort\(\) after running out of memory/],
  ])('%s: the actor is down with ENOMEM; the System and other actors go on', async (what, name, message) => {
    const [hog, other] = await Promise.all([sys.spawn('hog', { maxMemory: 32 * MiB }), sys.spawn('echo')]);
    const pending = [hog.call(what), hog.call('echo', 1), hog.call('echo', 2)];
    for (const e of await Promise.all(pending.map(rejection))) {
      expect(e).toBeInstanceOf(FerryError);
      expect(e.code).toBe('EDOWN');
      expect(e.message).toMatch(/out of memory/);
    }
    const reason = await hog.down;
    expect(reason).toMatchObject({ code: 'ENOMEM', name, actor: hog.id });
    expect(reason.message).toMatch(message);
    expect(reason.message).toMatch(/its maxMemory is 32\.0 MiB/);
    expect(await other.call('still', 'here')).toBe('here');
    const next = await sys.spawn('hog', { maxMemory: 32 * MiB });
    expect(await next.call('echo', 3)).toBe(3);
    await Promise.all([other.stop(), next.stop()]);
  });

  test('a trap that follows no refused allocation is not ENOMEM', async () => {
    const hog = await sys.spawn('hog', { maxMemory: 32 * MiB });
    await rejection(hog.call('trap'));
    expect((await hog.down).code).toBe('EDOWN');
  });

  test('blobs live outside wasm memory: 64 MiB of blobs under a 32 MiB cap', async () => {
    const hog = await sys.spawn('hog', { maxMemory: 32 * MiB });
    let r;
    for (let i = 0; i < 4; i++) r = await hog.call('blobs', 16 * MiB);
    expect(r).toEqual({ blobs: 4, bytes: 64 * MiB });
    const st = await hog.stats();
    expect(st.blobs).toBe(4);
    expect(st.memory).toBeLessThanOrEqual(32 * MiB);
    // And its wasm memory is still all there for malloc.
    expect((await hog.call('eat', MiB)).got).toBeGreaterThan(8 * MiB);
    await hog.stop();
  });
});

describe('the default and the option', () => {
  test('the System default (256 MiB) applies when spawn gives none', async () => {
    const hog = await sys.spawn('hog');
    expect((await hog.stats()).maxMemory).toBe(256 * MiB);
    const r = await hog.call('eat', 4 * MiB);
    expect(r.got).toBeGreaterThan(200 * MiB);
    expect(r.got).toBeLessThanOrEqual(256 * MiB);
    await hog.stop();
  });

  test('System.start({ maxMemory }) sets the default; spawn overrides it', async () => {
    const s2 = await System.start({ module: sys.module, maxMemory: 24 * MiB });
    try {
      const [a, b] = await Promise.all([s2.spawn('hog'), s2.spawn('hog', { maxMemory: 40 * MiB })]);
      expect((await a.stats()).maxMemory).toBe(24 * MiB);
      expect((await b.stats()).maxMemory).toBe(40 * MiB);
      expect((await a.call('eat', MiB)).got).toBeLessThanOrEqual(24 * MiB);
      expect((await b.call('eat', MiB)).got).toBeGreaterThan(24 * MiB);
    } finally {
      await s2.shutdown();
    }
  });

  test('caps are whole 64 KiB pages, rounded down; above the module\'s own maximum (2 GiB) they are clamped', async () => {
    const a = await sys.spawn('hog', { maxMemory: 20 * MiB + 65535 });
    expect((await a.stats()).maxMemory).toBe(20 * MiB);
    const b = await sys.spawn('hog', { maxMemory: 3 * 1024 * MiB });
    expect((await b.stats()).maxMemory).toBe(2 * 1024 * MiB);
    await Promise.all([a.stop(), b.stop()]);
  });

  test.each([
    [-1, /positive number of bytes, not -1/],
    [0, /positive number of bytes, not 0/],
    [NaN, /positive number of bytes, not NaN/],
    [Infinity, /positive number of bytes, not Infinity/],
    ['32M', /positive number of bytes, not string/],
    [{}, /positive number of bytes, not object/],
    [MiB, /below the module's initial memory of 16777216 bytes \(256 pages\)/],
    [5 * 1024 * MiB, /more than a wasm32 memory can hold \(4 GiB\)/],
  ])('maxMemory %p is EINVAL, at spawn and at System.start', async (bad, message) => {
    const e = await rejection(sys.spawn('hog', { maxMemory: bad }));
    expect(e).toBeInstanceOf(FerryError);
    expect(e.code).toBe('EINVAL');
    expect(e.message).toMatch(/^spawn\("hog"\): maxMemory/);
    expect(e.message).toMatch(message);
    const e2 = await rejection(System.start({ module: sys.module, maxMemory: bad }));
    expect(e2).toBeInstanceOf(FerryError);
    expect(e2.code).toBe('EINVAL');
    expect(e2.message).toMatch(/^System\.start: maxMemory/);
    // Nothing started; the System goes on.
    const echo = await sys.spawn('echo');
    expect(await echo.call('x', 1)).toBe(1);
    await echo.stop();
  });
});

describe('the memory import and its section', () => {
  const str = (t) => [t.length, ...new TextEncoder().encode(t)];
  const section = (id, body) => [id, body.length, ...body];
  // A module importing env.f (a function) and env.memory with limits
  // (min 2, max 10) or without a maximum, or importing no memory.
  const wasm = (memory) => {
    const imports = [[...str('env'), ...str('f'), 0, 0]];
    if (memory) imports.push([...str('env'), ...str('memory'), 2, ...memory]);
    return Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
      ...section(1, [1, 0x60, 0, 0]),
      ...section(2, [imports.length, ...imports.flat()])]);
  };

  test('the limits are read from the import section, after other imports', () => {
    expect(memoryImportLimits(wasm([1, 2, 10]))).toEqual({ initial: 2, maximum: 10 });
    expect(memoryImportLimits(wasm([0, 3]))).toEqual({ initial: 3, maximum: null });
    expect(memoryImportLimits(wasm(null))).toBe(null);
  });

  test('ferry-build\'s section round-trips through a compiled module; a module with its own memory has none', () => {
    const bytes = wasm([1, 2, 10]);
    const withSection = new Uint8Array([...bytes, ...memorySection(bytes)]);
    expect(moduleMemory(new WebAssembly.Module(withSection))).toEqual({ initial: 2, maximum: 10 });
    expect(moduleMemory(new WebAssembly.Module(wasm(null)))).toBe(null);
    expect(memorySection(wasm(null))).toBe(null);
    // The built test module carries it, and imports its memory.
    const built = sys.module;
    expect(WebAssembly.Module.imports(built)).toContainEqual({ module: 'env', name: 'memory', kind: 'memory' });
    expect(WebAssembly.Module.customSections(built, SECTION)).toHaveLength(1);
    expect(moduleMemory(built)).toEqual({ initial: 256, maximum: 32768 });
  });

  test('a module that imports its memory without the section is EINVAL: build it with ferry-build', () => {
    let err;
    try {
      moduleMemory(new WebAssembly.Module(wasm([1, 2, 10])));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FerryError);
    expect(err.code).toBe('EINVAL');
    expect(err.message).toMatch(/no "ferry\.memory" section.*build it with ferry-build/);
  });
});
