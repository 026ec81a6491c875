// demo.mjs - `npm run demo`: the cache demo. Runs the workload against
// ferry's C cache (chunks lent, zero copies) and then against a plain JS
// worker cache that answers by structured clone, and prints both with the
// ratio. `--web` serves the page instead (web/). `--help` lists options.
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { DEFAULTS, runFerry, runBaseline } from './workload.mjs';
import { compare } from './summary.mjs';

const HELP = `usage: npm run demo -- [options]
  --seconds N     how long each of the two runs lasts (default ${DEFAULTS.seconds})
  --clients N     client loops, each in its own worker (default ${DEFAULTS.clients})
  --mode M        loan (default): chunks are lent, zero copies;
                  copy: every get answers an engine copy
  --budget-mb N   the cache's byte budget in MiB (default ${DEFAULTS.budgetMb})
  --json FILE     also write the report as JSON
  --web           serve the live page on 127.0.0.1 instead
Exit status 1 if any chunk fails verification.`;

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      seconds: { type: 'string' },
      clients: { type: 'string' },
      mode: { type: 'string' },
      'budget-mb': { type: 'string' },
      json: { type: 'string' },
      web: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  }));
} catch (e) {
  console.error(`${e.message}\n${HELP}`);
  process.exit(2);
}
if (args.help) {
  console.log(HELP);
  process.exit(0);
}

function num(name, min) {
  if (args[name] === undefined) return undefined;
  const v = Number(args[name]);
  if (!Number.isFinite(v) || v < min) {
    console.error(`--${name} wants a number >= ${min}, got ${JSON.stringify(args[name])}`);
    process.exit(2);
  }
  return v;
}
const opts = {
  ...DEFAULTS,
  ...Object.fromEntries(
    Object.entries({ seconds: num('seconds', 0.1), clients: num('clients', 1), budgetMb: num('budget-mb', 20) }).filter(
      ([, v]) => v !== undefined,
    ),
  ),
};
if (args.mode !== undefined) {
  if (args.mode !== 'loan' && args.mode !== 'copy') {
    console.error(`--mode wants loan or copy, got ${JSON.stringify(args.mode)}`);
    process.exit(2);
  }
  opts.mode = args.mode;
}
opts.clients = Math.floor(opts.clients);

if (args.web) {
  const { serveWeb } = await import('./web/serve.mjs');
  await serveWeb(opts);
} else {
  await runNode();
}

async function runNode() {
  const tty = process.stdout.isTTY;
  let last = 0;
  const onProgress = (kind, progress, t) => {
    if (performance.now() - last < 250) return;
    last = performance.now();
    const chunks = progress.reduce((s, p) => s + p.chunks, 0);
    const bytes = progress.reduce((s, p) => s + p.bytes, 0);
    const hits = progress.reduce((s, p) => s + p.hits, 0);
    const line =
      `${kind.padEnd(8)} ${t.toFixed(1).padStart(5)} s  ${String(chunks).padStart(6)} chunks ` +
      `${(chunks / t).toFixed(0).padStart(5)}/s  ${(bytes / t / 1e9).toFixed(2)} GB/s  hit ${chunks ? ((100 * hits) / chunks).toFixed(0) : 0}%`;
    if (tty) process.stdout.write(`\r${line}\x1b[K`);
  };
  console.log(
    `cache demo: ${opts.clients} clients, ${opts.seconds} s per run, mode ${opts.mode}, budget ${opts.budgetMb} MiB, ` +
      `keys k0..k${opts.keys - 1} (1-20 MiB, Zipf ${opts.skew}), ${opts.origins} origins at ${opts.latencyMs} ms`,
  );
  const ferry = await runFerry(opts, onProgress);
  if (tty) process.stdout.write('\r\x1b[K');
  const baseline = await runBaseline(opts, onProgress);
  if (tty) process.stdout.write('\r\x1b[K');

  const report = {
    config: opts,
    env: { node: process.version, platform: `${process.platform}-${process.arch}`, date: new Date().toISOString() },
    ferry,
    baseline,
    ...compare(ferry, baseline),
  };
  printReport(report);
  if (args.json) {
    writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n');
    console.log(`report written to ${args.json}`);
  }
  if (!report.verification.allVerified) {
    console.error(
      `FAILED: ${report.verification.failed} chunk(s) did not verify (${[...ferry.failedKeys, ...baseline.failedKeys].join(', ')})`,
    );
    process.exit(1);
  }
}

function printReport({ ferry, baseline, ratio, verification, config }) {
  const f = (x, d = 1) => (x === null ? '-' : x.toFixed(d));
  const row = (name, a, b) => console.log(`  ${name.padEnd(26)} ${String(a).padStart(14)} ${String(b).padStart(14)}`);
  console.log(`\n  ${''.padEnd(26)} ${'ferry'.padStart(14)} ${'JS clone'.padStart(14)}`);
  row('chunks', ferry.chunks, baseline.chunks);
  row('chunks/s', f(ferry.chunksPerSec), f(baseline.chunksPerSec));
  row('GB/s moved', f(ferry.gbPerSec, 2), f(baseline.gbPerSec, 2));
  row('hit ratio', f(ferry.hitRatio * 100) + '%', f(baseline.hitRatio * 100) + '%');
  row('hit latency p50/p99 ms', `${f(ferry.latencyMs.hit.p50, 2)}/${f(ferry.latencyMs.hit.p99, 2)}`, `${f(baseline.latencyMs.hit.p50, 2)}/${f(baseline.latencyMs.hit.p99, 2)}`);
  row('miss latency p50/p99 ms', `${f(ferry.latencyMs.miss.p50)}/${f(ferry.latencyMs.miss.p99)}`, `${f(baseline.latencyMs.miss.p50)}/${f(baseline.latencyMs.miss.p99)}`);
  row('chunks verified', `${ferry.verified}/${ferry.chunks}`, `${baseline.verified}/${baseline.chunks}`);
  row('chunk bytes copied', ferry.ferry.chunkBytesCopied, `${(baseline.bytes / 1e9).toFixed(2)} GB cloned`);
  console.log(
    `\n  ferry (${config.mode} mode): ${ferry.ferry.loans.lent} loans, all returned: ${ferry.ferry.loansReturned}; ` +
      `copies made by the cache: ${ferry.cache.copies}; bytes copied by ferry in the cache's worker: ${ferry.ferry.copiedBytes} ` +
      `(envelopes in/out ${ferry.ferry.copies.envelopeIn}/${ferry.ferry.copies.envelopeOut} B)`,
  );
  console.log(`  cache: ${ferry.cache.fills} fills, ${ferry.cache.evictions} evictions, ${ferry.cache.waits} gets waited for a loan`);
  console.log(`\n  ferry moved ${f(ratio.throughput, 1)}x the chunks per second of the structured-clone cache; hits are ${f(ratio.hitP50, 1)}x faster (p50)`);
  console.log(`  verification: ${verification.verified}/${verification.chunks} chunks verified, ${verification.failed} failed`);
}
