// The report writer of `npm run bench -- --report` (test/bench/report.mjs):
// the marked blocks are replaced and nothing else, writing twice gives the
// same files, the chart has one bar per measured row, and the errors for
// missing markers and bad JSON are clear. Fixed rows; nothing is timed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  MARKS, replaceBetween, renderTables, renderReadme, renderChart, writeReport, reportFromFiles, engineOf, baseOf,
} from '../bench/report.mjs';

const row = (id, ratio, ci, met, extra = {}) => ({
  id, ferry: ratio * 10, baseline: 10, unit: 'us/rt', ratio, ci, goal: '<= 1.30', met, ...extra,
});
const ROWS = [
  { ...row('cbor.encode_vs_libcbor.native', 0.09, [0.08, 0.1], 'yes'), goal: '<= 1.0', unit: 'ns/item' },
  row('rt16.call_vs_transfer.node.1cpu', 1.2, [1.1, 1.25], 'yes', { placement: '1cpu' }),
  row('rt16.call_vs_transfer.node.2cpu', 1.28, [1.2, 1.4], 'unsure', { placement: '2cpu' }),
  row('rt16.call_vs_transfer.chromium', 1.5, [1.45, 1.6], 'no'),
  row('rt16.call_vs_transfer.firefox', null, null, 'no', { detail: { error: 'no Firefox at /x' } }),
  { ...row('stream16.throughput_vs_raw.node', 4, [3.5, 4.5], 'yes'), goal: '>= 2.0' },
];
const DOC = { env: { date: '2026-12-02T09:00:00.000Z', commit: 'abcdef1234567', cpus: 2, quick: true, repeat: 1, seconds: 99 }, rows: ROWS };

function scratch() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-report-'));
  fs.mkdirSync(path.join(root, 'docs'));
  fs.writeFileSync(path.join(root, 'docs', 'performance.md'),
    `# Perf\n\nprose before\n\n${MARKS.results[0]}\nold table\n${MARKS.results[1]}\n\nprose after\n`);
  fs.writeFileSync(path.join(root, 'README.md'), `# ferry\n\nintro\n${MARKS.figures[0]}\nold figures\n${MARKS.figures[1]}\nmore\n`);
  return root;
}

describe('report writer', () => {
  test('engines and base ids come from the suffix', () => {
    expect(engineOf('rt16.call_vs_transfer.node.1cpu')).toBe('node.1cpu');
    expect(engineOf('spawn8_vs_js.firefox')).toBe('firefox');
    expect(engineOf('cbor.encode_vs_libcbor.native')).toBe('codec');
    expect(baseOf('rt16.call_vs_transfer.node.2cpu')).toBe('rt16.call_vs_transfer');
  });

  test('replaceBetween keeps the markers and what is outside them', () => {
    const t = 'a\n<!-- b -->\nold\n<!-- e -->\nz\n';
    expect(replaceBetween(t, '<!-- b -->', '<!-- e -->', 'new')).toBe('a\n<!-- b -->\nnew\n<!-- e -->\nz\n');
    expect(() => replaceBetween('no markers', '<!-- b -->', '<!-- e -->', 'x', 'README.md')).toThrow(/README.md has no <!-- b -->/);
    expect(() => replaceBetween('<!-- b --><!-- b --><!-- e -->', '<!-- b -->', '<!-- e -->', 'x')).toThrow(/twice/);
  });

  test('the tables show ratio, interval, verdict and the run, per engine', () => {
    const md = renderTables(ROWS, [{ file: 'docs/runs/x.json', doc: DOC }]);
    expect(md).toContain('`docs/runs/x.json`');
    expect(md).toContain('commit abcdef1234');
    expect(md).toContain('#### Node, host and actor threads on one CPU');
    expect(md).toContain('#### Firefox ESR (headless)');
    expect(md).toMatch(/\| `rt16.call_vs_transfer.node.2cpu` \| 12.8 \| 10.0 \| us\/rt \| 1.28 \| 1.20–1.40 \| ≤ 1.30 \| \*unsure\* \|/);
    expect(md).toMatch(/`rt16.call_vs_transfer.chromium`.*\*\*no\*\*/);
    expect(md).toMatch(/`rt16.call_vs_transfer.firefox`.*not measured \(no Firefox at \/x\)/);
  });

  test('the README block quotes the same ratios', () => {
    const md = renderReadme(ROWS, [{ file: 'docs/runs/x.json', doc: DOC }]);
    expect(md).toMatch(/\| 16 B call JS → C → JS vs a raw transfer round trip \| ≤ 1.30 \| 1.20 \| 1.28 \? \| – \| 1.50 ✗ \| – \|/);
    expect(md).toMatch(/\| stream of 16 B messages.* \| ≥ 2.0 \| – \| – \| 4.00 \| – \| – \|/);
    expect(md).toContain('| Node, 1 CPU | Node, 2 CPUs | Node | Chromium | Firefox |');
  });

  test('the chart has one bar per measured row, a goal tick and an interval each', () => {
    const svg = renderChart(ROWS);
    const bars = [...svg.matchAll(/<rect class="bar" data-id="([^"]+)"/g)].map((m) => m[1]);
    expect([...bars].sort()).toEqual(ROWS.filter((r) => r.ratio !== null).map((r) => r.id).sort());
    expect(svg.match(/class="goal"/g)).toHaveLength(bars.length);
    expect(svg.match(/class="ci"/g)).toHaveLength(bars.length);
    expect(svg).toContain('not measured');
    expect(svg).toContain('ratio (log scale)');
    expect(svg.startsWith('<svg')).toBe(true);
  });

  test('writeReport replaces the blocks, leaves the prose, and is idempotent', () => {
    const root = scratch();
    const inputs = [{ file: 'docs/runs/x.json', doc: DOC }];
    writeReport(inputs, { root });
    const read = (f) => fs.readFileSync(path.join(root, f), 'utf8');
    const perf1 = read('docs/performance.md');
    const readme1 = read('README.md');
    const svg1 = read('docs/perf-chart.svg');
    expect(perf1).not.toContain('old table');
    expect(perf1).toContain('prose before');
    expect(perf1).toContain('prose after');
    expect(perf1).toContain('`rt16.call_vs_transfer.node.1cpu`');
    expect(readme1).not.toContain('old figures');
    expect(readme1.endsWith('more\n')).toBe(true);
    writeReport(inputs, { root });
    expect(read('docs/performance.md')).toBe(perf1);
    expect(read('README.md')).toBe(readme1);
    expect(read('docs/perf-chart.svg')).toBe(svg1);
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('--from: two saved runs are combined row by row; bad files are named', () => {
    const root = scratch();
    const a = path.join(root, 'a.json');
    const b = path.join(root, 'b.json');
    const pr = (r, p) => ({ ...r, pair_ratios: p });
    fs.writeFileSync(a, JSON.stringify({ ...DOC, rows: [pr(ROWS[1], [1.1, 1.2, 1.3])] }));
    fs.writeFileSync(b, JSON.stringify({ ...DOC, rows: [pr({ ...ROWS[1], ratio: 1.0 }, [0.9, 1.0, 1.1])] }));
    reportFromFiles([a, b], { root });
    const perf = fs.readFileSync(path.join(root, 'docs', 'performance.md'), 'utf8');
    expect(perf).toContain('`a.json`');
    expect(perf).toContain('`b.json`');
    expect(perf).toMatch(/`rt16.call_vs_transfer.node.1cpu`.*\| 1.00 \/ 1.10 \/ 1.20 \| yes \|/);
    expect(perf).toContain('**1 of 1 rows agree within ±20 % across the runs**');
    fs.writeFileSync(b, '{"nope": 1}');
    expect(() => reportFromFiles([b], { root })).toThrow(/b.json: has no "rows" array/);
    fs.writeFileSync(b, 'not json');
    expect(() => reportFromFiles([b], { root })).toThrow(/b.json: not a bench JSON file/);
    fs.rmSync(path.join(root, 'README.md'));
    fs.writeFileSync(path.join(root, 'README.md'), 'no markers here\n');
    expect(() => reportFromFiles([a], { root })).toThrow(/README.md has no <!-- bench:figures:begin -->/);
    fs.rmSync(root, { recursive: true, force: true });
  });
});
