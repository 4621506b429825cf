/**
 * Charts as SVG drawn by the server: readable without JavaScript, coloured by CSS class
 * (the Content-Security-Policy allows no inline style), each with a title and a
 * description for screen readers. The page puts the same figures in a table beside it.
 */
import { html, type SafeHtml } from './html.ts';

let counter = 0;
const nextId = () => `chart-${++counter}`;

/** Round axis steps: 1, 2 or 5 × a power of ten, about `ticks` of them up to max. */
function niceStep(max: number, ticks: number): number {
  if (max <= 0) return 1;
  const raw = max / ticks;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const f = raw / pow;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * pow;
}

export interface LineSeries {
  /** One value per x label; null where there is no value (yet). */
  values: readonly (number | null)[];
  className: string;
  /** A dot on each value (so a single value shows too). */
  dots?: boolean;
}

export function lineChart(c: { title: string; description: string; xLabels: readonly string[]; series: readonly LineSeries[]; yMax: number; yLabel: (v: number) => string }): SafeHtml {
  const id = nextId();
  const W = 640;
  const H = 300;
  const left = 88;
  const right = 16;
  const top = 16;
  const bottom = 40;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const step = niceStep(c.yMax, 4);
  const yTop = Math.max(step, Math.ceil(c.yMax / step) * step);
  const x = (i: number) => left + (c.xLabels.length <= 1 ? 0 : (i / (c.xLabels.length - 1)) * plotW);
  const y = (v: number) => top + plotH - (v / yTop) * plotH;
  const ticks: number[] = [];
  for (let v = 0; v <= yTop + 1e-9; v += step) ticks.push(v);
  const path = (values: readonly (number | null)[]) => {
    let d = '';
    values.forEach((v, i) => {
      if (v === null) return;
      d += `${d ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
    });
    return d.trim();
  };
  return html`<svg class="bf-chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${id}-title ${id}-desc" focusable="false">
<title id="${id}-title">${c.title}</title>
<desc id="${id}-desc">${c.description}</desc>
${ticks.map((v) => html`<line class="bf-chart__grid" x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"></line><text x="${left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${c.yLabel(v)}</text>`)}
<line class="bf-chart__axis" x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}"></line>
<line class="bf-chart__axis" x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}"></line>
${c.xLabels.map((l, i) => html`<text x="${x(i).toFixed(1)}" y="${H - bottom + 18}" text-anchor="middle">${l}</text>`)}
${c.series.map(
    (s) =>
      html`<path class="bf-chart__line ${s.className}" d="${path(s.values)}"></path>${
        s.dots ? s.values.map((v, i) => (v === null ? '' : html`<circle class="bf-chart__dot" cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="4"></circle>`)) : ''
      }`,
  )}
</svg>`;
}

export interface Bar {
  label: string;
  value: number;
  className?: string;
}

/** Horizontal bars (long labels such as wijk names fit on a phone). */
export function barChart(c: { title: string; description: string; bars: readonly Bar[]; valueLabel: (v: number) => string }): SafeHtml {
  const id = nextId();
  const W = 640;
  const rowH = 28;
  const labelW = 190;
  const valueW = 110;
  const H = Math.max(1, c.bars.length) * rowH + 8;
  const max = Math.max(1, ...c.bars.map((b) => b.value));
  const plotW = W - labelW - valueW;
  return html`<svg class="bf-chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${id}-title ${id}-desc" focusable="false">
<title id="${id}-title">${c.title}</title>
<desc id="${id}-desc">${c.description}</desc>
${c.bars.map((b, i) => {
  const yy = 4 + i * rowH;
  const w = Math.max(b.value > 0 ? 2 : 0, (b.value / max) * plotW);
  return html`<text x="${labelW - 8}" y="${yy + 18}" text-anchor="end">${b.label}</text><rect class="bf-chart__bar ${b.className ?? ''}" x="${labelW}" y="${yy + 4}" width="${w.toFixed(1)}" height="${rowH - 10}"></rect><text x="${(labelW + w + 6).toFixed(1)}" y="${yy + 18}">${c.valueLabel(b.value)}</text>`;
})}
</svg>`;
}
