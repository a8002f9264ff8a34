import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Linter } from 'eslint';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain-JS ESLint rule without type declarations
import { layersRule } from '../tools/lint/layers.js';

const src = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');

function lint(file: string, code: string): string[] {
  const linter = new Linter({ configType: 'flat' });
  const messages = linter.verify(
    code,
    [
      {
        files: ['**/*.ts', '**/*.js'],
        plugins: { keel: { rules: { layers: layersRule } } },
        rules: { 'keel/layers': 'error' },
        languageOptions: { sourceType: 'module' },
      },
    ],
    path.join(src, file),
  );
  return messages.map((m) => m.message);
}

describe('the layer rule', () => {
  it('allows imports down the stack and within a layer', () => {
    expect(lint('ops/shape.js', "import { run } from '../autograd/run.js';")).toEqual([]);
    expect(lint('tensor/tensor.js', "import { Storage } from './storage.js';")).toEqual([]);
    expect(lint('index.js', "export * from './ops/shape.js';")).toEqual([]);
  });

  it('rejects an import up the stack and names both layers', () => {
    const errors = lint('tensor/tensor.js', "import { add } from '../ops/elementwise.js';");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/layer 'tensor' sits below 'ops'/);
    expect(lint('core/shape.js', "export { x } from '../backend/backend.js';")).toHaveLength(1);
    expect(lint('backend/js/js-backend.js', "import '../../index.js';")).toHaveLength(1);
  });
});
