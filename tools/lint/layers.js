// ESLint rule: imports inside src/ point down the layer stack only (see the layout in the README).
// A module may import from its own layer or any layer listed before it.
import path from 'node:path';

/** Layers from the bottom up. `index.ts` sits above all of them. */
export const LAYERS = [
  'core',
  'backend',
  'tensor',
  'autograd',
  'ops',
  'nn',
  'optim',
  'clip',
  'data',
  'diagnostics',
  'train',
  'cli',
];

function layerOf(file, srcRoot) {
  const rel = path.relative(srcRoot, file);
  if (rel.startsWith('..')) return null;
  const top = rel.split(path.sep)[0];
  const i = LAYERS.indexOf(top);
  return i === -1 ? LAYERS.length : i; // index.ts and other top-level files: the top
}

export const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'keep imports between src/ layers one-way (down the stack)' },
    schema: [],
    messages: {
      upward: "'{{from}}' may not import '{{to}}': layer '{{fromLayer}}' sits below '{{toLayer}}' (imports point down: {{order}})",
    },
  },
  create(context) {
    const file = context.filename;
    const srcRoot = path.resolve(path.dirname(file).split(`${path.sep}src${path.sep}`)[0] + `${path.sep}src`);
    const from = layerOf(file, srcRoot);
    if (from === null) return {};
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), source);
      const to = layerOf(target, srcRoot);
      if (to === null || to <= from) return;
      context.report({
        node,
        messageId: 'upward',
        data: {
          from: path.relative(srcRoot, file),
          to: source,
          fromLayer: LAYERS[from] ?? 'index',
          toLayer: LAYERS[to] ?? 'index',
          order: LAYERS.join(' < '),
        },
      });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};
