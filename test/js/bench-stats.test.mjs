// The statistics of `npm run bench` (test/bench/stats.mjs): pair ratios,
// the seeded bootstrap interval, the yes / no / unsure verdict, and the
// spread over repeats. Fixed numbers only: nothing here is timed.
import {
  rng, median, quantile, pairRatios, bootstrapMedianCI, judge, spread, rowStats, combineRows, combineRuns,
  parseGoal, seedOf, MIN_PAIRS_FOR_CI, agree,
} from '../bench/stats.mjs';

const LE13 = { op: '<=', value: 1.3 };
const GE2 = { op: '>=', value: 2 };

describe('pair ratios', () => {
  test('each ferry batch over its neighbouring baseline batch', () => {
    expect(pairRatios([2, 3, 10], [1, 3, 5])).toEqual([2, 1, 2]);
  });
  test('inverse rows (higher is better) take baseline over ferry', () => {
    expect(pairRatios([2, 4], [4, 2], { inverse: true })).toEqual([2, 0.5]);
  });
  test('the median of pair ratios ignores a burst that hits one pair', () => {
    // A burst slows baseline batch 1 tenfold: the ratio of medians would move, the pairs' median does not.
    const f = [10, 10, 10, 10, 10];
    const b = [5, 50, 5, 5, 5];
    expect(median(pairRatios(f, b))).toBe(2);
  });
  test('unequal lengths and non-positive times are errors', () => {
    expect(() => pairRatios([1, 2], [1])).toThrow(/neighbour/);
    expect(() => pairRatios([1, 0], [1, 1])).toThrow(/not positive/);
    expect(() => pairRatios('x', [1])).toThrow(TypeError);
  });
});

describe('bootstrap interval', () => {
  const xs = [1.1, 1.2, 1.25, 1.3, 1.15, 1.4, 1.22, 1.18, 1.35, 1.05, 1.28];
  test('is deterministic for a seed and contains the median', () => {
    const a = bootstrapMedianCI(xs, { seed: 42 });
    const b = bootstrapMedianCI(xs, { seed: 42 });
    expect(a).toEqual(b);
    expect(a[0]).toBeLessThanOrEqual(median(xs));
    expect(a[1]).toBeGreaterThanOrEqual(median(xs));
    expect(a[0]).toBeGreaterThanOrEqual(Math.min(...xs));
    expect(a[1]).toBeLessThanOrEqual(Math.max(...xs));
  });
  test('another seed may move it, but only a little', () => {
    const a = bootstrapMedianCI(xs, { seed: 1 });
    const c = bootstrapMedianCI(xs, { seed: 2 });
    expect(Math.abs(a[0] - c[0])).toBeLessThan(0.1);
  });
  test('is narrower for tight samples than for spread ones', () => {
    const tight = [1, 1.01, 0.99, 1.02, 0.98, 1, 1.01, 0.99, 1];
    const wide = [0.5, 1.5, 0.7, 1.3, 1, 0.6, 1.4, 0.8, 1.2];
    const w = (ci) => ci[1] - ci[0];
    expect(w(bootstrapMedianCI(tight))).toBeLessThan(w(bootstrapMedianCI(wide)));
  });
  test('one value gives a point; none gives null', () => {
    expect(bootstrapMedianCI([3])).toEqual([3, 3]);
    expect(bootstrapMedianCI([])).toBeNull();
  });
  test('the generator is seeded and in [0, 1)', () => {
    const a = rng(7);
    const b = rng(7);
    for (let i = 0; i < 100; i++) {
      const v = a();
      expect(v).toBe(b());
      expect(v >= 0 && v < 1).toBe(true);
    }
    expect(seedOf('rt16.x')).toBe(seedOf('rt16.x'));
    expect(seedOf('rt16.x')).not.toBe(seedOf('rt16.y'));
  });
  test('quantile interpolates', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0)).toBe(1);
    expect(quantile([1, 2, 3, 4], 1)).toBe(4);
  });
});

describe('verdict', () => {
  test('yes, no and unsure by where the interval lies', () => {
    expect(judge(1.1, [1.0, 1.2], LE13)).toBe('yes');
    expect(judge(1.5, [1.4, 1.6], LE13)).toBe('no');
    expect(judge(1.25, [1.1, 1.4], LE13)).toBe('unsure');
    expect(judge(3, [1.5, 4], GE2)).toBe('unsure');
    expect(judge(3, [2.5, 4], GE2)).toBe('yes');
  });
  test('without an interval the ratio decides; no ratio is no', () => {
    expect(judge(1.2, null, LE13)).toBe('yes');
    expect(judge(1.4, null, LE13)).toBe('no');
    expect(judge(NaN, [1, 1.1], LE13)).toBe('no');
  });
  test('rowStats: median of pairs, an interval from 3 pairs up, verdict', () => {
    const st = rowStats('r', [1.2, 1.25, 1.4, 1.1, 1.35], LE13, 99);
    expect(st.ratio).toBe(1.25);
    expect(st.ci).toHaveLength(2);
    expect(st.met).toBe('unsure');
    const two = rowStats('r', [1, 1.1].slice(0, MIN_PAIRS_FOR_CI - 1), LE13, 99);
    expect(two.ci).toBeNull();
    expect(two.met).toBe('yes');
    const once = rowStats('r', null, LE13, 2);
    expect(once).toEqual({ ratio: 2, ci: null, met: 'no' });
  });
  test('goal texts parse back', () => {
    expect(parseGoal('<= 1.30')).toEqual({ op: '<=', value: 1.3 });
    expect(parseGoal('>= 2.0')).toEqual({ op: '>=', value: 2 });
    expect(() => parseGoal('< 1')).toThrow(/not a goal/);
  });
});

describe('spread over repeats', () => {
  test('runs agree when the largest ratio is at most 1.2 x the smallest', () => {
    expect(agree(spread([1.0, 1.2]))).toBe(true);
    expect(agree(spread([1.0, 1.21]))).toBe(false);
    expect(agree(spread([1.0]))).toBeNull();
  });
  test('min, median, max', () => {
    expect(spread([1.2, 1.0, 1.1])).toEqual({ n: 3, min: 1.0, median: 1.1, max: 1.2 });
    expect(spread([NaN])).toBeNull();
  });
  const row = (ratio, pairs) => ({ id: 'a.node', ferry: ratio * 10, baseline: 10, unit: 'us/rt', ratio, ci: null, goal: '<= 1.30', met: 'yes', pair_ratios: pairs });
  test('combineRows pools the pairs and keeps each run\'s ratio', () => {
    const c = combineRows([row(1.1, [1.0, 1.1, 1.2]), row(1.5, [1.4, 1.5, 1.6])], LE13);
    expect(c.pair_ratios).toEqual([1.0, 1.1, 1.2, 1.4, 1.5, 1.6]);
    expect(c.ratio).toBeCloseTo(1.3, 10);
    expect(c.spread).toMatchObject({ n: 2, min: 1.1, max: 1.5, runs: [1.1, 1.5] });
    expect(c.ferry).toBeCloseTo(13, 10);
    expect(c.ci[0]).toBeLessThan(1.3);
    expect(c.met).toBe('unsure');
  });
  test('combineRuns: one row per id, rows only one run has pass through', () => {
    const r1 = [row(1.1, [1.0, 1.1, 1.2]), { ...row(2, [2, 2, 2]), id: 'b.node' }];
    const r2 = [row(1.2, [1.1, 1.2, 1.3])];
    const out = combineRuns([r1, r2]);
    expect(out.map((r) => r.id)).toEqual(['a.node', 'b.node']);
    expect(out[0].spread.n).toBe(2);
    expect(out[1].spread).toMatchObject({ n: 1, runs: [2] });
    expect(out[1].met).toBe('yes'); // passed through as it was
    // Combining again (a saved --repeat run with another) keeps every run's ratio.
    const again = combineRuns([out, [row(1.3, [1.3, 1.3, 1.3])]]);
    expect(again[0].spread.runs).toEqual([1.1, 1.2, 1.3]);
  });
});
