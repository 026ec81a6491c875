// The TypeScript declarations shipped in glue/ compile against a usage
// file that exercises the documented API (tsc --noEmit, strict).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { jest } from '@jest/globals';
import { root } from './paths.mjs';

jest.setTimeout(60000);

test('glue/*.d.ts type-check the documented usage', () => {
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'test/types/tsconfig.json')], { encoding: 'utf8' });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});
