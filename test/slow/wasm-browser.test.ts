import { readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The bundle `import "keel"` loads, in headless Chromium on a cross-origin-isolated page (shared
 * WebAssembly memory needs it): the wasm backend starts, loads the relaxed-SIMD build of its
 * kernels (Chromium has run relaxed SIMD by default since version 114), fuses matmul's
 * multiply-adds, and agrees with the js backend.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Debian's chromium (apt-get install chromium; .ci/run installs it). Nothing is downloaded. */
const CHROMIUM = '/usr/bin/chromium';

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"></head><body>
<script type="module">
try {
const K = await import('./keel.js');
const backends = K.listBackends();
const wasm = K.setBackend('wasm');
const x = 1 + 2 ** -12;
// (1 + 2⁻¹²)² − 1 rounds to 2⁻¹¹ when the product is rounded first, 2⁻¹¹ + 2⁻²⁴ when fused.
// The engine's own relaxed multiply-add on the same witness (unfused on a CPU without FMA).
const probe = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 125, 125, 125, 1, 125, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0,
  10, 22, 1, 20, 0, 32, 0, 253, 19, 32, 1, 253, 19, 32, 2, 253, 19, 253, 133, 2, 253, 31, 0, 11]);
const engine = new WebAssembly.Instance(new WebAssembly.Module(probe)).exports.f(x, x, -1);
const witness = K.matmul(K.tensor([[1, 0, 0, 0, x, 0, 0, 0]]), K.tensor([-1, 0, 0, 0, x, 0, 0, 0], [8, 1])).item();
const g = new K.Generator(3);
const a = K.randn([67, 300], { generator: g }).toTypedArray();
const b = K.randn([300, 45], { generator: g }).toTypedArray();
const onWasm = K.matmul(K.tensor(a, [67, 300]), K.tensor(b, [300, 45])).toTypedArray();
K.setBackend('js');
const onJs = K.matmul(K.tensor(a, [67, 300]), K.tensor(b, [300, 45])).toTypedArray();
let worst = 0;
for (let i = 0; i < onJs.length; i++) worst = Math.max(worst, Math.abs(onWasm[i] - onJs[i]));
document.body.dataset.result = JSON.stringify({ backends, relaxed: wasm.relaxedSimd, engine, witness, worst, isolated: crossOriginIsolated });
} catch (e) {
  document.body.dataset.result = JSON.stringify({ error: String(e) });
}
</script>
</body></html>`;

describe('the bundle in headless Chromium', () => {
  let server: Server;
  let browser: Browser;
  let url = '';
  beforeAll(async () => {
    const bundle = readFileSync(path.join(root, 'dist/keel.js'));
    server = createServer((req, res) => {
      // Cross-origin isolation: SharedArrayBuffer (the wasm backend's shared memory) needs both.
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
      if (req.url === '/keel.js') {
        res.setHeader('Content-Type', 'text/javascript');
        res.end(bundle);
      } else if (req.url === '/' || req.url === '/index.html') {
        res.setHeader('Content-Type', 'text/html');
        res.end(PAGE);
      } else {
        res.statusCode = req.url === '/favicon.ico' ? 204 : 404; // the browser asks for one
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  it('runs the wasm backend with the relaxed-SIMD kernels: fused multiply-adds, and the js backend\'s products', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(url);
    await page.waitForSelector('body[data-result]', { state: 'attached', timeout: 60_000 });
    const result = JSON.parse((await page.getAttribute('body', 'data-result')) ?? '{}') as {
      error?: string;
      backends: string[];
      relaxed: boolean;
      engine: number;
      witness: number;
      worst: number;
      isolated: boolean;
    };
    expect(result.error).toBeUndefined();
    expect(errors).toEqual([]);
    expect(result.isolated).toBe(true);
    expect(result.backends).toContain('wasm');
    expect(result.relaxed).toBe(true);
    // matmul rounds as the engine's relaxed multiply-add does: once where the CPU has FMA (here).
    expect(result.witness).toBe(result.engine);
    expect([2 ** -11, 2 ** -11 + 2 ** -24]).toContain(result.engine);
    // float32 sums of 300 products of N(0,1) values: both sides within ~k·2⁻²³·|term| of the exact sum.
    expect(result.worst).toBeLessThan(300 * 2 ** -23 * 16);
  });
});
