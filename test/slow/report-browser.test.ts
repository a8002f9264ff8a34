import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'dist/cli/keel.js');
/** Debian's chromium (apt-get install chromium; .ci/run installs it). Nothing is downloaded. */
const CHROMIUM = '/usr/bin/chromium';
const EVIL = '</script><img src=x onerror="alert(1)">';

async function keel(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
  return stdout;
}

/** What a page did wrong: console errors and warnings, uncaught errors, dialogs, requests that left the file. */
interface PageTrouble {
  problems: string[];
}

/** Per drawn chart: its container, the points its data has, and how many canvas pixels carry a series colour. */
interface Drawn {
  id: string;
  points: number;
  canvases: number;
  width: number;
  height: number;
  coloured: number;
}

async function open(browser: Browser, file: string): Promise<{ page: import('playwright-core').Page } & PageTrouble> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    problems.push(`request to ${url}`);
    return route.abort();
  });
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  await page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
  return { page, problems };
}

/** Reads back every chart's canvas: a pixel counts when its colour is saturated (series colours; axes, grid and text are grey). */
function drawn(page: import('playwright-core').Page): Promise<Drawn[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>('.plot')).map((el) => {
      const canvases = Array.from(el.querySelectorAll('canvas'));
      let coloured = 0;
      for (const c of canvases) {
        // Read through a copy, so that the chart's own canvas is never read back (Chrome warns on repeated readbacks).
        const copy = document.createElement('canvas');
        copy.width = c.width;
        copy.height = c.height;
        const ctx = copy.getContext('2d', { willReadFrequently: true })!;
        ctx.drawImage(c, 0, 0);
        const px = ctx.getImageData(0, 0, c.width, c.height).data;
        for (let i = 0; i < px.length; i += 4) {
          const [r, g, b, a] = [px[i], px[i + 1], px[i + 2], px[i + 3]];
          if (a > 40 && Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
        }
      }
      return {
        id: el.getAttribute('data-chart') ?? el.getAttribute('data-hist') ?? '?',
        points: Number(el.getAttribute('data-points') ?? 0),
        canvases: canvases.length,
        width: canvases[0]?.width ?? 0,
        height: canvases[0]?.height ?? 0,
        coloured,
      };
    }),
  );
}

describe('keel report in headless Chromium', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'keel-report-'));
  const log = path.join(dir, 'run.jsonl');
  let browser: Browser | null = null;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: .ci/run installs it with apt-get install chromium`);
      console.warn(`${CHROMIUM} is missing here; skipping the browser checks (CI installs it)`);
      return;
    }
    // Two epochs of the main job: 500 steps, sampled every 10, with clipping that bites.
    await keel(['train', '--epochs', '2', '--quiet', '--monitor', log]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-dev-shm-usage'],
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('draws every chart of a keel train --monitor run with no console error, and writes a screenshot', async () => {
    if (browser === null) return;
    const html = path.join(dir, 'report.html');
    const out = await keel(['report', log, '-o', html]);
    expect(out).toMatch(/^keel report: wrote .*report\.html \(\d+ KiB\): 50 sampled steps, 3 modules, 2 epochs, \d+ findings?\n$/);
    const { page, problems } = await open(browser, html);
    const charts = await drawn(page);
    expect(charts.map((c) => c.id)).toEqual(['layer-grad', 'global-norm', 'clip-rate', 'loss', 'accuracy', 'update-ratio', 'hist-0', 'hist-1', 'hist-2']);
    for (const c of charts) {
      expect(c.canvases, c.id).toBe(1);
      expect(c.width, c.id).toBeGreaterThan(200);
      expect(c.points, c.id).toBeGreaterThan(0);
      expect(c.coloured, `${c.id}: pixels in a series colour`).toBeGreaterThan(30);
    }
    const legend = await page.locator('#layer-grad .u-legend').innerText();
    expect(legend).toContain('0 (Linear)');
    expect(legend).toContain('2 (Linear)');
    expect(await page.locator('#global-norm .u-legend').innerText()).toContain('threshold 1.00');
    expect(await page.locator('#findings').innerText()).toMatch(/clipRate/);
    // The slider redraws the histograms at another sampled step.
    await page.locator('#hist-step').fill('0');
    expect(await page.locator('#hist-step-value').innerText()).toBe('0');
    for (const c of (await drawn(page)).filter((d) => d.id.startsWith('hist-'))) expect(c.coloured, c.id).toBeGreaterThan(30);
    const shot = path.join(dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    const stable = path.join(tmpdir(), 'keel-report.png');
    copyFileSync(shot, stable);
    console.log(`screenshot: ${shot} (copied to ${stable})`);
    expect(readFileSync(shot).length).toBeGreaterThan(10_000);
    expect(problems).toEqual([]);
  });

  it('shows a malicious layer name as text, and works with clipping, loss, epochs and histograms absent', async () => {
    if (browser === null) return;
    // The same run with layer "0" renamed and every optional series stripped.
    const lines = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((r) => r.type === 'step')
      .map((r) => {
        const layers = r.layers as Record<string, Record<string, unknown>>;
        const renamed: Record<string, unknown> = {};
        for (const [k, l] of Object.entries(layers)) renamed[k === '0' ? EVIL : k] = { ...l, hist: undefined, after: l.after === '0' ? EVIL : l.after };
        return JSON.stringify({ ...r, layers: renamed, loss: undefined, clipped: null, gradNormAfter: null });
      });
    const bare = path.join(dir, 'bare.jsonl');
    writeFileSync(bare, `${lines.join('\n')}\n`);
    const html = path.join(dir, 'bare.html');
    await keel(['report', bare, '-o', html]);
    const { page, problems } = await open(browser, html);
    const charts = await drawn(page);
    expect(charts.map((c) => c.id)).toEqual(['layer-grad', 'global-norm', 'update-ratio']);
    for (const c of charts) expect(c.coloured, c.id).toBeGreaterThan(30);
    expect(await page.locator('#layer-grad .u-legend').innerText()).toContain(`${EVIL} (Linear)`);
    expect(await page.locator('#layers').innerText()).toContain(EVIL);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('#clip-rate').innerText()).toContain('The optimizer reported no clipping');
    expect(problems).toEqual([]);
  });
});
