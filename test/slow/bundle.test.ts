import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The package's entry point is dist/keel.js, one bundled module made from dist/index.js and its
// graph (tools/bundle.mjs). It runs in a child process, as a user's program would: a bundle and
// the per-file modules must never meet in one process (each has its own backends and classes).

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function node(source: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', source], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return stdout;
}

describe('the bundled entry point (dist/keel.js)', () => {
  it('is what `import "keel"` loads, exports what dist/index.js exports, and trains the same bits', async () => {
    // One Adam step with global-norm clipping on the wasm backend, from a seed: the first loss and
    // a checksum of the weights after the step, by both builds.
    const program = (entry: string): string => `
      const keel = await import(${JSON.stringify(entry)});
      const { Adam, Generator, clipGradNorm_, manualSeed, nn, randint, randn, setBackend, tidy } = keel;
      setBackend('wasm');
      manualSeed(3);
      const g = new Generator(3);
      const model = new nn.Sequential(new nn.Linear(20, 16), new nn.ReLU(), new nn.Linear(16, 4));
      const opt = new Adam(model.parameters(), { lr: 1e-2 });
      const x = randn([8, 20], { generator: g });
      const y = randint(0, 4, [8], { generator: g });
      const losses = [];
      for (let s = 0; s < 3; s++) tidy(() => {
        opt.zeroGrad();
        const loss = nn.crossEntropy(model.call(x), y);
        loss.backward();
        clipGradNorm_(model.parameters(), 0.5);
        opt.step();
        losses.push(loss.item());
      });
      const sums = model.parameters().map((p) => Array.from(p.toTypedArray()).reduce((a, b) => a + b, 0));
      console.log(JSON.stringify({ names: Object.keys(keel).sort(), losses, sums }));`;
    const viaPackage = JSON.parse(await node(program('keel'))) as { names: string[]; losses: number[]; sums: number[] };
    const perFile = JSON.parse(await node(program('./dist/index.js'))) as typeof viaPackage;
    expect(viaPackage.names.length).toBeGreaterThan(100);
    expect(viaPackage).toEqual(perFile);
  });
});
