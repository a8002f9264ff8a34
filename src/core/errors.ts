/**
 * Typed errors. Every message names the function or layer, the argument and its value, and
 * what was expected, so a user can fix the call without reading Keel's source.
 */

/** Base class of every error Keel raises on purpose. */
export class KeelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that cannot work together (matmul inner dimensions, broadcasting, reshape sizes). */
export class ShapeError extends KeelError {}

/** A dtype that an operation does not accept (e.g. an int32 tensor where gradients are needed). */
export class DTypeError extends KeelError {}

/** An invalid option or hyperparameter (negative max norm, unknown mode, out-of-range axis). */
export class ConfigError extends KeelError {}

/** A NaN or infinity where a finite value is required. */
export class NonFiniteError extends KeelError {}

/** Misuse of the autograd graph: a second backward through a freed graph, a non-scalar root. */
export class GraphError extends KeelError {}

/** Use of a tensor whose storage was already released by `dispose()` or `tidy()`. */
export class DisposedError extends KeelError {}

/** Formats a shape the way error messages print it: `[32, 784]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
