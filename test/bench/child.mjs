// child.mjs - runs a bench measurement in a Node process of its own and
// resolves with the JSON it prints last on stdout (its stderr lines go to
// the bench's progress). The Node rows run this way, one group of rows per
// process: measured one after another in the bench's own process, a row
// inherited the heap of those before it, and the 20 MiB transfer round
// trip of the cache hit row read 1.0-1.2 ms instead of 0.03-0.04 (the
// engine collecting for the external memory earlier rows had left).
import { spawn } from 'node:child_process';

/**
 * @param {string} script absolute path of the child's module
 * @param {string[]} args its arguments
 * @param {{log: (s: string) => void}} ctx
 */
export function runChild(script, args, ctx) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let partial = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err += d;
      const lines = (partial + d).split('\n');
      partial = lines.pop();
      for (const line of lines) if (line.trim()) ctx.log(line);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (partial.trim()) ctx.log(partial);
      if (code !== 0) return reject(new Error(`${script.split('/').pop()} exited with ${code}: ${err.trim().split('\n').slice(-3).join(' ')}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch (e) {
        reject(new Error(`${script.split('/').pop()} printed no result: ${e.message}`));
      }
    });
  });
}
