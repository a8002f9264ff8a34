import type { DType } from '../core/dtype.js';
import { ConfigError, DTypeError, KeelError } from '../core/errors.js';
import { tensor } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * The safetensors format (Hugging Face), read and written in memory, so it works in browsers as
 * well as in Node (the file functions are in `checkpoint.ts` and `files.ts`).
 *
 * A file is: an 8-byte little-endian unsigned length N; N bytes of UTF-8 JSON, the header,
 * `{"name": {"dtype": "F32", "shape": [3, 4], "data_offsets": [begin, end]}, ...}` with an optional
 * `"__metadata__": {string: string}` entry, padded with spaces to a multiple of 8 bytes; then the
 * data: every tensor's elements in row-major order, little endian, at `[begin, end)` relative to the
 * start of the data, which the tensors cover exactly (no gap, no overlap, nothing after the last).
 *
 * Writing follows the reference implementation (the `safetensors` Rust crate behind
 * `safetensors.torch.save_file`) byte for byte: tensors sorted by dtype alignment, largest first,
 * then by name; the header as compact JSON with `__metadata__` first; spaces up to a multiple of 8.
 * So the same tensors and metadata give the same bytes as PyTorch's writer.
 */

/** A corrupt, truncated or malformed safetensors file (or checkpoint). The message says what is wrong. */
export class SafetensorsError extends KeelError {}

/** The element types the safetensors format defines (those Keel can read are listed on {@link parseSafetensors}). */
export type SafetensorsDType =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'I16'
  | 'U16'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'U32'
  | 'F32'
  | 'F64'
  | 'I64'
  | 'U64';

/** Bytes per element of every dtype, in the reference's alignment order (smallest first). */
const DTYPE_SIZE: Readonly<Record<SafetensorsDType, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** Position of each dtype in the reference's `Dtype` enum: the writer sorts by it, largest first. */
const DTYPE_RANK: Readonly<Record<SafetensorsDType, number>> = Object.fromEntries(
  Object.keys(DTYPE_SIZE).map((k, i) => [k, i]),
) as Record<SafetensorsDType, number>;

const KEEL_TO_SAFETENSORS: Readonly<Record<DType, SafetensorsDType>> = { float32: 'F32', float64: 'F64', int32: 'I32' };

/** The largest header the reference implementation accepts (100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** One tensor's entry in a safetensors header. */
export interface SafetensorsEntry {
  /** Element type, as written in the file. */
  readonly dtype: SafetensorsDType;
  /** Dimensions (`[]` for a 0-d tensor). */
  readonly shape: readonly number[];
  /** `[begin, end)` in bytes, relative to the start of the data section. */
  readonly dataOffsets: readonly [number, number];
}

/** A validated safetensors header: what {@link parseSafetensorsHeader} returns. */
export interface SafetensorsHeader {
  /** The tensors in the order of their data (by offset). */
  readonly tensors: ReadonlyMap<string, SafetensorsEntry>;
  /** The `__metadata__` strings, or null when the file has none. */
  readonly metadata: Readonly<Record<string, string>> | null;
  /** Byte position where the data section starts (8 + the header length). */
  readonly dataStart: number;
}

/** The whole content of a safetensors file: what {@link decodeSafetensors} returns. */
export interface SafetensorsContents {
  /** The tensors by name, in the order of their data in the file. */
  tensors: Map<string, Tensor>;
  /** The `__metadata__` strings, or null when the file has none. */
  metadata: Record<string, string> | null;
}

/** Tensors by name, as a Map (kept in its order) or a plain object. */
export type NamedTensors = ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

function toBytes(fn: string, bytes: Uint8Array | ArrayBuffer): Uint8Array {
  // A plain Uint8Array view: a Node Buffer's `slice` would share memory instead of copying.
  if (bytes instanceof Uint8Array) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  throw new ConfigError(`${fn}: bytes must be a Uint8Array or an ArrayBuffer (got ${describe(bytes)})`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Compares strings by Unicode code point, as Rust compares `String`s (UTF-8 byte order). */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++; // both hold the same astral code point: skip its second half
  }
  return a.length - b.length;
}

/** The little-endian bytes of a typed array. */
function littleEndianBytes(a: ArrayBufferView & { BYTES_PER_ELEMENT: number }): Uint8Array {
  const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (HOST_LITTLE_ENDIAN || a.BYTES_PER_ELEMENT === 1) return view;
  return swapBytes(view.slice(), a.BYTES_PER_ELEMENT);
}

function swapBytes(b: Uint8Array, size: number): Uint8Array {
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
  return b;
}

/**
 * Encodes tensors (and optional metadata strings) as a safetensors file, as
 * `safetensors.torch.save(tensors, metadata)` does: the same input gives the same bytes as
 * PyTorch's writer. float32, float64 and int32 tensors are written as F32, F64 and I32; any
 * strides (views, transposes) are written in row-major order.
 *
 * @example const bytes = serializeSafetensors(model.stateDict(), { format: 'pt' });
 */
export function serializeSafetensors(tensors: NamedTensors, metadata?: Readonly<Record<string, string>> | null): Uint8Array {
  const fn = 'serializeSafetensors';
  if (tensors === null || typeof tensors !== 'object')
    throw new ConfigError(`${fn}: tensors must be a Map or an object of tensors by name (got ${describe(tensors)})`);
  const entries: [string, Tensor][] =
    tensors instanceof Map ? [...(tensors as ReadonlyMap<string, Tensor>).entries()] : Object.entries(tensors as Record<string, Tensor>);
  for (const [name, t] of entries) {
    if (typeof name !== 'string') throw new ConfigError(`${fn}: tensor names must be strings (got ${describe(name)})`);
    if (name === METADATA_KEY) throw new ConfigError(`${fn}: '${METADATA_KEY}' is reserved by the format for metadata; rename that tensor`);
    if (!(t instanceof Tensor)) throw new ConfigError(`${fn}: '${name}' is not a Tensor (got ${describe(t)})`);
    t.assertLive(`${fn} ('${name}')`);
  }
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata !== 'object' || Array.isArray(metadata))
      throw new ConfigError(`${fn}: metadata must be an object of strings (got ${describe(metadata)})`);
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== 'string')
        throw new ConfigError(`${fn}: metadata values must be strings (key '${k}' has ${describe(v)}); encode other values with JSON.stringify`);
  }
  const sorted = entries
    .map(([name, t]) => ({ name, t, dtype: KEEL_TO_SAFETENSORS[t.dtype] }))
    .sort((a, b) => DTYPE_RANK[b.dtype] - DTYPE_RANK[a.dtype] || compareCodePoints(a.name, b.name));
  const datas: Uint8Array[] = [];
  const parts: string[] = [];
  if (metadata !== undefined && metadata !== null) parts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  let offset = 0;
  for (const { name, t, dtype } of sorted) {
    const data = littleEndianBytes(t.toTypedArray());
    datas.push(data);
    const end = offset + data.length;
    parts.push(`${JSON.stringify(name)}:{"dtype":"${dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength); // spaces: JSON whitespace, aligns the data to 8 bytes
  let pos = 8 + headerLength;
  for (const d of datas) {
    out.set(d, pos);
    pos += d.length;
  }
  return out;
}

/**
 * Reads and validates the header of a safetensors file without decoding any tensor: the length
 * field, UTF-8, JSON, every entry's dtype, shape and offsets, and that the offsets cover the data
 * section exactly (no gap, no overlap, no missing or extra bytes). Every problem is a
 * {@link SafetensorsError} that says what is wrong and where.
 */
export function parseSafetensorsHeader(bytes: Uint8Array | ArrayBuffer): SafetensorsHeader {
  return readHeader('parseSafetensorsHeader', toBytes('parseSafetensorsHeader', bytes));
}

function readHeader(fn: string, bytes: Uint8Array): SafetensorsHeader {
  const fail = (what: string): never => {
    throw new SafetensorsError(`${fn}: ${what}`);
  };
  if (bytes.length < 8)
    fail(`the file is ${bytes.length} bytes long, too short for the 8-byte header length that starts every safetensors file (truncated or not a safetensors file)`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  const available = bytes.length - 8;
  if (n64 > BigInt(available))
    fail(
      `the header length field says ${n64} bytes but only ${available} bytes follow it (the file is truncated, or it is not a safetensors file)`,
    );
  const n = Number(n64);
  if (n > MAX_HEADER_BYTES) fail(`the header is ${n} bytes, more than the format's limit of ${MAX_HEADER_BYTES}`);
  if (n < 2) fail(`the header length is ${n} bytes, too short for a JSON object (at least '{}')`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail(`the ${n}-byte header is not valid UTF-8 (the file is corrupt)`);
  }
  if (!text.startsWith('{')) fail(`the header must start with '{' (it starts with ${JSON.stringify(text.slice(0, 16))}); the file is corrupt or not a safetensors file`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(`the header is not valid JSON (${(e as Error).message}); the file is corrupt`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return fail('the header must be a JSON object');
  let metadata: Record<string, string> | null = null;
  const raw: [string, SafetensorsEntry][] = [];
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        fail(`'${METADATA_KEY}' must be an object of strings (got ${describe(value)})`);
      for (const [k, v] of Object.entries(value as Record<string, unknown>))
        if (typeof v !== 'string') fail(`'${METADATA_KEY}' values must be strings ('${k}' is ${describe(v)})`);
      metadata = { ...(value as Record<string, string>) };
      continue;
    }
    raw.push([name, readEntry(fail, name, value)]);
  }
  // The data must be covered exactly, in order of offsets: sort, then check each begins where the
  // previous ended. A zero-size tensor has begin == end and may share its offset with another.
  const order = raw.map((e, i) => ({ e, i })).sort((a, b) => a.e[1].dataOffsets[0] - b.e[1].dataOffsets[0] || a.e[1].dataOffsets[1] - b.e[1].dataOffsets[1] || a.i - b.i);
  const dataLength = bytes.length - 8 - n;
  let pos = 0;
  let prev = '';
  for (const {
    e: [name, entry],
  } of order) {
    const [begin, end] = entry.dataOffsets;
    if (begin > pos)
      fail(`'${name}' begins at byte ${begin} of the data but ${prev === '' ? 'the data starts at 0' : `'${prev}' ends at ${pos}`}: a gap of ${begin - pos} bytes that no tensor covers (the header is corrupt)`);
    if (begin < pos) fail(`'${name}' (bytes ${begin}..${end}) overlaps '${prev}', which ends at ${pos} (the header is corrupt)`);
    if (end > dataLength)
      fail(`'${name}' ends at byte ${end} of the data but the file has only ${dataLength} data bytes (the file is truncated)`);
    pos = end;
    prev = name;
  }
  if (pos !== dataLength)
    fail(`the tensors cover ${pos} bytes of data but the file has ${dataLength}: ${dataLength - pos} bytes after the last tensor (the file is corrupt, or two files were joined)`);
  return { tensors: new Map(order.map(({ e }) => e)), metadata, dataStart: 8 + n };
}

function readEntry(fail: (what: string) => never, name: string, value: unknown): SafetensorsEntry {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    fail(`the header entry of '${name}' must be an object {dtype, shape, data_offsets} (got ${describe(value)})`);
  const v = value as Record<string, unknown>;
  const dtype = v.dtype;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_SIZE, dtype))
    fail(`'${name}' has dtype ${JSON.stringify(dtype)}, which is not a safetensors dtype (${Object.keys(DTYPE_SIZE).join(', ')})`);
  const shape = v.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0))
    fail(`'${name}' has shape ${JSON.stringify(shape)}; expected an array of non-negative integers`);
  const offsets = v.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && (d as number) >= 0))
    fail(`'${name}' has data_offsets ${JSON.stringify(offsets)}; expected [begin, end], two non-negative integers`);
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(`'${name}' has data_offsets [${begin}, ${end}]: the end is before the beginning`);
  const size = DTYPE_SIZE[dtype as SafetensorsDType];
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  const expected = count * size;
  if (!Number.isSafeInteger(expected)) fail(`'${name}' has shape ${JSON.stringify(shape)}, too large to address`);
  if (end - begin !== expected)
    fail(
      `'${name}' is ${dtype} with shape [${(shape as number[]).join(', ')}], which is ${count} × ${size} = ${expected} bytes, but its data_offsets [${begin}, ${end}] span ${end - begin} bytes (the header is corrupt)`,
    );
  return { dtype: dtype as SafetensorsDType, shape: [...(shape as number[])], dataOffsets: [begin, end] };
}

/**
 * Decodes a safetensors file: every tensor (validated as {@link parseSafetensorsHeader} describes,
 * all before any tensor is made) and the metadata strings.
 */
export function decodeSafetensors(bytes: Uint8Array | ArrayBuffer): SafetensorsContents {
  return decode('decodeSafetensors', toBytes('decodeSafetensors', bytes));
}

function decode(fn: string, bytes: Uint8Array): SafetensorsContents {
  const header = readHeader(fn, bytes);
  // Convert every tensor's elements first, so that an unsupported dtype or an out-of-range int64
  // fails before any tensor is allocated.
  const arrays: [string, Float32Array | Float64Array | Int32Array, readonly number[]][] = [];
  for (const [name, entry] of header.tensors) {
    const [begin, end] = entry.dataOffsets;
    const raw = bytes.slice(header.dataStart + begin, header.dataStart + end); // a copy: aligned, and independent of the file
    arrays.push([name, convert(fn, name, entry.dtype, raw), entry.shape]);
  }
  const tensors = new Map<string, Tensor>();
  for (const [name, data, shape] of arrays) tensors.set(name, tensor(data, shape));
  return { tensors, metadata: header.metadata === null ? null : { ...header.metadata } };
}

/**
 * Decodes the tensors of a safetensors file, as `safetensors.torch.load(bytes)`: a Map from name
 * to tensor, in the order of their data in the file. The file is validated completely first (see
 * {@link parseSafetensorsHeader}); a truncated or corrupt file is a {@link SafetensorsError} that
 * says what is wrong.
 *
 * dtypes: F32, F64 and I32 are read as they are. Others become Keel dtypes when that is exact:
 * F16 and BF16 → float32; BOOL, U8, I8, I16, U16 → int32; I64, U32, U64 (PyTorch's default
 * integer type, e.g. labels) → int32 when every value fits in int32, otherwise a DTypeError naming
 * the tensor and the value. F8_E5M2/F8_E4M3 are a DTypeError.
 *
 * @example const weights = parseSafetensors(new Uint8Array(await (await fetch(url)).arrayBuffer()));
 */
export function parseSafetensors(bytes: Uint8Array | ArrayBuffer): Map<string, Tensor> {
  return decode('parseSafetensors', toBytes('parseSafetensors', bytes)).tensors;
}

/** Turns one tensor's little-endian bytes (a fresh copy) into the typed array Keel stores. */
function convert(fn: string, name: string, dtype: SafetensorsDType, raw: Uint8Array): Float32Array | Float64Array | Int32Array {
  const size = DTYPE_SIZE[dtype];
  if (!HOST_LITTLE_ENDIAN && size > 1) swapBytes(raw, size);
  const buf = raw.buffer;
  const outOfRange = (value: number | bigint, i: number): never => {
    throw new DTypeError(
      `${fn}: '${name}' is ${dtype} and its element ${i} is ${value}, outside int32 (Keel's integer dtype holds −2^31..2^31−1); convert the tensor to float64 or smaller values before saving`,
    );
  };
  switch (dtype) {
    case 'F32':
      return new Float32Array(buf);
    case 'F64':
      return new Float64Array(buf);
    case 'I32':
      return new Int32Array(buf);
    case 'F16':
      return Float32Array.from(new Uint16Array(buf), halfToFloat);
    case 'BF16': {
      const out = new Uint32Array(raw.length / 2);
      new Uint16Array(buf).forEach((h, i) => (out[i] = h << 16));
      return new Float32Array(out.buffer);
    }
    case 'BOOL':
      return Int32Array.from(raw, (b, i) => (b <= 1 ? b : outOfRange(b, i)));
    case 'U8':
      return Int32Array.from(raw);
    case 'I8':
      return Int32Array.from(new Int8Array(buf));
    case 'I16':
      return Int32Array.from(new Int16Array(buf));
    case 'U16':
      return Int32Array.from(new Uint16Array(buf));
    case 'U32':
      return Int32Array.from(new Uint32Array(buf), (v, i) => (v <= 0x7fffffff ? v : outOfRange(v, i)));
    case 'I64':
    case 'U64': {
      const src = dtype === 'I64' ? new BigInt64Array(buf) : new BigUint64Array(buf);
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i];
        if (v < -2147483648n || v > 2147483647n) outOfRange(v, i);
        out[i] = Number(v);
      }
      return out;
    }
    case 'F8_E5M2':
    case 'F8_E4M3':
      throw new DTypeError(`${fn}: '${name}' is ${dtype} (8-bit float), which Keel does not read; convert it to F16, F32 or F64 before saving`);
    default:
      return dtype satisfies never;
  }
}

/** IEEE 754 half precision to a number (exact: every half is a float32). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
