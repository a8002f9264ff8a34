import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { report } from '../src/cli/report.js';
import { htmlReport } from '../src/diagnostics/html-report.js';
import { GradientMonitor } from '../src/diagnostics/monitor.js';
import { type MonitorRecord, detect } from '../src/diagnostics/report.js';
import { parseRunLog } from '../src/diagnostics/run-log.js';
import { Generator, SGD, type Tensor, init, mul, nn, noGrad, randn, tidy } from '../src/index.js';
import { mse } from '../src/nn/losses.js';

const require = createRequire(import.meta.url);
const uplotJs = require.resolve('uplot/dist/uPlot.iife.min.js');
const chart = { chartJs: readFileSync(uplotJs, 'utf8'), chartCss: readFileSync(uplotJs.replace('uPlot.iife.min.js', 'uPlot.min.css'), 'utf8') };

/** The layer name a user could give a module: it must reach the page as text, never as markup. */
const EVIL = '</script><img src=x onerror="alert(1)">&';

class Net extends nn.Module {
  constructor() {
    super();
    const first = new nn.Linear(8, 16);
    init.kaimingNormal_(first.weight, { nonlinearity: 'relu', seed: 1 });
    (this as unknown as Record<string, nn.Module>)[EVIL] = first;
    (this as unknown as Record<string, nn.Module>).act = new nn.ReLU();
    (this as unknown as Record<string, nn.Module>).head = new nn.Linear(16, 2);
  }
  forward(x: Tensor): Tensor {
    const m = this as unknown as Record<string, nn.Module>;
    return m.head.call(m.act.call(m[EVIL].call(x)) as Tensor) as Tensor;
  }
}

/** Trains a small net with clipping, streaming the run log into `lines`; two "epochs" of 6 steps. */
function run(options?: { clip?: boolean }): { monitor: GradientMonitor; lines: string[] } {
  const model = new Net();
  const g = new Generator(3);
  const x = mul(randn([16, 8], { generator: g }), 10);
  const y = randn([16, 2], { generator: g });
  const opt = new SGD(model.parameters(), { lr: 0.001, ...(options?.clip === false ? {} : { globalClipnorm: 0.5 }) });
  const lines: string[] = [];
  const monitor = new GradientMonitor({ every: 2, logSink: (l) => lines.push(l), clipThreshold: options?.clip === false ? undefined : 0.5, runInfo: { name: EVIL } });
  monitor.attach(model, { optimizer: opt });
  for (let epoch = 1; epoch <= 2; epoch++) {
    for (let s = 0; s < 6; s++)
      tidy(() => {
        opt.zeroGrad();
        const loss = mse(model.call(x) as Tensor, y);
        loss.backward();
        opt.step();
        monitor.step(loss.item());
      });
    monitor.logEpoch(epoch, { loss: 1 / epoch, accuracy: 0.5 + epoch / 10 });
  }
  monitor.detach();
  return { monitor, lines };
}

/** The JSON the page embeds for its script. */
function embedded(html: string): { charts: Record<string, { x: number[]; series: { label: string; values: (number | null)[] }[] }>; histograms: { layer: string; frames: { x: number[]; y: number[] }[] }[]; histogramSteps: number[] } {
  const m = /<script type="application\/json" id="keel-data">([^<]*)<\/script>/.exec(html);
  if (m === null) throw new Error('no embedded data');
  return JSON.parse(m[1]);
}

const roundTrip = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('run log', () => {
  it('streams a header, one line per sampled step as it is recorded, the epochs and the findings; parses back to the same records', () => {
    const model = new nn.Sequential(new nn.Linear(4, 3));
    const lines: string[] = [];
    const monitor = new GradientMonitor({ every: 3, logSink: (l) => lines.push(l) });
    monitor.attach(model);
    expect(lines).toHaveLength(1); // the header, on attach
    const x = randn([5, 4], { generator: new Generator(1) });
    for (let s = 0; s < 4; s++)
      tidy(() => {
        (model.call(x) as Tensor).sum().backward();
        monitor.step();
        expect(lines).toHaveLength(s < 3 ? 2 : 3); // steps 0 and 3 are written as soon as they are recorded
      });
    monitor.detach();
    expect(lines.map((l) => (JSON.parse(l) as { type: string }).type)).toEqual(['run', 'step', 'step', 'findings']);
    const log = parseRunLog(lines.join('\n'));
    expect(log.header).toMatchObject({ type: 'run', format: 'keel-run/1', every: 3 });
    expect(log.steps).toEqual(roundTrip(monitor.records));
    expect(log.findings).toEqual(monitor.findings());
  });

  it('reads toJSONL output and MetricsLogger lines (no type), restores NaN/Infinity, and runs the detectors when the findings line is missing', () => {
    const { monitor } = run();
    const recs = monitor.records.map((r, i) => (i === 3 ? { ...r, gradNorm: Number.NaN } : r));
    const withNaN = Object.assign(new GradientMonitor(), { records: recs }) as GradientMonitor;
    const text = withNaN.toJSONL() + '{"epoch":1,"loss":0.5,"accuracy":0.75}\n';
    const log = parseRunLog(text, 'mixed.jsonl');
    expect(log.header).toBeNull();
    expect(log.steps).toHaveLength(recs.length);
    expect(Number.isNaN(log.steps[3].gradNorm)).toBe(true);
    expect(log.epochs).toEqual([{ epoch: 1, step: Number.NaN, logs: { loss: 0.5, accuracy: 0.75 } }]);
    expect(log.findings).toEqual(detect(log.steps));
    expect(log.findings.some((f) => f.kind === 'exploding')).toBe(true); // the NaN norm
  });

  it('names the file and line of a bad line, and refuses an empty log', () => {
    const good = run().lines;
    const bad = [...good.slice(0, 2), '{"type":"step",', ...good.slice(2)].join('\n');
    expect(() => parseRunLog(bad, 'run.jsonl')).toThrow(/^parseRunLog: run\.jsonl:3: not JSON \(.+\); each line of a run log is one JSON object$/);
    expect(() => parseRunLog('\n[1, 2]\n', 'a.jsonl')).toThrow('parseRunLog: a.jsonl:2: expected a JSON object, got an array');
    expect(() => parseRunLog('{"type":"step","step":"x","gradNorm":1}', 'b.jsonl')).toThrow('parseRunLog: b.jsonl:1: "step" must be a number (got "x")');
    expect(() => parseRunLog('{"type":"run"}', 'c.jsonl')).toThrow('parseRunLog: c.jsonl:1: "every" must be a number (got nothing)');
    expect(() => parseRunLog('{"hello":1}', 'd.jsonl')).toThrow(/^parseRunLog: d\.jsonl:1: a line without "type" must be a step/);
    expect(() => parseRunLog('', 'e.jsonl')).toThrow(/^parseRunLog: e\.jsonl has no sampled steps and no epochs \(the file is empty\)/);
    expect(() => parseRunLog(good[0], 'f.jsonl')).toThrow(/^parseRunLog: f\.jsonl has no sampled steps and no epochs; write one/);
  });
});

describe('htmlReport', () => {
  it('embeds the gradient norms, clipping, loss, accuracy and histograms of the log', () => {
    const { monitor, lines } = run();
    const log = parseRunLog(lines.join('\n'));
    const html = htmlReport(log, chart);
    const data = embedded(html);
    const recs = monitor.records;
    const layerGrad = data.charts['layer-grad'];
    expect(layerGrad.x).toEqual(recs.map((r) => r.step));
    expect(layerGrad.series.map((s) => s.label)).toEqual([`${EVIL} (Linear)`, 'head (Linear)']);
    expect(layerGrad.series[1].values).toEqual(recs.map((r) => r.layers.head.gradNorm));
    const global = data.charts['global-norm'].series;
    expect(global.map((s) => s.label)).toEqual(['before clipping', 'after clipping', 'threshold 0.500']);
    expect(global[0].values).toEqual(recs.map((r) => r.gradNorm));
    expect(global[1].values).toEqual(recs.map((r) => r.gradNormAfter));
    // Rolling clip rate over the sampled steps (here every sample is clipped: ×10 inputs, threshold 0.5).
    expect(recs.every((r) => r.clipped === true)).toBe(true);
    expect(data.charts['clip-rate'].series[0].values.filter((v) => v !== null)).toEqual(recs.map(() => 1));
    const loss = data.charts.loss;
    expect(loss.series[0].values.filter((v) => v !== null)).toEqual(recs.map((r) => r.loss));
    expect(loss.series[1]).toMatchObject({ label: 'loss (epoch)' });
    expect(loss.x[loss.series[1].values.indexOf(1)]).toBe(6); // epoch 1 ended after 6 steps
    expect(data.charts.accuracy.series[0].values).toEqual([0.6, 0.7]);
    expect(data.charts['update-ratio'].series.map((s) => s.label)).toEqual(Object.keys(recs[0].params));
    const last = recs[recs.length - 1];
    expect(data.histogramSteps).toEqual(recs.map((r) => r.step));
    expect(data.histograms.map((h) => h.layer)).toEqual([`${EVIL} (Linear)`, `act (ReLU after ${EVIL})`, 'head (Linear)']);
    expect(data.histograms[2].frames.at(-1)!.y).toEqual(last.layers.head.hist!.counts);
    expect(html).toContain('uPlot');
    expect(html).toContain('clipRate</span>'); // the finding, as a list item
  });

  it('escapes a malicious layer name everywhere and loads nothing from outside', () => {
    const { lines } = run();
    const html = htmlReport(parseRunLog(lines.join('\n')), chart);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('onerror="');
    expect(html.split('</script>')).toHaveLength(4); // data, uPlot, page script: nothing closes a script early
    expect(html).toContain('&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;'); // in the layer table and run info
    expect(embedded(html).histograms[0].layer).toBe(`${EVIL} (Linear)`); // the JSON gives the exact name back
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=["']?(https?:)?\/\//i);
  });

  it('leaves out the charts whose series are missing and says so (no clipping, no loss, no epochs, no histograms)', () => {
    const { monitor } = run({ clip: false });
    const bare: MonitorRecord[] = monitor.records.map((r) => {
      const { loss: _loss, ...rest } = r;
      return { ...rest, layers: Object.fromEntries(Object.entries(r.layers).map(([k, l]) => [k, { ...l, hist: undefined }])) };
    });
    const log = { header: null, steps: bare, epochs: [], findings: [] };
    const html = htmlReport(log, chart);
    const data = embedded(html);
    expect(Object.keys(data.charts).sort()).toEqual(['global-norm', 'layer-grad', 'update-ratio']);
    expect(data.charts['global-norm'].series.map((s) => s.label)).toEqual(['before clipping']);
    expect(data.histograms).toEqual([]);
    expect(html).toContain('The optimizer reported no clipping');
    expect(html).toContain('No loss was logged.');
    expect(html).toContain('No accuracy was logged');
    expect(html).toContain('No histograms were recorded');
    expect(html).toContain('No problems found by the detectors.');
    expect(() => htmlReport(log, { chartJs: '', chartCss: '' })).toThrow(/htmlReport: options.chartJs must be uPlot's browser build/);
  });
});

describe('keel report', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'keel-report-'));
  const sink = (): { write: (s: string) => void; text: () => string; isTTY: boolean } => {
    let out = '';
    return { write: (s: string) => void (out += s), text: () => out, isTTY: false };
  };

  it('writes the page next to the log or where -o says', () => {
    const file = path.join(dir, 'run.jsonl');
    writeFileSync(file, run().lines.join('\n') + '\n');
    const out = sink();
    expect(report([file, '-o', path.join(dir, 'page.html')], out)).toBe(0);
    expect(out.text()).toMatch(/^keel report: wrote .*page\.html \(\d+ KiB\): 6 sampled steps, 3 modules, 2 epochs, 1 finding\n$/);
    expect(readFileSync(path.join(dir, 'page.html'), 'utf8')).toMatch(/^<!DOCTYPE html>/);
    expect(report([file, '--title', 'My run'], sink())).toBe(0);
    expect(readFileSync(path.join(dir, 'run.html'), 'utf8')).toContain('<title>My run</title>');
    const help = sink();
    expect(report(['--help'], help)).toBe(0);
    expect(help.text()).toMatch(/^Usage: keel report <run\.jsonl> \[-o report\.html\]/);
    expect(report([], sink())).toBe(1);
  });

  it('explains a missing file, an empty log and a bad line', () => {
    const missing = path.join(dir, 'nope.jsonl');
    expect(() => report([missing], sink())).toThrow(`keel report: run log ${missing} does not exist (write one with keel train --monitor FILE)`);
    const empty = path.join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    expect(() => report([empty], sink())).toThrow(`keel report: ${empty} has no sampled steps and no epochs (the file is empty)`);
    const bad = path.join(dir, 'bad.jsonl');
    writeFileSync(bad, `${run().lines[0]}\nnot json\n`);
    expect(() => report([bad], sink())).toThrow(new RegExp(`^keel report: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: not JSON`));
    expect(() => report([bad, 'other.jsonl'], sink())).toThrow(/one run log at a time/);
    expect(() => report([bad, '-o', bad], sink())).toThrow(/would overwrite the run log/);
  });
});

describe('GradientMonitor: histograms, evaluation forwards, the log file', () => {
  it('count every output value in equal bins between its min and max', () => {
    const lin = new nn.Linear(6, 5);
    const model = new nn.Sequential(lin, new nn.Tanh());
    const monitor = new GradientMonitor({ every: 1, histogramBins: 7 });
    monitor.attach(model);
    const x = randn([9, 6], { generator: new Generator(4) });
    tidy(() => {
      model.call(x);
      monitor.step();
    });
    const v = Array.from(noGrad(() => lin.call(x) as Tensor).toTypedArray());
    const lo = Math.min(...v);
    const hi = Math.max(...v);
    const expected = new Array<number>(7).fill(0);
    for (const a of v) expected[Math.min(6, Math.floor(((a - lo) / (hi - lo)) * 7))]++;
    expect(monitor.records[0].layers['0'].hist).toEqual({ lo, hi, counts: expected });
    expect(monitor.records[0].layers['1'].hist!.counts.reduce((a, b) => a + b)).toBe(45);
    const none = new GradientMonitor({ every: 1, histogramBins: 0 });
    none.attach(model);
    tidy(() => {
      model.call(x);
      none.step();
    });
    expect(none.records[0].layers['0'].hist).toBeUndefined();
    expect(() => new GradientMonitor({ histogramBins: 2.5 })).toThrow('GradientMonitor: histogramBins must be an integer ≥ 0 (got 2.5); 0 records no histograms');
    expect(() => new GradientMonitor({ logFile: 'a', logSink: () => {} })).toThrow('GradientMonitor: give logFile or logSink, not both');
  });

  it('ignores forwards under noGrad (evaluation between training steps)', () => {
    const lin = new nn.Linear(4, 3);
    const model = new nn.Sequential(lin);
    const monitor = new GradientMonitor({ every: 1 });
    monitor.attach(model);
    const g = new Generator(6);
    const xEval = mul(randn([8, 4], { generator: g }), 100);
    const xTrain = randn([8, 4], { generator: g });
    tidy(() => {
      noGrad(() => model.call(xEval));
      (model.call(xTrain) as Tensor).sum().backward();
      monitor.step();
    });
    const out = Array.from(noGrad(() => lin.call(xTrain) as Tensor).toTypedArray());
    expect(monitor.records[0].layers['0'].mean).toBeCloseTo(out.reduce((a, b) => a + b, 0) / out.length, 5);
  });

  it('logFile creates the file on attach and appends each line as it goes', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'keel-monitor-'));
    const file = path.join(dir, 'run.jsonl');
    writeFileSync(file, 'old content\n');
    const model = new nn.Sequential(new nn.Linear(3, 2));
    const monitor = new GradientMonitor({ every: 1, logFile: file });
    monitor.attach(model);
    expect(readFileSync(file, 'utf8').split('\n')).toHaveLength(2); // the header and the final newline
    tidy(() => {
      (model.call(randn([2, 3], { generator: new Generator(5) })) as Tensor).sum().backward();
      monitor.step(0.25);
    });
    expect(parseRunLog(readFileSync(file, 'utf8'), file).steps.map((r) => r.loss)).toEqual([0.25]);
    monitor.logEpoch(1, { loss: 0.25 });
    monitor.detach();
    const log = parseRunLog(readFileSync(file, 'utf8'), file);
    expect(log.epochs).toEqual([{ epoch: 1, step: 1, logs: { loss: 0.25 } }]);
    expect(readFileSync(file, 'utf8')).not.toContain('old content');
  });
});
