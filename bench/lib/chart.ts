import type { ChartBar, ChartGroup } from './types.js';

/**
 * The report's chart as hand-written SVG: horizontal bars grouped per comparison/scenario, throughput in
 * the left panel and p99 latency in the right one, sharing the row labels. Linear scales; every bar
 * carries its value, so short bars stay readable.
 */

const W = 960;
const LABEL_W = 190;
const PANEL_W = 330;
const PANEL_GAP = 50;
const VALUE_W = 54;
const TOP = 92;
const ROW_H = 20;
const BAR_H = 13;
const HEAD_H = 22;
const BOTTOM = 34;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

const FIXED_COLORS: Record<string, string> = { engine: '#2563eb', plain: '#9ca3af', 'row-lock': '#dc2626' };
const PALETTE = ['#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563'];

const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
const text = (x: number, y: number, s: string, attrs = '') => `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`;

/** 1,234 / 12.3k / 4.5 */
export function fmtShort(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (n === 0) return '0';
  if (n >= 10_000) return `${(n / 1000).toFixed(n >= 100_000 ? 0 : 1).replace(/\.0$/, '')}k`;
  if (n >= 100) return Math.round(n).toLocaleString('en-US');
  return n >= 10 || Number.isInteger(n) ? n.toFixed(0) : n.toFixed(1);
}

/** The smallest 1/2/2.5/5 × 10^k at or above `max`, and tick step for about five ticks. */
export function niceScale(max: number): { top: number; step: number } {
  if (!(max > 0) || !Number.isFinite(max)) return { top: 1, step: 0.2 };
  const mag = 10 ** Math.floor(Math.log10(max));
  const top = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((v) => v >= max)!;
  return { top, step: top / 5 };
}

function colorFor(label: string, assigned: Map<string, string>): string {
  const fixed = FIXED_COLORS[label];
  if (fixed) return fixed;
  if (!assigned.has(label)) assigned.set(label, PALETTE[assigned.size % PALETTE.length]!);
  return assigned.get(label)!;
}

interface Panel {
  x: number;
  title: string;
  value: (b: ChartBar) => number;
  unit: string;
}

function axis(p: Panel, top: number, y0: number, y1: number): string[] {
  const { step } = niceScale(top);
  const out: string[] = [text(p.x, TOP - 30, p.title, `${FONT} font-size="13" font-weight="600" fill="#111827"`)];
  for (let v = 0; v <= top + step / 2; v += step) {
    const x = p.x + (v / top) * (PANEL_W - VALUE_W);
    out.push(`<line x1="${x.toFixed(1)}" y1="${y0}" x2="${x.toFixed(1)}" y2="${y1}" stroke="#e5e7eb"/>`);
    out.push(text(x, TOP - 8, fmtShort(v), `${FONT} font-size="10" fill="#6b7280" text-anchor="middle"`));
  }
  out.push(text(p.x + PANEL_W - VALUE_W, y1 + 16, p.unit, `${FONT} font-size="10" fill="#6b7280" text-anchor="end"`));
  return out;
}

function bar(p: Panel, top: number, y: number, b: ChartBar, color: string): string[] {
  const v = p.value(b);
  const len = Number.isFinite(v) && top > 0 ? Math.max(1, (v / top) * (PANEL_W - VALUE_W)) : 0;
  return [
    `<rect x="${p.x}" y="${(y + (ROW_H - BAR_H) / 2).toFixed(1)}" width="${len.toFixed(1)}" height="${BAR_H}" rx="2" fill="${color}"/>`,
    text(p.x + len + 4, y + ROW_H / 2 + 4, fmtShort(v), `${FONT} font-size="10.5" fill="#111827"`),
  ];
}

/** The whole SVG document. */
export function renderChart(groups: ChartGroup[], title: string, subtitle: string): string {
  const panels: Panel[] = [
    { x: LABEL_W + 10, title: 'Throughput (per second, median)', value: (b) => b.rps, unit: 'req/s (checkout: flows/s, webhooks/s)' },
    { x: LABEL_W + 10 + PANEL_W + PANEL_GAP, title: 'Latency p99 (ms)', value: (b) => b.p99, unit: 'ms' },
  ];
  const bars = groups.flatMap((g) => g.bars);
  const tops = panels.map((p) => niceScale(Math.max(0, ...bars.map(p.value).filter(Number.isFinite))).top);
  const height = TOP + groups.length * HEAD_H + bars.length * ROW_H + BOTTOM;
  const assigned = new Map<string, string>();
  const body: string[] = [];
  let y = TOP;
  for (const g of groups) {
    body.push(`<line x1="10" y1="${y + 2}" x2="${W - 10}" y2="${y + 2}" stroke="#d1d5db"/>`);
    body.push(text(12, y + 16, g.title, `${FONT} font-size="12" font-weight="600" fill="#111827"`));
    y += HEAD_H;
    for (const b of g.bars) {
      const color = colorFor(b.label, assigned);
      body.push(text(LABEL_W, y + ROW_H / 2 + 4, b.label, `${FONT} font-size="11.5" fill="#374151" text-anchor="end"`));
      panels.forEach((p, i) => body.push(...bar(p, tops[i]!, y, b, color)));
      y += ROW_H;
    }
  }
  const axes = panels.flatMap((p, i) => axis(p, tops[i]!, TOP, y));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}">`,
    `<rect width="${W}" height="${height}" fill="#ffffff"/>`,
    text(12, 22, title, `${FONT} font-size="16" font-weight="700" fill="#111827"`),
    text(12, 38, subtitle, `${FONT} font-size="11" fill="#6b7280"`),
    ...axes,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
