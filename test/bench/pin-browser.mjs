// pin-browser.mjs - a browser started with all its processes and threads on
// one CPU, for the `.chromium.1cpu` and `.firefox.1cpu` rows: a page cannot
// pin its workers, but the kernel's CPU affinity is inherited, so a browser
// started under `taskset -c CPU` keeps its renderer, its workers and its
// helpers on that CPU. This is the browser's equivalent of the
// `.node.1cpu` rows (test/bench/placement.mjs): the ratio then measures the
// work per message, not where the scheduler happened to put each thread.
//
// pinnedExecutable(exe) writes a small shell script that runs exe under
// taskset (exec, so the browser keeps the script's pid and can be ended
// like the browser itself) and returns its path, to be given where the
// browser's executable is asked for (playwright's executablePath,
// runInFirefox's `firefox`). Where that cannot work (not Linux, no
// taskset) it returns { path: exe, why } and the rows say they ran
// unpinned.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCpuList } from './placement.mjs';

/**
 * @param {string} exe the browser's executable
 * @returns {{path: string, placement: object, why: string|null, dispose(): void}}
 */
export function pinnedExecutable(exe) {
  const unpinned = (why) => ({ path: exe, why, placement: { placement: 'unpinned', note: why }, dispose() {} });
  if (process.platform !== 'linux') return unpinned('a browser can be pinned only on Linux (taskset)');
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
  } catch {
    return unpinned('taskset is missing (Debian: util-linux)');
  }
  let cpu = 0;
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    cpu = parseCpuList(/^Cpus_allowed_list:\s*(.+)$/m.exec(status)[1])[0];
  } catch {
    // CPU 0, and taskset says so if it is not allowed
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-pinned-'));
  const script = path.join(dir, path.basename(exe));
  const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
  fs.writeFileSync(script, `#!/bin/sh\nexec taskset -c ${cpu} ${q(exe)} "$@"\n`, { mode: 0o755 });
  return {
    path: script,
    why: null,
    placement: { placement: '1cpu', how: `the whole browser under taskset -c ${cpu}`, cpu },
    dispose() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
