import { noGrad } from '../autograd/grad-mode.js';
import type { UpdateSquares } from '../backend/backend.js';
import { isFloat } from '../core/dtype.js';
import { sub } from '../ops/elementwise.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * `[Σ p², Σ (p − before)², Σ g²]` (0 for the last without a gradient) of a float parameter
 * updated in place since `before` was copied from it: the optimizer's measured step and the
 * monitor's snapshot both read update ratios from it. One backend pass (Backend.updateSquares)
 * where the three are whole buffers of one kind; otherwise the difference is taken as `sub`.
 */
export function updateSquaresOf(p: Tensor, before: Tensor, g: Tensor | null): UpdateSquares {
  const whole = (t: Tensor): boolean => t.ownsBuffer() && t.backend === p.backend && t.dtype === p.dtype;
  if (isFloat(p.dtype) && whole(p) && whole(before) && (g === null || whole(g)))
    return p.backend.updateSquares(p.buf, before.buf, g === null ? null : g.buf);
  return tidy(() =>
    noGrad(() => {
      const d = sub(p, before);
      return [p.backend.sumSquares(p), d.backend.sumSquares(d), g === null ? 0 : g.backend.sumSquares(g)] as UpdateSquares;
    }),
  );
}
