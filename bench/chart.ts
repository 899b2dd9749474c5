/**
 * The latency chart, written by hand as SVG: for each reader count, the
 * distribution of POST-to-reader latency (every reader × every spaced
 * alert) as a CDF, Flashwire solid, the floor dashed.
 */
import type { RunResult } from './report';

const W = 760;
const H = 420;
const M = { l: 64, r: 20, t: 40, b: 56 };
const COLORS = ['#1f6feb', '#d1242f', '#1a7f37', '#8250df', '#bf8700'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

/** A round axis maximum above `v`: 1, 2 or 5 times a power of ten. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function drawLatencyChart(run: RunResult): string {
  // The x axis ends at the largest p99, so the body of the curves is readable; the tails are in the table.
  const p99s = run.results.flatMap((r) => [r.latencyCdf.flashwire[99], r.latencyCdf.floor?.[99]]).filter((x): x is number => Number.isFinite(x));
  const xMax = niceMax(Math.max(1, ...p99s) * 1.1);
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const r1 = (v: number) => Math.round(v * 10) / 10;
  const x = (ms: number) => r1(M.l + (Math.min(ms, xMax) / xMax) * pw);
  const y = (p: number) => r1(M.t + ph - (p / 100) * ph);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${M.l}" y="22" font-size="14" font-weight="600">POST-to-reader latency, every reader × every spaced alert (CDF)</text>`);
  for (let i = 0; i <= 5; i++) {
    const v = (xMax / 5) * i;
    out.push(`<line x1="${x(v)}" y1="${M.t}" x2="${x(v)}" y2="${M.t + ph}" stroke="#eee"/>`);
    out.push(`<text x="${x(v)}" y="${M.t + ph + 16}" text-anchor="middle">${+v.toFixed(1)}</text>`);
  }
  for (const p of [0, 25, 50, 75, 90, 99, 100]) {
    out.push(`<line x1="${M.l}" y1="${y(p)}" x2="${M.l + pw}" y2="${y(p)}" stroke="#eee"/>`);
    out.push(`<text x="${M.l - 6}" y="${y(p) + 4}" text-anchor="end">${p}%</text>`);
  }
  out.push(`<line x1="${M.l}" y1="${M.t + ph}" x2="${M.l + pw}" y2="${M.t + ph}" stroke="#333"/>`);
  out.push(`<line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${M.t + ph}" stroke="#333"/>`);
  out.push(`<text x="${M.l + pw / 2}" y="${H - 14}" text-anchor="middle">milliseconds after the POST (floor: after the PUBLISH)</text>`);
  // The legend sits bottom right, where CDFs never go (high latency at low percentiles).
  const entries = run.results.reduce((n, r) => n + (r.latencyCdf.floor ? 2 : 1), 0);
  let legendY = M.t + ph - 8 - 16 * (entries - 1);
  run.results.forEach((r, i) => {
    const color = COLORS[i % COLORS.length]!;
    const series: [string, number[] | null, string][] = [
      [`Flashwire, ${r.readers.toLocaleString('en')} readers`, r.latencyCdf.flashwire, ''],
      [`floor, ${r.readers.toLocaleString('en')} readers`, r.latencyCdf.floor, ' stroke-dasharray="6 4"'],
    ];
    for (const [label, cdf, dash] of series) {
      if (!cdf) continue;
      const pts = cdf.map((ms, p) => `${x(ms).toFixed(1)},${y(p).toFixed(1)}`).join(' ');
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts}"/>`);
      out.push(`<line x1="${M.l + pw - 290}" y1="${legendY - 4}" x2="${M.l + pw - 262}" y2="${legendY - 4}" stroke="${color}" stroke-width="2"${dash}/>`);
      out.push(`<text x="${M.l + pw - 256}" y="${legendY}">${esc(label)} (p99 ${cdf[99]} ms)</text>`);
      legendY += 16;
    }
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
