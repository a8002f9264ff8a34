import { DTypeError, GraphError, fmtShape } from '../core/errors.js';
import { tidy } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { backward } from './backward.js';
import { noGrad } from './grad-mode.js';

/** Tolerances of {@link gradcheck}. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-3). */
  rtol?: number;
}

/**
 * Compares the Jacobian that autograd computes for `fn` at `inputs` with central finite
 * differences, as `torch.autograd.gradcheck`: every output element against every input element.
 * Inputs must be float64, contiguous and require gradients. Returns true, or throws a
 * `GraphError` naming the first input and element whose derivative disagrees.
 */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options?: GradcheckOptions): true {
  const eps = options?.eps ?? 1e-6;
  const atol = options?.atol ?? 1e-5;
  const rtol = options?.rtol ?? 1e-3;
  for (const [i, x] of inputs.entries()) {
    if (x.dtype !== 'float64') throw new DTypeError(`gradcheck: input ${i} is ${x.dtype}; finite differences need float64`);
    if (!x.isContiguous()) throw new DTypeError(`gradcheck: input ${i} must be contiguous`);
  }
  const evaluate = (): Float64Array => noGrad(() => tidy(() => Float64Array.from(fn(...inputs).toTypedArray())));
  const out0 = evaluate();
  const nOut = out0.length;

  // Analytic Jacobian, one row per output element (vector-Jacobian products).
  const analytic: Float64Array[][] = inputs.map((x) => Array.from({ length: nOut }, () => new Float64Array(x.size)));
  tidy(() => {
    const out = fn(...inputs);
    for (let j = 0; j < nOut; j++) {
      for (const x of inputs) {
        x.grad?.dispose();
        x.grad = null;
      }
      if (!out.requiresGrad) break; // no input reaches the output: the Jacobian is zero
      const onehot = new Float64Array(nOut);
      onehot[j] = 1;
      const seed = Tensor.empty(out.backend, out.shape, out.dtype, false);
      out.backend.write(seed.buf, onehot);
      backward(out, seed, { retainGraph: true });
      inputs.forEach((x, i) => {
        if (x.grad !== null) analytic[i][j].set(x.grad.toTypedArray());
      });
    }
    for (const x of inputs) {
      x.grad?.dispose();
      x.grad = null;
    }
  });

  // Numerical Jacobian, one column per input element.
  for (const [i, x] of inputs.entries()) {
    const values = Float64Array.from(x.toTypedArray());
    for (let k = 0; k < values.length; k++) {
      const orig = values[k];
      x.backend.write(x.buf, [orig + eps], x.offset + k);
      const plus = evaluate();
      x.backend.write(x.buf, [orig - eps], x.offset + k);
      const minus = evaluate();
      x.backend.write(x.buf, [orig], x.offset + k);
      for (let j = 0; j < nOut; j++) {
        const numeric = (plus[j] - minus[j]) / (2 * eps);
        const a = analytic[i][j][k];
        if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric)))
          throw new GraphError(
            `gradcheck: input ${i} ${fmtShape(x.shape)}, element ${k}, output element ${j}: ` +
              `autograd gives ${a}, finite differences give ${numeric}`,
          );
      }
    }
  }
  return true;
}
