// stats.mjs - the statistics of `npm run bench` (test/bench/run.mjs), kept
// apart from any timing so that test/js/bench-stats.test.mjs can check them
// with fixed numbers.
//
// A row's batches alternate: ferry, baseline, baseline, ferry, ferry, ...
// (rt-cases.mjs `alternate`, one batch of each per round). Batch i of the
// ferry case and batch i of the baseline ran next to each other, so load
// from elsewhere hits the two alike more often than it hits two batches far
// apart. The row's ratio is therefore the median of the per-pair ratios
// ferry_i / baseline_i (baseline_i / ferry_i for rows where higher is
// better), not the ratio of two medians: a burst that slows one pair moves
// one pair ratio, not the whole baseline column. The 90 % interval is a
// percentile bootstrap of that median, with a seeded generator so that the
// same samples always give the same interval.

/** A small, fast, seedable PRNG (mulberry32): a function returning [0, 1). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function median(xs) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The q-quantile (0..1) of xs by linear interpolation between order statistics. */
export function quantile(xs, q) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/**
 * Per-pair ratios of two equally long lists of batch times (extra batches of
 * the longer list, which alternate() never makes, are an error: they would
 * have no neighbour). inverse: baseline / ferry (higher is better).
 */
export function pairRatios(ferry, baseline, { inverse = false } = {}) {
  if (!Array.isArray(ferry) || !Array.isArray(baseline)) throw new TypeError('pairRatios: two arrays of batch times');
  if (ferry.length !== baseline.length) {
    throw new RangeError(`pairRatios: ${ferry.length} ferry batches but ${baseline.length} baseline batches; each needs a neighbour`);
  }
  const out = [];
  for (let i = 0; i < ferry.length; i++) {
    const f = ferry[i];
    const b = baseline[i];
    if (!(f > 0) || !(b > 0)) throw new RangeError(`pairRatios: batch ${i} has a time that is not positive (${f}, ${b})`);
    out.push(inverse ? b / f : f / b);
  }
  return out;
}

/**
 * Percentile bootstrap interval of the median of xs: `resamples` resamples
 * with replacement, their medians sorted, the (1-level)/2 and (1+level)/2
 * quantiles. Deterministic for a given seed. One value gives [x, x].
 */
export function bootstrapMedianCI(xs, { level = 0.9, resamples = 2000, seed = 1 } = {}) {
  if (!xs.length) return null;
  if (xs.length === 1) return [xs[0], xs[0]];
  const next = rng(seed);
  const n = xs.length;
  const meds = new Float64Array(resamples);
  const sample = new Float64Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = xs[Math.floor(next() * n)];
    sample.sort();
    const m = n >> 1;
    meds[r] = n % 2 ? sample[m] : (sample[m - 1] + sample[m]) / 2;
  }
  const all = Array.from(meds);
  return [quantile(all, (1 - level) / 2), quantile(all, (1 + level) / 2)];
}

/** Does x reach goal ({op: '<=' | '>=', value})? */
export function meets(x, goal) {
  if (!Number.isFinite(x)) return false;
  return goal.op === '<=' ? x <= goal.value : x >= goal.value;
}

/**
 * 'yes', 'no' or 'unsure': unsure when the interval has one end on each
 * side of the goal (the run cannot tell); without an interval, the ratio
 * alone decides. A row that was not measured is 'no'.
 */
export function judge(ratio, ci, goal) {
  if (!Number.isFinite(ratio)) return 'no';
  if (ci && Number.isFinite(ci[0]) && Number.isFinite(ci[1])) {
    const lo = meets(ci[0], goal);
    const hi = meets(ci[1], goal);
    if (lo !== hi) return 'unsure';
    return lo ? 'yes' : 'no';
  }
  return meets(ratio, goal) ? 'yes' : 'no';
}

/** min / median / max of a list of ratios (one per repeat of the table). */
export function spread(ratios) {
  const xs = ratios.filter(Number.isFinite);
  if (!xs.length) return null;
  return { n: xs.length, min: Math.min(...xs), median: median(xs), max: Math.max(...xs) };
}

/**
 * Do the runs agree within ±tol (0.2: the issue's ±20 %)? True when the
 * largest ratio is at most (1 + tol) times the smallest; null for one run.
 */
export function agree(sp, tol = 0.2) {
  if (!sp || sp.n < 2) return null;
  return sp.max <= sp.min * (1 + tol);
}

/** Rounds to 4 significant digits for JSON (the noise is far above that). */
export function sig(x, digits = 4) {
  if (!Number.isFinite(x) || x === 0) return x;
  return Number(x.toPrecision(digits));
}

// A stable seed per row id, so one row's interval does not depend on which
// other rows ran before it.
export function seedOf(id) {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return h >>> 0;
}

export const MIN_PAIRS_FOR_CI = 3;

/**
 * The statistics of one row from its pair ratios: ratio (their median), ci
 * (90 % bootstrap interval of that median) and met (judge). Without pair
 * ratios (a row measured once), fallbackRatio is the ratio and there is no
 * interval.
 */
export function rowStats(id, pairs, goal, fallbackRatio) {
  if (pairs && pairs.length) {
    const ratio = median(pairs);
    // Fewer than 3 pairs (a --quick run of the cbor rows has one round)
    // give no interval worth printing.
    const ci = pairs.length >= MIN_PAIRS_FOR_CI ? bootstrapMedianCI(pairs, { seed: seedOf(id) }) : null;
    return { ratio, ci, met: judge(ratio, ci, goal) };
  }
  return { ratio: fallbackRatio, ci: null, met: judge(fallbackRatio, null, goal) };
}

/**
 * Combines the same row from several runs (--repeat N, or several JSON files
 * given to --report): the pair ratios are pooled (ratio and interval from all
 * of them), ferry and baseline are the medians of the runs' values, and
 * `spread` gives min / median / max of the runs' own ratios, which is what
 * says whether two runs agree. Rows are the JSON shape run.mjs writes.
 */
export function combineRows(rows, goal) {
  if (rows.length === 1 && !rows[0].spread) {
    const s = spread([rows[0].ratio]);
    return { ...rows[0], spread: s ? { ...s, runs: [rows[0].ratio] } : null };
  }
  const first = rows[0];
  const measured = rows.filter((r) => Number.isFinite(r.ratio));
  if (!measured.length) return { ...first, spread: null };
  const pooled = measured.flatMap((r) => r.pair_ratios ?? []);
  const runRatios = measured.flatMap((r) => (r.spread?.runs ?? [r.ratio]));
  const st = rowStats(first.id, pooled.length ? pooled : null, goal, median(runRatios));
  const mid = (k) => {
    const xs = measured.map((r) => r[k]).filter(Number.isFinite);
    return xs.length ? median(xs) : null;
  };
  const s = spread(runRatios);
  return {
    ...first,
    ferry: mid('ferry'),
    baseline: mid('baseline'),
    ratio: st.ratio,
    ci: st.ci,
    met: st.met,
    ...(pooled.length ? { pair_ratios: pooled } : {}),
    spread: { ...s, runs: runRatios },
  };
}

/** Parses a goal text as run.mjs writes it ('<= 1.3') back into {op, value}. */
export function parseGoal(text) {
  const m = /^(<=|>=)\s*([0-9.]+)$/.exec(String(text).trim());
  if (!m) throw new Error(`not a goal: ${JSON.stringify(text)} (expected '<= 1.3' or '>= 2.0')`);
  return { op: m[1], value: Number(m[2]) };
}

// The runs of --repeat N, one row per id: pair ratios pooled, spread of the
// runs' ratios (stats.mjs combineRows). One run: the rows as they are, with
// a spread of one.
export function combineRuns(runs) {
  const ids = [];
  for (const run of runs) for (const r of run) if (!ids.includes(r.id)) ids.push(r.id);
  return ids.map((id) => {
    const same = runs.map((run) => run.find((r) => r.id === id)).filter(Boolean);
    const combined = combineRows(same, parseGoal(same[0].goal));
    for (const k of ['ratio', 'ferry', 'baseline']) if (Number.isFinite(combined[k])) combined[k] = sig(combined[k]);
    if (combined.ci) combined.ci = combined.ci.map((x) => sig(x));
    if (combined.spread) {
      for (const k of ['min', 'median', 'max']) combined.spread[k] = sig(combined.spread[k]);
      combined.spread.runs = combined.spread.runs.map((x) => sig(x));
    }
    if (same.length > 1) combined.detail = { ...combined.detail, repeats: same.map((r) => r.detail) };
    return combined;
  });
}

