/**
 * The IDX format of the MNIST files (LeCun et al., http://yann.lecun.com/exdb/mnist/): a 4-byte
 * magic number — two zero bytes, a type code, the number of dimensions — then one big-endian
 * uint32 per dimension, then the elements in row-major order, big-endian.
 *
 * `readIdx` is browser-safe (bytes in, arrays out); `readIdxFile` needs Node (see `node-files.ts`).
 */
import { DataFormatError, DatasetNotFoundError } from './errors.js';
import { gunzip, isGzip, readFileBytes } from './node-files.js';

/** Element types of IDX files, by the name of the typed array that holds them. */
export type IdxDType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** The typed array that holds each IDX element type. */
export interface IdxArrayFor {
  uint8: Uint8Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  float32: Float32Array;
  float64: Float64Array;
}

/** A decoded IDX file: its element type, its dimensions and its elements (row-major). */
export interface IdxArray {
  /** Element type, from the type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64). */
  readonly dtype: IdxDType;
  /** Dimensions, from the header (e.g. `[60000, 28, 28]`). */
  readonly shape: readonly number[];
  /** The elements in row-major order, in native byte order, in a buffer of their own. */
  readonly data: IdxArrayFor[IdxDType];
}

/** Type codes and element sizes. */
const TYPES: Record<number, { dtype: IdxDType; size: number }> = {
  0x08: { dtype: 'uint8', size: 1 },
  0x09: { dtype: 'int8', size: 1 },
  0x0b: { dtype: 'int16', size: 2 },
  0x0c: { dtype: 'int32', size: 4 },
  0x0d: { dtype: 'float32', size: 4 },
  0x0e: { dtype: 'float64', size: 8 },
};

const CODES = '0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float, 0x0E double';

const hex = (v: number, digits: number): string => `0x${v.toString(16).toUpperCase().padStart(digits, '0')}`;

/**
 * Decodes the bytes of an IDX file (not gzip-compressed: see {@link readIdxFile}, which
 * decompresses). Throws a {@link DataFormatError} for a bad magic number, an unknown type code,
 * or a byte count that does not match the header (truncated or with trailing bytes), naming the
 * expected and the actual count.
 *
 * @example const { dtype, shape, data } = readIdx(bytes); // 'uint8', [10000, 28, 28], Uint8Array
 */
export function readIdx(bytes: Uint8Array): IdxArray {
  return decodeIdx(bytes, 'readIdx');
}

/**
 * Reads and decodes an IDX file (Node only). Gzip-compressed files (`.gz`, recognized by their
 * first two bytes 0x1F 0x8B rather than by the name) are decompressed transparently. Errors name
 * the file: {@link DatasetNotFoundError} when it does not exist, {@link DataFormatError} when
 * its bytes are not valid IDX (or not valid gzip).
 *
 * @example const images = await readIdxFile('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz');
 */
export async function readIdxFile(path: string): Promise<IdxArray> {
  const where = `readIdxFile('${path}')`;
  let bytes: Uint8Array;
  try {
    bytes = await readFileBytes(path, 'readIdxFile');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') throw new DatasetNotFoundError(`${where}: no such file`);
    throw e;
  }
  if (isGzip(bytes)) {
    try {
      bytes = await gunzip(bytes, 'readIdxFile');
    } catch (e) {
      throw new DataFormatError(`${where}: the file starts like gzip but does not decompress (${(e as Error).message}); is it truncated?`);
    }
  }
  return decodeIdx(bytes, where);
}

/** @internal `readIdx` with the error prefix given (readIdxFile names the file). */
export function decodeIdx(bytes: Uint8Array, where: string): IdxArray {
  if (bytes.length < 4)
    throw new DataFormatError(`${where}: truncated IDX header: expected at least 4 bytes (the magic number), got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b)
    throw new DataFormatError(
      `${where}: the bytes are gzip-compressed (they start with 0x1F 0x8B); decompress them first, or read the file with readIdxFile, which does`,
    );
  if (bytes[0] !== 0 || bytes[1] !== 0)
    throw new DataFormatError(
      `${where}: bad magic number ${hex(magic, 8)}: an IDX file starts with two zero bytes, a type code (${CODES}) and the number of dimensions`,
    );
  const type = TYPES[bytes[2]];
  if (type === undefined)
    throw new DataFormatError(`${where}: unknown IDX type code ${hex(bytes[2], 2)} in magic number ${hex(magic, 8)} (expected one of ${CODES})`);
  const ndim = bytes[3];
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes)
    throw new DataFormatError(
      `${where}: truncated IDX header: ${ndim} dimensions need ${headerBytes} header bytes, got ${bytes.length}`,
    );
  const shape: number[] = [];
  let count = 1;
  for (let d = 0; d < ndim; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    shape.push(size);
    count *= size;
  }
  const expected = headerBytes + count * type.size;
  const shapeText = `[${shape.join(', ')}]`;
  if (bytes.length < expected)
    throw new DataFormatError(
      `${where}: truncated IDX data: ${type.dtype} ${shapeText} needs ${expected} bytes (${headerBytes}-byte header + ${count * type.size} data bytes), got ${bytes.length}`,
    );
  if (bytes.length > expected)
    throw new DataFormatError(
      `${where}: ${bytes.length - expected} trailing bytes after the IDX data: ${type.dtype} ${shapeText} needs ${expected} bytes (${headerBytes}-byte header + ${count * type.size} data bytes), got ${bytes.length}`,
    );
  return { dtype: type.dtype, shape, data: decodeElements(view, headerBytes, count, type.dtype) };
}

function decodeElements(view: DataView, offset: number, n: number, dtype: IdxDType): IdxArrayFor[IdxDType] {
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + n));
    case 'int8':
      return new Int8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + n));
    case 'int16': {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
    default:
      return dtype satisfies never;
  }
}
