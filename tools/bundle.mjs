// Bundles the compiled modules under dist/ (tsc's output, one file per source) into one ES module,
// dist/keel.js, the package's entry point: loading ~120 modules one by one took most of an
// import (85 ms of 160 here); one file loads in about 35. dist/index.js and its graph stay for
// the command line and for deep imports, which must not be mixed with the bundle (each would have
// its own backends and classes). Runs after tsc in `npm run build`.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const result = await build({
  entryPoints: [path.join(root, 'dist/index.js')],
  outfile: path.join(root, 'dist/keel.js'),
  bundle: true,
  format: 'esm',
  platform: 'neutral', // Node and browsers: builtins are reached at run time through process.getBuiltinModule
  target: 'es2022',
  external: ['mnist', 'node:*'], // the MNIST digits load on demand, from the installed package
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});
const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined)?.bytes ?? 0;
console.log(`bundle: dist/index.js and ${Object.keys(result.metafile.inputs).length - 1} modules -> dist/keel.js (${Math.round(bytes / 1024)} KB)`);
