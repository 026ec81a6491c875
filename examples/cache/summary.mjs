// summary.mjs - turns what the client loops report into the numbers of
// the demo's report (shared by the Node demo and the web page).

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** {n, p50, p99} of a list of milliseconds. */
export function latency(list) {
  const s = Float64Array.from(list).sort();
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99) };
}

/** One run's summary from the clients' {done} results and its duration. */
export function summarize(results, seconds) {
  const all = { chunks: 0, bytes: 0, verified: 0, failedCount: 0, failed: [], released: 0, hits: [], misses: [] };
  for (const r of results) {
    all.chunks += r.chunks;
    all.bytes += r.bytes;
    all.verified += r.verified;
    all.failedCount += r.failedCount;
    all.failed.push(...r.failed);
    all.released += r.released;
    for (const x of r.hits) all.hits.push(x);
    for (const x of r.misses) all.misses.push(x);
  }
  return {
    seconds,
    chunks: all.chunks,
    chunksPerSec: all.chunks / seconds,
    gbPerSec: all.bytes / seconds / 1e9,
    bytes: all.bytes,
    hitRatio: all.chunks ? all.hits.length / all.chunks : 0,
    latencyMs: { hit: latency(all.hits), miss: latency(all.misses) },
    verified: all.verified,
    failedVerification: all.failedCount,
    failedKeys: all.failed,
    released: all.released,
  };
}

/** The ratios and the verification total of a ferry and a baseline run. */
export function compare(ferry, baseline) {
  return {
    ratio: {
      throughput: ferry.chunksPerSec / baseline.chunksPerSec,
      hitP50: baseline.latencyMs.hit.p50 / ferry.latencyMs.hit.p50,
    },
    verification: {
      chunks: ferry.chunks + baseline.chunks,
      verified: ferry.verified + baseline.verified,
      failed: ferry.failedVerification + baseline.failedVerification,
      allVerified: ferry.verified === ferry.chunks && baseline.verified === baseline.chunks,
    },
  };
}
