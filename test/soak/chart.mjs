#!/usr/bin/env node
// chart.mjs - draws a soak's samples as an SVG:
//   node test/soak/chart.mjs docs/runs/soak-10min.json docs/soak-memory.svg
// Four panels over time: the host's JS heap (heapUsed, external,
// arrayBuffers, after a GC), the process's rss, each actor's wasm memory,
// and the counts (blobs held, loans out, pending calls). The warm-up,
// which the slopes leave out, is shaded.
import fs from 'node:fs';

const MB = 1 << 20;
const W = 860;
const PH = 170; // panel height
const L = 70; // left margin
const R = 150; // right margin (legend)
const TOP = 40;
const GAP = 46;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function chart(result) {
  const s = result.samples;
  const tMax = Math.max(...s.map((x) => x.t)) / 60;
  const warm = result.options.warmup / 60;
  const px = (t) => L + ((t / 60) / tMax) * (W - L - R);
  const out = [];
  const panels = [
    {
      title: 'host JS heap after GC (MB)',
      series: [
        { name: 'heapUsed', get: (x) => x.heapUsed / MB },
        { name: 'external', get: (x) => x.external / MB },
        { name: 'arrayBuffers', get: (x) => x.arrayBuffers / MB },
      ],
    },
    { title: 'process rss (MB)', series: [{ name: 'rss', get: (x) => x.rss / MB }] },
    {
      title: 'wasm memory per actor (MB)',
      series: s[0].wasm.map((_, i) => ({ name: `actor ${i + 1}`, get: (x) => x.wasm[i] / MB, thin: true })),
      legend: `${s[0].wasm.length} actors`,
    },
    {
      title: 'counts',
      series: [
        { name: 'loans out', get: (x) => x.loansOut },
        { name: 'pending calls', get: (x) => x.pendingCalls },
        { name: 'blobs held', get: (x) => x.blobs },
        { name: 'ports / 4', get: (x) => x.ports / 4 },
      ],
    },
  ];
  const H = TOP + panels.length * (PH + GAP) + 10;
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  const t = result.totals;
  out.push(
    `<text x="${L}" y="18" font-size="13" font-weight="bold">${esc(`soak: ${t.actors} actors, ${(t.seconds / 60).toFixed(1)} min, ${t.messages.toLocaleString('en')} messages, ${(t.bytes / 2 ** 30).toFixed(0)} GiB; ${result.ok ? 'nothing lost, memory flat' : 'FAILED'}`)}</text>`,
  );
  panels.forEach((p, k) => {
    const y0 = TOP + k * (PH + GAP) + 14;
    const vmax = niceMax(Math.max(...p.series.flatMap((se) => s.map(se.get))) * 1.05);
    const py = (v) => y0 + PH - (v / vmax) * PH;
    out.push(`<text x="${L}" y="${y0 - 6}" font-weight="bold">${esc(p.title)}</text>`);
    out.push(`<rect x="${L}" y="${y0}" width="${px(warm * 60) - L}" height="${PH}" fill="#eee"/>`);
    out.push(`<rect x="${L}" y="${y0}" width="${W - L - R}" height="${PH}" fill="none" stroke="#999"/>`);
    for (let i = 0; i <= 4; i++) {
      const v = (vmax * i) / 4;
      out.push(`<line x1="${L - 4}" x2="${W - R}" y1="${py(v)}" y2="${py(v)}" stroke="#ddd"/>`);
      out.push(`<text x="${L - 6}" y="${py(v) + 4}" text-anchor="end">${+v.toFixed(1)}</text>`);
    }
    const step = tMax > 4 ? 1 : tMax > 1 ? 0.5 : 0.25;
    for (let m = 0; m <= tMax + 1e-9; m += step) {
      out.push(`<text x="${px(m * 60)}" y="${y0 + PH + 13}" text-anchor="middle">${+m.toFixed(2)}${m === 0 ? ' min' : ''}</text>`);
    }
    if (k === 0) out.push(`<text x="${L + 4}" y="${y0 + 12}" fill="#777">warm-up</text>`);
    p.series.forEach((se, i) => {
      const color = COLORS[i % COLORS.length];
      const pts = s.map((x) => `${px(x.t).toFixed(1)},${py(se.get(x)).toFixed(1)}`).join(' ');
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="${se.thin ? 1 : 1.6}" points="${pts}"/>`);
      if (!p.legend) {
        out.push(`<line x1="${W - R + 10}" x2="${W - R + 26}" y1="${y0 + 10 + i * 16}" y2="${y0 + 10 + i * 16}" stroke="${color}" stroke-width="2"/>`);
        out.push(`<text x="${W - R + 30}" y="${y0 + 14 + i * 16}">${esc(se.name)}</text>`);
      }
    });
    if (p.legend) out.push(`<text x="${W - R + 10}" y="${y0 + 14}">${esc(p.legend)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error('usage: node test/soak/chart.mjs RESULT.json OUT.svg');
    process.exit(2);
  }
  fs.writeFileSync(output, chart(JSON.parse(fs.readFileSync(input, 'utf8'))));
}
