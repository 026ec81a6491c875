// The native ferry-cbor tool: exit codes, output and messages as design.md
// section 1 specifies.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nativeDir, readJson, mustExist, hexToBytes } from './paths.mjs';

const tool = path.join(nativeDir, 'ferry-cbor');
const appendix = readJson('test/data/appendix-a.json').vectors;
const malformed = readJson('test/data/malformed.json').cases.filter((c) => !c.limits);

const run = (args, input) => {
  mustExist(tool);
  const r = spawnSync(tool, args, { input, maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout.toString('latin1'), outBuf: r.stdout, err: r.stderr.toString() };
};

describe('check, diag and recode with -x on Appendix A', () => {
  test.each(appendix.map((v) => [v.hex, v]))('%s', (hex, v) => {
    expect(run(['check', '-x'], hex)).toMatchObject({ code: 0, out: '', err: '' });
    const d = run(['diag', '-x'], hex + '\n');
    expect(d.code).toBe(0);
    expect(d.outBuf.toString('utf8')).toBe(v.diag + '\n');
    expect(run(['recode', '-x'], hex)).toMatchObject({ code: 0, out: v.recode + '\n' });
  });
});

describe('check rejects malformed input with exit 1 and the byte', () => {
  test.each(malformed.map((c) => [c.hex, c]))('%s', (hex, c) => {
    const r = run(['check', '-x'], hex);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(new RegExp(`^error at byte ${c.offset}: \\S.*\\n$`));
    // diag and recode fail the same way and print nothing to stdout.
    for (const cmd of ['diag', 'recode']) {
      const o = run([cmd, '-x'], hex);
      expect(o).toMatchObject({ code: 1, out: '', err: r.err });
    }
  });
});

test('binary input from a file and binary recode output', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-cbor-'));
  const file = path.join(dir, 'in.cbor');
  fs.writeFileSync(file, hexToBytes('9f018202039f0405ffff'));
  expect(run(['check', file])).toMatchObject({ code: 0 });
  expect(run(['diag', file]).out).toBe('[_ 1, [2, 3], [_ 4, 5]]\n');
  expect(run(['recode', file]).outBuf.toString('hex')).toBe('8301820203820405');
  expect(run(['recode'], fs.readFileSync(file)).outBuf.toString('hex')).toBe('8301820203820405');
  fs.rmSync(dir, { recursive: true });
});

test('usage errors and unreadable input are reported', () => {
  expect(run([], '')).toMatchObject({ code: 2 });
  expect(run(['frobnicate'], '').err).toMatch(/usage: ferry-cbor/);
  expect(run(['check', '/nonexistent/file'])).toMatchObject({ code: 2 });
  expect(run(['check', '/nonexistent/file']).err).toMatch(/cannot open \/nonexistent\/file/);
  expect(run(['check', '-x'], '8g')).toMatchObject({ code: 1 });
  expect(run(['check', '-x'], '8g').err).toMatch(/invalid hex character 'g'/);
  expect(run(['check', '-x'], '830')).toMatchObject({ code: 1 });
  expect(run(['check', '-x'], '830').err).toMatch(/odd number of hex digits/);
  expect(run(['check', '-x'], '')).toMatchObject({ code: 1 });
  expect(run(['check', '-x'], '').err).toMatch(/^error at byte 0: input ends where an item was expected/);
  expect(run(['--help']).out).toMatch(/usage: ferry-cbor/);
});

test('a million nested arrays is a clean error, not a crash', () => {
  const deep = Buffer.alloc(1_000_001, 0x81);
  deep[deep.length - 1] = 0;
  const r = run(['check'], deep);
  expect(r.code).toBe(1);
  expect(r.err).toBe('error at byte 1024: nesting deeper than 1024 levels\n');
});
