// placement.mjs - pins the threads of a Node latency row to CPUs (Node on
// Linux only), so that the .node.1cpu and .node.2cpu rows measure ferry,
// not where the scheduler happened to put the threads.
//
// How: a Node worker is one kernel thread of this process. tracked() in
// rt-cases.mjs lists /proc/self/task before and after an actor is spawned
// (or a JS worker has answered its first message); the thread ids that
// appeared are that worker's. pin(near, far) then runs `taskset -p -c CPU
// TID` for this process's main thread (its TID is the PID) and the `near`
// threads onto the first allowed CPU, and the `far` threads onto the same
// CPU ('1cpu') or the second allowed CPU ('2cpu'). reset() gives the main
// thread back all the CPUs it had (the workers end with their row). V8's
// and libuv's helper threads (GC, compiler, file system) are not pinned.
//
// Where pinning cannot work (not Linux, no taskset, fewer CPUs than the
// mode needs, taskset failing), pin() leaves every thread where it is and
// says so: { placement: 'unpinned', note }.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** Parses a kernel CPU list ('0-3,6') into numbers. */
export function parseCpuList(text) {
  const out = [];
  for (const part of String(text).trim().split(',')) {
    if (!part) continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`not a CPU list: ${JSON.stringify(text)}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}

function allowedCpus() {
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const m = /^Cpus_allowed_list:\s*(.+)$/m.exec(status);
    return m ? { list: m[1].trim(), cpus: parseCpuList(m[1]) } : null;
  } catch {
    return null;
  }
}

function tasks() {
  return fs.readdirSync('/proc/self/task').map(Number);
}

function hasTaskset() {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * @param {'1cpu'|'2cpu'} mode
 * @returns {{mode, why: string|null, snapshot(), since(s), pin(near, far), reset()}}
 */
export function makePlacement(mode, log = () => {}) {
  if (mode !== '1cpu' && mode !== '2cpu') throw new Error(`placement mode is 1cpu or 2cpu, not ${mode}`);
  const allowed = process.platform === 'linux' ? allowedCpus() : null;
  let why = null;
  if (process.platform !== 'linux' || !allowed || !fs.existsSync('/proc/self/task')) why = 'threads can be pinned only on Linux (/proc/self/task)';
  else if (!hasTaskset()) why = 'taskset is missing (Debian: util-linux)';
  else if (mode === '2cpu' && allowed.cpus.length < 2) why = `this process may use only CPU ${allowed.list}`;
  const cpus = allowed ? allowed.cpus.slice(0, 2) : [];
  const taskset = (cpu, tid) => execFileSync('taskset', ['-p', '-c', String(cpu), String(tid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let pinnedMain = false;
  return {
    mode,
    why,
    snapshot() {
      return why ? null : new Set(tasks());
    },
    since(before) {
      if (!before) return [];
      return tasks().filter((t) => !before.has(t));
    },
    /** Pins; returns what was done, for the row's detail. */
    pin(near, far) {
      if (why) return { placement: 'unpinned', note: why };
      if (!far.length) return { placement: 'unpinned', note: 'no worker thread was found to pin (no new thread appeared while it started)' };
      const a = cpus[0];
      const b = mode === '1cpu' ? cpus[0] : cpus[1];
      try {
        taskset(a, process.pid);
        pinnedMain = true;
        for (const t of near) taskset(a, t);
        for (const t of far) taskset(b, t);
      } catch (e) {
        const note = `taskset failed: ${String(e.stderr || e.message).trim().split('\n')[0]}`;
        log(`placement: ${note}`);
        this.reset();
        return { placement: 'unpinned', note };
      }
      return { placement: mode, host_cpu: a, near: { cpu: a, threads: near.length }, far: { cpu: b, threads: far.length } };
    },
    reset() {
      if (!pinnedMain) return;
      try {
        execFileSync('taskset', ['-p', '-c', allowed.list, String(process.pid)], { stdio: 'ignore' });
      } catch {
        // the next row's pin() says so if taskset fails
      }
      pinnedMain = false;
    },
  };
}
