/**
 * A small SVG line-chart renderer for the benchmark report: axes with 1-2-5 ticks, any number
 * of series (lines, steps for CDFs, markers, min–max whiskers), a legend and axis labels. No
 * fonts or browser needed; the output is plain text that GitHub and browsers render.
 */

export interface ChartSeries {
  name: string;
  color: string;
  /** [x, y] points, drawn in the given order. */
  points: readonly (readonly [number, number])[];
  /** Draw as a step function (horizontal then vertical), as an empirical CDF is. */
  step?: boolean;
  markers?: boolean;
  dashed?: boolean;
  /** Vertical whiskers [x, low, high] (e.g. min and max over rounds). */
  whiskers?: readonly (readonly [number, number, number])[];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly ChartSeries[];
  width?: number;
  height?: number;
  xMin?: number;
  xMax?: number;
  yMin?: number;
  yMax?: number;
  /** Where the legend sits. */
  legend?: 'top-left' | 'bottom-right';
  /** Formats tick labels (default: up to 3 significant decimals). */
  xFormat?: (v: number) => string;
  yFormat?: (v: number) => string;
}

const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
const r2 = (v: number) => Math.round(v * 100) / 100;

/** Tick positions covering [lo, hi] with a 1, 2 or 5 × 10^n step, about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const first = Math.floor(lo / step) * step;
  const ticks: number[] = [];
  for (let v = first; v <= hi + step * 1e-9; v += step) ticks.push(Math.round(v / step) * step);
  if (ticks[ticks.length - 1]! < hi) ticks.push(ticks[ticks.length - 1]! + step);
  return ticks;
}

const defaultFormat = (v: number) => (Math.abs(v) >= 1000 ? v.toLocaleString('en-US') : String(Math.round(v * 1000) / 1000));

export function lineChart(o: ChartOptions): string {
  const W = o.width ?? 680;
  const H = o.height ?? 420;
  const m = { left: 70, right: 24, top: 44, bottom: 58 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = o.series.flatMap((s) => [...s.points.map((p) => p[1]), ...(s.whiskers ?? []).flatMap((w) => [w[1], w[2]])]);
  const xTicks = niceTicks(o.xMin ?? Math.min(0, ...xs), o.xMax ?? Math.max(...xs, 1e-9));
  const yTicks = niceTicks(o.yMin ?? Math.min(0, ...ys), o.yMax ?? Math.max(...ys, 1e-9));
  const x0 = o.xMin ?? xTicks[0]!;
  const x1 = o.xMax ?? xTicks[xTicks.length - 1]!;
  const y0 = o.yMin ?? yTicks[0]!;
  const y1 = o.yMax ?? yTicks[yTicks.length - 1]!;
  const sx = (v: number) => r2(m.left + ((v - x0) / (x1 - x0 || 1)) * pw);
  const sy = (v: number) => r2(m.top + ph - ((v - y0) / (y1 - y0 || 1)) * ph);
  const xf = o.xFormat ?? defaultFormat;
  const yf = o.yFormat ?? defaultFormat;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${esc(o.title)}</text>`);
  // Grid and ticks.
  for (const t of xTicks.filter((t) => t >= x0 && t <= x1)) {
    out.push(`<line x1="${sx(t)}" y1="${m.top}" x2="${sx(t)}" y2="${m.top + ph}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${sx(t)}" y="${m.top + ph + 18}" text-anchor="middle" fill="#333">${esc(xf(t))}</text>`);
  }
  for (const t of yTicks.filter((t) => t >= y0 && t <= y1)) {
    out.push(`<line x1="${m.left}" y1="${sy(t)}" x2="${m.left + pw}" y2="${sy(t)}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${m.left - 8}" y="${sy(t) + 4}" text-anchor="end" fill="#333">${esc(yf(t))}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#555"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${H - 14}" text-anchor="middle" fill="#111">${esc(o.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#111">${esc(o.yLabel)}</text>`);
  // Series.
  for (const s of o.series) {
    if (s.points.length === 0) continue;
    let d = `M${sx(s.points[0]![0])},${sy(s.points[0]![1])}`;
    for (let i = 1; i < s.points.length; i++) {
      const [x, y] = s.points[i]!;
      d += s.step ? ` H${sx(x)} V${sy(y)}` : ` L${sx(x)},${sy(y)}`;
    }
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    for (const [x, lo, hi] of s.whiskers ?? []) {
      out.push(`<path d="M${sx(x)},${sy(lo)} V${sy(hi)} M${sx(x) - 4},${sy(lo)} h8 M${sx(x) - 4},${sy(hi)} h8" stroke="${s.color}" stroke-width="1.2" fill="none"/>`);
    }
    if (s.markers) for (const [x, y] of s.points) out.push(`<circle cx="${sx(x)}" cy="${sy(y)}" r="3.5" fill="${s.color}"/>`);
  }
  // Legend.
  const lw = 14 + Math.max(...o.series.map((s) => s.name.length)) * 7 + 30;
  const lh = o.series.length * 18 + 10;
  const lx = o.legend === 'bottom-right' ? m.left + pw - lw - 10 : m.left + 10;
  const ly = o.legend === 'bottom-right' ? m.top + ph - lh - 10 : m.top + 10;
  out.push(`<rect x="${lx}" y="${ly}" width="${lw}" height="${lh}" fill="#ffffff" fill-opacity="0.9" stroke="#bbb"/>`);
  o.series.forEach((s, i) => {
    const y = ly + 16 + i * 18;
    out.push(`<line x1="${lx + 8}" y1="${y - 4}" x2="${lx + 30}" y2="${y - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${lx + 36}" y="${y}" fill="#111">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
