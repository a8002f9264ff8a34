import { ConfigError } from '../core/errors.js';
import { type Histogram, type MonitorRecord, fmtNum } from './report.js';
import type { RunLog } from './run-log.js';

/**
 * A run log as one self-contained HTML page: every script and style inline, a Content Security
 * Policy that forbids any request, and the data embedded as JSON. The charts are drawn by uPlot,
 * whose code the caller passes in (`keel report` reads it from the `uplot` package).
 */

/** Options of {@link htmlReport}. */
export interface HtmlReportOptions {
  /** The chart library's browser build (uPlot's `dist/uPlot.iife.min.js`), inlined. */
  chartJs: string;
  /** Its stylesheet (`dist/uPlot.min.css`), inlined. */
  chartCss: string;
  /** The page title (default 'Keel training report'). */
  title?: string;
  /** Where the log came from, shown under the title. */
  source?: string;
  /** Sampled steps in the rolling window of the clip-rate chart (default 10). */
  clipWindow?: number;
  /** At most this many sampled steps offered by the histogram slider (default 200; evenly spaced, the last included). */
  maxHistogramFrames?: number;
}

/** One line or bar series of a chart spec. */
interface SeriesSpec {
  label: string;
  values: (number | null)[];
  color: string;
  dash?: boolean;
  points?: boolean;
}

/** A chart as the page's script draws it. */
interface ChartSpec {
  id: string;
  x: number[];
  xLabel: string;
  yLabel: string;
  log: boolean;
  range?: [number, number];
  series: SeriesSpec[];
}

/** Per-layer output histograms at a few sampled steps (one frame per step). */
interface HistogramSpec {
  id: string;
  layer: string;
  frames: { x: number[]; y: number[] }[];
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#d62728'];
const THRESHOLD_COLOR = '#d62728';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that is safe inside a `<script>` element: no `<` can close it or open a comment. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A finite value, else null (a gap); for log scales also null when ≤ 0. */
const finiteOr = (x: number | null | undefined, log: boolean): number | null =>
  x === null || x === undefined || !Number.isFinite(x) || (log && x <= 0) ? null : x;

const hasValue = (s: SeriesSpec): boolean => s.values.some((v) => v !== null);

/** The sorted union of step numbers, and a lookup from step to index. */
function unionSteps(...lists: number[][]): { x: number[]; at: Map<number, number> } {
  const x = [...new Set(lists.flat().filter(Number.isFinite))].sort((a, b) => a - b);
  return { x, at: new Map(x.map((s, i) => [s, i])) };
}

function layerNames(steps: readonly MonitorRecord[], has: (l: MonitorRecord['layers'][string]) => boolean): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const r of steps)
    for (const [n, l] of Object.entries(r.layers))
      if (!seen.has(n) && has(l)) {
        names.push(n);
        seen.add(n);
      }
  return names;
}

/** A module's name with its class, as charts label it: `0 (Linear)`. */
function moduleLabel(steps: readonly MonitorRecord[], name: string): string {
  const l = steps.find((r) => r.layers[name] !== undefined)?.layers[name];
  return l === undefined ? name : `${name} (${String(l.type)}${l.after ? ` after ${l.after}` : ''})`;
}

function lineSeries(
  names: string[],
  get: (name: string, r: MonitorRecord) => number | null | undefined,
  steps: readonly MonitorRecord[],
  log: boolean,
  label: (name: string) => string = (n) => n,
): SeriesSpec[] {
  return names
    .map((n, i) => ({ label: label(n), values: steps.map((r) => finiteOr(get(n, r), log)), color: PALETTE[i % PALETTE.length], dash: i >= PALETTE.length }))
    .filter(hasValue);
}

/** The chart specs of a run log; a chart without data is left out. */
function charts(log: RunLog, clipWindow: number): Map<string, ChartSpec> {
  const { steps, epochs } = log;
  const x = steps.map((r) => r.step);
  const out = new Map<string, ChartSpec>();
  const add = (c: ChartSpec): void => {
    if (c.series.some(hasValue)) out.set(c.id, c);
  };

  const gradLayers = layerNames(steps, (l) => l.gradNorm !== null && l.gradNorm !== undefined);
  add({ id: 'layer-grad', x, xLabel: 'step', yLabel: 'gradient norm', log: true, series: lineSeries(gradLayers, (n, r) => r.layers[n]?.gradNorm, steps, true, (n) => moduleLabel(steps, n)) });

  const global: SeriesSpec[] = [{ label: 'before clipping', values: steps.map((r) => finiteOr(r.gradNorm, true)), color: PALETTE[0] }];
  const after: SeriesSpec = { label: 'after clipping', values: steps.map((r) => finiteOr(r.gradNormAfter, true)), color: PALETTE[2] };
  if (hasValue(after)) global.push(after);
  const t = log.header?.clipThreshold;
  if (t !== undefined && global.some(hasValue)) global.push({ label: `threshold ${fmtNum(t)}`, values: steps.map(() => t), color: THRESHOLD_COLOR, dash: true });
  add({ id: 'global-norm', x, xLabel: 'step', yLabel: 'global gradient norm', log: true, series: global });

  const epochSteps = epochs.map((e) => e.step);
  {
    const u = unionSteps(x, epochSteps);
    const rolling: (number | null)[] = new Array<number | null>(u.x.length).fill(null);
    const recent: boolean[] = [];
    for (const r of steps) {
      if (r.clipped === null) continue;
      recent.push(r.clipped);
      if (recent.length > clipWindow) recent.shift();
      rolling[u.at.get(r.step)!] = recent.filter(Boolean).length / recent.length;
    }
    const perEpoch: (number | null)[] = new Array<number | null>(u.x.length).fill(null);
    for (const e of epochs) if (e.logs.clipped !== undefined && u.at.has(e.step)) perEpoch[u.at.get(e.step)!] = finiteOr(e.logs.clipped, false);
    add({
      id: 'clip-rate',
      x: u.x,
      xLabel: 'step',
      yLabel: 'share of steps clipped',
      log: false,
      range: [0, 1],
      series: [
        { label: `rolling, last ${clipWindow} samples`, values: rolling, color: PALETTE[1] },
        { label: 'per epoch (all steps)', values: perEpoch, color: PALETTE[3], points: true },
      ].filter(hasValue),
    });
  }

  {
    const u = unionSteps(x, epochSteps);
    const series: SeriesSpec[] = [];
    const stepLoss = new Array<number | null>(u.x.length).fill(null);
    for (const r of steps) stepLoss[u.at.get(r.step)!] = finiteOr(r.loss, false);
    series.push({ label: 'loss (sampled step)', values: stepLoss, color: PALETTE[0] });
    const lossKeys = [...new Set(epochs.flatMap((e) => Object.keys(e.logs)))].filter((k) => /loss/.test(k));
    lossKeys.forEach((k, i) => {
      const v = new Array<number | null>(u.x.length).fill(null);
      for (const e of epochs) if (u.at.has(e.step)) v[u.at.get(e.step)!] = finiteOr(e.logs[k], false);
      series.push({ label: `${k} (epoch)`, values: v, color: PALETTE[(i + 1) % PALETTE.length], points: true });
    });
    add({ id: 'loss', x: u.x, xLabel: 'step', yLabel: 'loss', log: false, series: series.filter(hasValue) });
  }

  {
    const accKeys = [...new Set(epochs.flatMap((e) => Object.keys(e.logs)))].filter((k) => /acc/.test(k));
    const ex = epochs.map((e) => e.epoch);
    add({
      id: 'accuracy',
      x: ex,
      xLabel: 'epoch',
      yLabel: 'accuracy',
      log: false,
      series: accKeys.map((k, i) => ({ label: k, values: epochs.map((e) => finiteOr(e.logs[k], false)), color: PALETTE[(i + 2) % PALETTE.length], points: true })).filter(hasValue),
    });
  }

  const paramNames = [...new Set(steps.flatMap((r) => Object.keys(r.params)))];
  add({ id: 'update-ratio', x, xLabel: 'step', yLabel: '‖Δp‖ / ‖p‖', log: true, series: lineSeries(paramNames, (n, r) => r.params[n]?.updateRatio, steps, true) });
  return out;
}

/** Bin centres and counts of a histogram (a degenerate one, all values equal, is one bar). */
function histFrame(h: Histogram | undefined): { x: number[]; y: number[] } {
  if (h === undefined) return { x: [], y: [] };
  const bins = h.counts.length;
  const w = h.hi > h.lo ? (h.hi - h.lo) / bins : 1 / bins;
  return { x: h.counts.map((_c, i) => h.lo + (i + 0.5) * w), y: [...h.counts] };
}

function histograms(steps: readonly MonitorRecord[], maxFrames: number): { frameSteps: number[]; specs: HistogramSpec[] } {
  const withHist = steps.filter((r) => Object.values(r.layers).some((l) => l.hist !== undefined));
  let picked = withHist;
  if (withHist.length > maxFrames) {
    const idx = new Set<number>();
    for (let i = 0; i < maxFrames; i++) idx.add(Math.round((i * (withHist.length - 1)) / (maxFrames - 1)));
    picked = [...idx].sort((a, b) => a - b).map((i) => withHist[i]);
  }
  const names = layerNames(picked, (l) => l.hist !== undefined);
  const specs = names.map((layer, i) => ({ id: `hist-${i}`, layer: moduleLabel(picked, layer), frames: picked.map((r) => histFrame(r.layers[layer]?.hist)) }));
  return { frameSteps: picked.map((r) => r.step), specs };
}

const CHART_TEXT: Record<string, { title: string; note: string; empty: string }> = {
  'layer-grad': {
    title: 'Gradient norm per layer',
    note: 'L2 norm of each layer’s parameter gradients on sampled steps (log scale). Lines that climb steadily point to exploding gradients; lines far below the others, to vanishing ones. A zero or non-finite norm leaves a gap.',
    empty: 'No layer reported a gradient norm.',
  },
  'global-norm': {
    title: 'Global gradient norm',
    note: 'The norm of all gradients together, before and after clipping (log scale), with the clipping threshold when the log gives one.',
    empty: 'No finite global gradient norm was recorded.',
  },
  'clip-rate': {
    title: 'Clip rate',
    note: 'Share of steps whose gradients were clipped: a rolling mean over sampled steps, and the exact share of every epoch.',
    empty: 'The optimizer reported no clipping (no clipping transform, or none that reports).',
  },
  loss: { title: 'Loss', note: 'The training loss on sampled steps, and the mean loss of each epoch.', empty: 'No loss was logged.' },
  accuracy: { title: 'Accuracy', note: 'Accuracy of each epoch (training, and validation when there is any).', empty: 'No accuracy was logged (compile with metrics: [\'accuracy\'] and log epochs).' },
  'update-ratio': {
    title: 'Update ratio per parameter',
    note: 'How far each step moved a parameter relative to its size, ‖Δp‖/‖p‖ (log scale). Around 1e-3 is typical; far above suggests a learning rate too high.',
    empty: 'No update ratio was recorded.',
  },
};

function section(id: string, spec: ChartSpec | undefined): string {
  const t = CHART_TEXT[id];
  const body = spec === undefined ? `<p class="empty">${escapeHtml(t.empty)}</p>` : `<div class="plot" data-chart="${escapeHtml(id)}"></div>`;
  return `<section class="card" id="${escapeHtml(id)}"><h2>${escapeHtml(t.title)}</h2><p class="note">${escapeHtml(t.note)}</p>${body}</section>`;
}

function findingsHtml(log: RunLog): string {
  if (log.findings.length === 0) return '<p class="ok">No problems found by the detectors.</p>';
  const items = log.findings.map((f) => {
    const at = Number.isFinite(f.step) ? `step ${f.step}` : '';
    const seen = f.count > 1 ? `seen ${f.count}×` : '';
    const clip = f.suggestedClipnorm !== undefined ? `<span class="tag">suggested clipnorm ${escapeHtml(fmtNum(f.suggestedClipnorm))}</span>` : '';
    return (
      `<li class="finding"><span class="kind kind-${escapeHtml(f.kind)}">${escapeHtml(f.kind)}</span> <span class="layer">${escapeHtml(f.layer)}</span>` +
      ` <span class="where">${escapeHtml([at, seen].filter((s) => s !== '').join(', '))}</span>${clip}<div class="message">${escapeHtml(f.message)}</div></li>`
    );
  });
  return `<ul class="findings">${items.join('')}</ul>`;
}

function layerTable(steps: readonly MonitorRecord[]): string {
  const last = steps[steps.length - 1];
  if (last === undefined) return '';
  const cell = (x: number | null | undefined, pct = false): string =>
    `<td>${x === null || x === undefined ? '—' : escapeHtml(pct ? `${Math.round(x * 100)}%` : fmtNum(x))}</td>`;
  const rows = Object.entries(last.layers).map(
    ([name, l]) =>
      `<tr><td class="name">${escapeHtml(name)}</td><td>${escapeHtml(String(l.type))}</td><td>${escapeHtml(l.activation ?? '')}${l.after ? ` after ${escapeHtml(l.after)}` : ''}</td>` +
      `${cell(l.gradNorm)}${cell(l.mean)}${cell(l.std)}${cell(l.dead ?? l.saturated, true)}</tr>`,
  );
  return (
    `<section class="card wide" id="layers"><h2>Layers at step ${last.step}</h2><table><thead><tr><th>module</th><th>type</th><th>activation</th>` +
    `<th>grad norm</th><th>output mean</th><th>output std</th><th>dead / saturated</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`
  );
}

function summaryLine(log: RunLog): string {
  const { steps, epochs, header } = log;
  const parts: string[] = [];
  if (steps.length > 0) parts.push(`${steps.length} sampled steps${header ? ` (every ${header.every})` : ''}, last at step ${steps[steps.length - 1].step}`);
  if (epochs.length > 0) parts.push(`${epochs.length} epoch${epochs.length === 1 ? '' : 's'}`);
  if (header?.clipThreshold !== undefined) parts.push(`clipping threshold ${fmtNum(header.clipThreshold)}`);
  const clipped = steps.filter((r) => r.clipped !== null);
  if (clipped.length > 0) parts.push(`clipped on ${Math.round((100 * clipped.filter((r) => r.clipped).length) / clipped.length)}% of sampled steps`);
  const bad = steps.filter((r) => !Number.isFinite(r.gradNorm) || (r.loss !== undefined && !Number.isFinite(r.loss))).map((r) => r.step);
  if (bad.length > 0) parts.push(`non-finite loss or gradients at step${bad.length > 1 ? 's' : ''} ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', …' : ''}`);
  parts.push(`${log.findings.length} finding${log.findings.length === 1 ? '' : 's'}`);
  return parts.join(' · ');
}

/**
 * Renders a parsed run log as one self-contained HTML page: per-layer gradient norms over steps
 * (log scale), the global norm before and after clipping with the threshold, the clip rate, loss
 * and accuracy, per-parameter update ratios, per-layer output histograms (with a slider over the
 * sampled steps), a table of the layers, and the detectors' findings with their suggestions.
 * Charts whose data the log lacks are replaced by a sentence saying so. Every name from the log
 * is escaped; the page makes no request (its Content Security Policy forbids any).
 */
export function htmlReport(log: RunLog, options: HtmlReportOptions): string {
  if (typeof options?.chartJs !== 'string' || options.chartJs === '')
    throw new ConfigError("htmlReport: options.chartJs must be uPlot's browser build (the text of uplot/dist/uPlot.iife.min.js)");
  const clipWindow = options.clipWindow ?? 10;
  if (!Number.isInteger(clipWindow) || clipWindow < 1) throw new ConfigError(`htmlReport: clipWindow must be a positive integer (got ${clipWindow})`);
  const maxFrames = options.maxHistogramFrames ?? 200;
  if (!Number.isInteger(maxFrames) || maxFrames < 2) throw new ConfigError(`htmlReport: maxHistogramFrames must be an integer ≥ 2 (got ${maxFrames})`);
  const title = options.title ?? 'Keel training report';
  const specs = charts(log, clipWindow);
  const hist = histograms(log.steps, maxFrames);
  const info = Object.entries(log.header?.info ?? {});
  const data = { charts: Object.fromEntries(specs), histograms: hist.specs, histogramSteps: hist.frameSteps };
  const histSection =
    hist.specs.length === 0
      ? `<section class="card wide" id="histograms"><h2>Output histograms</h2><p class="empty">No histograms were recorded (histogramBins 0, or a log without them).</p></section>`
      : `<section class="card wide" id="histograms"><h2>Output histograms per layer</h2><p class="note">Values of each module’s output on one sampled step (counts per bin over the batch). A spike at 0 after a ReLU is the share of inactive units; mass piled at ±1 after tanh is saturation.</p>` +
        `<label class="slider">step <input type="range" id="hist-step" min="0" max="${hist.frameSteps.length - 1}" value="${hist.frameSteps.length - 1}" step="1"> <output id="hist-step-value">${hist.frameSteps[hist.frameSteps.length - 1]}</output></label>` +
        `<div class="hist-grid">${hist.specs.map((h) => `<div class="hist"><h3>${escapeHtml(h.layer)}</h3><div class="plot" data-hist="${escapeHtml(h.id)}"></div></div>`).join('')}</div></section>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${options.chartCss.replace(/<\/style/gi, '<\\/style')}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
${options.source !== undefined ? `<p class="source">${escapeHtml(options.source)}</p>` : ''}
<p class="summary">${escapeHtml(summaryLine(log))}</p>
${info.length > 0 ? `<dl class="info">${info.map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(String(v))}</dd></div>`).join('')}</dl>` : ''}
</header>
<main>
<section class="card wide" id="findings"><h2>Findings</h2>${findingsHtml(log)}</section>
${['layer-grad', 'global-norm', 'clip-rate', 'loss', 'accuracy', 'update-ratio'].map((id) => section(id, specs.get(id))).join('\n')}
${histSection}
${layerTable(log.steps)}
</main>
<footer>Made by keel report. Charts drawn with uPlot (MIT License, © Leon Sorokin).</footer>
<script type="application/json" id="keel-data">${scriptJson(data)}</script>
<script>${options.chartJs.replace(/<\/script/gi, '<\\/script')}</script>
<script>${PAGE_JS}</script>
</body>
</html>
`;
}

const PAGE_CSS = `
:root { color-scheme: light; --fg: #1d2330; --muted: #5b6475; --line: #dde2ea; --bg: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 20px 28px 8px; }
h1 { margin: 0 0 4px; font-size: 22px; }
h2 { margin: 0 0 4px; font-size: 16px; }
h3 { margin: 0 0 2px; font-size: 13px; font-family: ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
.source { margin: 0; color: var(--muted); font-family: ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
.summary { margin: 6px 0; }
dl.info { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 6px 0 0; }
dl.info div { display: flex; gap: 6px; }
dt { color: var(--muted); }
dd { margin: 0; font-weight: 600; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; padding: 12px 28px 28px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; min-width: 0; }
.wide { grid-column: 1 / -1; }
.note { margin: 0 0 8px; color: var(--muted); font-size: 13px; }
.empty { color: var(--muted); font-style: italic; }
.ok { color: #1a7f37; font-weight: 600; }
.findings { list-style: none; margin: 0; padding: 0; }
.finding { padding: 8px 0; border-top: 1px solid var(--line); }
.finding:first-child { border-top: 0; }
.kind { display: inline-block; padding: 1px 8px; border-radius: 10px; background: #fde8e8; color: #9b1c1c; font-weight: 600; font-size: 12px; }
.kind-clipRate, .kind-deadRelu, .kind-saturation { background: #fdf3d8; color: #8a5a00; }
.layer { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-weight: 600; overflow-wrap: anywhere; }
.where { color: var(--muted); }
.tag { margin-left: 8px; padding: 1px 6px; border-radius: 4px; background: #e8f0fe; color: #1f4fbf; font-size: 12px; }
.message { margin-top: 3px; overflow-wrap: anywhere; }
.hist-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; }
.slider { display: inline-flex; align-items: center; gap: 8px; margin-bottom: 8px; }
.slider input { width: 260px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: right; padding: 4px 8px; border-bottom: 1px solid var(--line); }
th:nth-child(-n+3), td:nth-child(-n+3) { text-align: left; }
td.name { font-family: ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
footer { padding: 0 28px 24px; color: var(--muted); font-size: 12px; }
.plot { width: 100%; min-height: 40px; }
.u-legend { font-size: 12px; }
`;

/** The page's script: draws the charts of the embedded JSON with uPlot. Plain ES2020, no globals but `uPlot`. */
const PAGE_JS = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('keel-data').textContent);
  var plots = [];
  function widthOf(el) { return Math.max(260, Math.floor(el.getBoundingClientRect().width) || 600); }
  function tick(v) {
    if (v == null) return '';
    var a = Math.abs(v);
    return a === 0 ? '0' : a >= 1e-3 && a < 1e5 ? String(+v.toPrecision(3)) : v.toExponential(1);
  }
  function axes(xLabel, yLabel) {
    var common = { stroke: '#5b6475', grid: { stroke: '#eceff4', width: 1 }, ticks: { stroke: '#dde2ea', width: 1 } };
    return [
      Object.assign({ label: xLabel, labelSize: 20, values: function (u, vs) { return vs.map(tick); } }, common),
      Object.assign({ label: yLabel, labelSize: 20, size: 64, values: function (u, vs) { return vs.map(tick); } }, common),
    ];
  }
  function count(values) { var n = 0; for (var i = 0; i < values.length; i++) if (values[i] != null) n++; return n; }
  function drawChart(el, spec) {
    var y = spec.log ? { distr: 3, log: 10 } : spec.range ? { range: spec.range } : {};
    var series = [{ label: spec.xLabel, value: function (u, v) { return tick(v); } }].concat(spec.series.map(function (s) {
      return {
        label: s.label,
        stroke: s.color,
        width: 1.5,
        dash: s.dash ? [6, 4] : undefined,
        spanGaps: true,
        points: { show: s.points ? true : undefined, size: 6, fill: s.color },
        value: function (u, v) { return tick(v); },
      };
    }));
    var opts = { width: widthOf(el), height: 260, scales: { x: { time: false }, y: y }, axes: axes(spec.xLabel, spec.yLabel), series: series, legend: { live: true } };
    var u = new uPlot(opts, [spec.x].concat(spec.series.map(function (s) { return s.values; })), el);
    el.setAttribute('data-points', String(spec.series.reduce(function (a, s) { return a + count(s.values); }, 0)));
    plots.push({ el: el, u: u });
  }
  function drawHistogram(el, spec, frame) {
    var f = spec.frames[frame];
    var opts = {
      width: widthOf(el), height: 180,
      scales: { x: { time: false }, y: { range: function (u, min, max) { return [0, Math.max(1, max) * 1.05]; } } },
      axes: axes('value', 'count'),
      legend: { show: false },
      series: [{}, { label: 'count', stroke: '#1f77b4', fill: 'rgba(31,119,180,0.45)', width: 1, paths: uPlot.paths.bars({ size: [0.92, Infinity] }), points: { show: false } }],
    };
    var u = new uPlot(opts, [f.x, f.y], el);
    el.setAttribute('data-points', String(f.y.length));
    plots.push({ el: el, u: u, hist: spec });
    return u;
  }
  document.querySelectorAll('[data-chart]').forEach(function (el) { drawChart(el, data.charts[el.getAttribute('data-chart')]); });
  var hists = {};
  data.histograms.forEach(function (h) { hists[h.id] = h; });
  var last = data.histogramSteps.length - 1;
  document.querySelectorAll('[data-hist]').forEach(function (el) { drawHistogram(el, hists[el.getAttribute('data-hist')], last); });
  var slider = document.getElementById('hist-step');
  if (slider) {
    slider.addEventListener('input', function () {
      var i = Number(slider.value);
      document.getElementById('hist-step-value').textContent = String(data.histogramSteps[i]);
      plots.forEach(function (p) {
        if (!p.hist) return;
        var f = p.hist.frames[i];
        p.u.setData([f.x, f.y]);
        p.el.setAttribute('data-points', String(f.y.length));
      });
    });
  }
  var pending = 0;
  window.addEventListener('resize', function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () { plots.forEach(function (p) { p.u.setSize({ width: widthOf(p.el), height: p.u.height }); }); });
  });
  document.body.setAttribute('data-ready', 'true');
})();
`;
