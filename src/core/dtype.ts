/** Element types. float32 is the default; float64 exists for gradient checks; int32 for labels. */
export type DType = 'float32' | 'float64' | 'int32';

/** The typed array that stores each dtype. */
export interface TypedArrayFor {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
}

/** Any of the typed arrays behind a tensor. */
export type TypedArray = Float32Array | Float64Array | Int32Array;

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

/** Bytes per element. */
export function bytesPerElement(dtype: DType): number {
  return dtype === 'float64' ? 8 : 4;
}

/** Allocates a zero-filled typed array of the dtype. */
export function makeTypedArray<D extends DType>(dtype: D, size: number): TypedArrayFor[D] {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size) as TypedArrayFor[D];
    case 'float64':
      return new Float64Array(size) as TypedArrayFor[D];
    case 'int32':
      return new Int32Array(size) as TypedArrayFor[D];
    default:
      return dtype satisfies never;
  }
}

/** The dtype of a typed array. */
export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  return 'int32';
}

export function isFloat(dtype: DType): boolean {
  return dtype !== 'int32';
}

const RANK: Record<DType, number> = { int32: 0, float32: 1, float64: 2 };

/** Result dtype of a binary op, as PyTorch promotes: int32 < float32 < float64. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}
