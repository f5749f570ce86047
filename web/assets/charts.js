// Charts drawn as SVG in the page. Every chart prints its numbers and
// tells its series apart by pattern as well as colour, so it reads in
// black and white and to those who do not see colours; each carries a
// <title> and an aria-label for screen readers.

import { num, t } from './i18n.js';

const NS = 'http://www.w3.org/2000/svg';
let uid = 0;

function el(name, attrs = {}, text) {
  const n = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  if (text !== undefined) n.textContent = text;
  return n;
}

function svg(width, height, label) {
  const s = el('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', 'aria-label': label, class: 'chart' });
  s.append(el('title', {}, label));
  return s;
}

// The fills of series: a colour and a pattern each.
const fills = [
  { color: '#1f5f8b', pattern: 'solid' },
  { color: '#c05a1a', pattern: 'hatch' },
  { color: '#4b7f3a', pattern: 'dots' },
  { color: '#7a4b8f', pattern: 'cross' },
  { color: '#8a7a22', pattern: 'vertical' },
];

function defsFor(s) {
  const id = `p${++uid}`;
  const defs = el('defs');
  fills.forEach((f, i) => {
    const p = el('pattern', { id: `${id}-${i}`, width: 6, height: 6, patternUnits: 'userSpaceOnUse' });
    p.append(el('rect', { width: 6, height: 6, fill: f.color }));
    if (f.pattern === 'hatch') p.append(el('path', { d: 'M0,6 L6,0', stroke: '#fff', 'stroke-width': 1.5 }));
    if (f.pattern === 'dots') p.append(el('circle', { cx: 3, cy: 3, r: 1.3, fill: '#fff' }));
    if (f.pattern === 'cross') p.append(el('path', { d: 'M0,0 L6,6 M6,0 L0,6', stroke: '#fff', 'stroke-width': 1 }));
    if (f.pattern === 'vertical') p.append(el('path', { d: 'M3,0 L3,6', stroke: '#fff', 'stroke-width': 1.5 }));
    defs.append(p);
  });
  s.append(defs);
  return (i) => `url(#${id}-${i % fills.length})`;
}

/**
 * barChart draws one horizontal bar per item ({label, value}), the value
 * printed at the end of each bar.
 */
export function barChart(items, title) {
  const row = 24, labelW = 190, barW = 260, width = labelW + barW + 60;
  const s = svg(width, Math.max(1, items.length) * row + 8, title);
  const fill = defsFor(s);
  const max = Math.max(1, ...items.map((i) => i.value || 0));
  items.forEach((it, i) => {
    const y = 4 + i * row;
    const w = ((it.value || 0) / max) * barW;
    const g = el('g', { class: 'bar', 'data-label': it.key ?? it.label, 'data-value': it.value ?? 0 });
    g.append(el('text', { x: labelW - 8, y: y + 15, 'text-anchor': 'end', class: 'label' }, it.label));
    g.append(el('rect', { x: labelW, y: y + 3, width: Math.max(w, it.value ? 2 : 0), height: row - 8, fill: fill(0) }));
    g.append(el('text', { x: labelW + w + 6, y: y + 15, class: 'value' }, num(it.value)));
    s.append(g);
  });
  return s;
}

/**
 * stackedBars draws one bar per row ({label, parts: {key: value}}), its
 * parts in the order of series ([{key, label}]), with a legend, each
 * part's number inside it when it fits, and the row's total after it.
 */
export function stackedBars(rows, series, title) {
  const row = 26, labelW = 170, barW = 300, legendH = 24, width = labelW + barW + 60;
  const s = svg(width, legendH + Math.max(1, rows.length) * row + 8, title);
  const fill = defsFor(s);
  let lx = 0;
  series.forEach((se, i) => {
    const g = el('g', { class: 'legend' });
    g.append(el('rect', { x: lx, y: 4, width: 14, height: 14, fill: fill(i), stroke: '#333', 'stroke-width': 0.5 }));
    g.append(el('text', { x: lx + 18, y: 16 }, se.label));
    s.append(g);
    lx += 34 + se.label.length * 8;
  });
  const totals = rows.map((r) => series.reduce((a, se) => a + (r.parts[se.key] || 0), 0));
  const max = Math.max(1, ...totals);
  rows.forEach((r, i) => {
    const y = legendH + 4 + i * row;
    const g = el('g', { class: 'bar', 'data-label': r.key ?? r.label, 'data-value': totals[i] });
    g.append(el('text', { x: labelW - 8, y: y + 16, 'text-anchor': 'end', class: 'label' }, r.label));
    let x = labelW;
    series.forEach((se, j) => {
      const v = r.parts[se.key] || 0;
      if (!v) return;
      const w = (v / max) * barW;
      const part = el('rect', { x, y: y + 3, width: w, height: row - 8, fill: fill(j), 'data-series': se.key, 'data-value': v });
      part.append(el('title', {}, `${r.label}: ${se.label} ${num(v)}`));
      g.append(part);
      if (w > 18) g.append(el('text', { x: x + w / 2, y: y + 16, 'text-anchor': 'middle', class: 'inbar' }, num(v)));
      x += w;
    });
    g.append(el('text', { x: x + 6, y: y + 16, class: 'value' }, num(totals[i])));
    s.append(g);
  });
  return s;
}

/**
 * spreadChart draws one box per row ({label, d: {n, min, q1, median, q3,
 * max}}): the whisker from min to max, the box between the quartiles and
 * the median printed beside it.
 */
export function spreadChart(rows, title) {
  const row = 28, labelW = 190, plotW = 260, width = labelW + plotW + 110;
  const s = svg(width, Math.max(1, rows.length) * row + 8, title);
  const fill = defsFor(s);
  const max = Math.max(1, ...rows.map((r) => r.d.max ?? 0));
  const x = (v) => labelW + (v / max) * plotW;
  rows.forEach((r, i) => {
    const y = 4 + i * row, mid = y + row / 2;
    const g = el('g', { class: 'spread', 'data-label': r.key ?? r.label, 'data-value': r.d.median ?? '' });
    g.append(el('text', { x: labelW - 8, y: mid + 5, 'text-anchor': 'end', class: 'label' }, r.label));
    if (r.d.n > 0) {
      g.append(el('line', { x1: x(r.d.min), x2: x(r.d.max), y1: mid, y2: mid, stroke: '#333' }));
      g.append(el('rect', { x: x(r.d.q1), y: mid - 8, width: Math.max(2, x(r.d.q3) - x(r.d.q1)), height: 16, fill: fill(1), stroke: '#333' }));
      g.append(el('line', { x1: x(r.d.median), x2: x(r.d.median), y1: mid - 10, y2: mid + 10, stroke: '#000', 'stroke-width': 3 }));
      g.append(el('text', { x: x(r.d.max) + 8, y: mid + 5, class: 'value' }, `${num(r.d.median, 1)} (n=${r.d.n})`));
    } else {
      g.append(el('text', { x: labelW, y: mid + 5, class: 'value' }, t('none')));
    }
    s.append(g);
  });
  return s;
}
