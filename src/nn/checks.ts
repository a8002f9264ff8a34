import { NonFiniteError, fmtShape } from '../core/errors.js';
import { Tensor } from '../tensor/tensor.js';
import type { HookRemover, Module } from './module.js';

/** Whether every element of `t` is finite (one pass, accumulated in float64 on the backend). */
function allFinite(t: Tensor): boolean {
  if (t.dtype === 'int32' || t.size === 0) return true;
  return Number.isFinite(t.backend.sumSquares(t));
}

function firstBad(t: Tensor): string {
  const values = t.toTypedArray();
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return `element ${i} is ${values[i]}`;
  return 'a non-finite element';
}

/**
 * Checks every tensor that enters or leaves each module of `model` for NaN and ±Inf, and throws a
 * `NonFiniteError` naming the module (its path in the model and its class), the input or output,
 * its shape and the first bad element. The first module that turns finite inputs into a NaN is
 * the one reported. Costs one extra pass over every activation; returns a function that turns
 * the checks off.
 *
 * @example const off = nn.enableFiniteChecks(model); model.call(x); off();
 */
export function enableFiniteChecks(model: Module): HookRemover {
  const removers: HookRemover[] = [];
  for (const [path, m] of model.namedModules()) {
    const where = `${path === '' ? 'model' : path} (${m.name})`;
    removers.push(
      m.registerForwardPreHook((_m, inputs) => {
        inputs.forEach((x, i) => {
          if (x instanceof Tensor && !allFinite(x))
            throw new NonFiniteError(`${where}: input ${i} of shape ${fmtShape(x.shape)} contains NaN or Inf (${firstBad(x)})`);
        });
      }),
      m.registerForwardHook((_m, _inputs, out) => {
        const outs = Array.isArray(out) ? out.flat(2) : [out];
        outs.forEach((y, i) => {
          if (y instanceof Tensor && !allFinite(y))
            throw new NonFiniteError(
              `${where}: produced a non-finite output${outs.length > 1 ? ` ${i}` : ''} of shape ${fmtShape(y.shape)} from finite inputs (${firstBad(y)})`,
            );
        });
      }),
    );
  }
  return () => removers.forEach((r) => r());
}
