import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DTypeError, KeelError, ShapeError } from '../src/core/errors.js';
import { Generator } from '../src/core/random.js';
import { transpose } from '../src/ops/shape.js';
import { ReLU } from '../src/nn/activation.js';
import { Linear } from '../src/nn/linear.js';
import { Sequential } from '../src/nn/sequential.js';
import { randn, tensor, zeros } from '../src/tensor/create.js';
import { memory } from '../src/tensor/storage.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { loadModel, saveModel } from '../src/train/checkpoint.js';
import {
  SafetensorsError,
  decodeSafetensors,
  parseSafetensors,
  parseSafetensorsHeader,
  serializeSafetensors,
} from '../src/train/safetensors.js';

// Fixtures from tools/fixtures/safetensors_fixtures.py (run it with /usr/bin/python3; its
// docstring describes the Keel → PyTorch round trip through keel_written.safetensors).
const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'safetensors');
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(path.join(FIXTURES, name)));

const dir = mkdtempSync(path.join(tmpdir(), 'keel-safetensors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bitwise equality of two tensors: dtype, shape and every byte (so NaN, −0 and rounding count). */
function expectSameTensor(got: Tensor | undefined, want: Tensor): void {
  expect(got).toBeDefined();
  expect(got!.dtype).toBe(want.dtype);
  expect(got!.shape).toEqual(want.shape);
  const a = got!.toTypedArray();
  const b = want.toTypedArray();
  expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toBe(true);
}

/** A safetensors file from a header object (written as given) and a data section of `dataBytes` bytes. */
function rawFile(header: unknown, dataBytes: number | Uint8Array, pad = true): Uint8Array {
  let json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  if (pad) {
    const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const data = typeof dataBytes === 'number' ? new Uint8Array(dataBytes).map((_, i) => i) : dataBytes;
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('serializeSafetensors: bytes of the reference implementation', () => {
  // Expected bytes copied from the tests of the `safetensors` Rust crate (safetensors/src/tensor.rs:
  // test_serialization, test_serialization_forced_alignement, test_empty), which writes the files
  // that safetensors.torch.save_file makes.
  it('one F32 tensor, header already a multiple of 8', () => {
    const bytes = serializeSafetensors({ 'attn.0': tensor([0, 1, 2, 3, 4, 5], [1, 2, 3]) });
    expect([...bytes]).toEqual([
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34,
      44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115,
      34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]);
  });

  it('pads the header with spaces to a multiple of 8', () => {
    const bytes = serializeSafetensors(new Map([['attn0', tensor([0, 1, 2, 3, 4, 5], [1, 1, 2, 3])]]));
    expect([...bytes]).toEqual([
      72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44,
      34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116,
      115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32, 32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0,
      128, 64, 0, 0, 160, 64,
    ]);
  });

  it('no tensors, with and without metadata', () => {
    expect([...serializeSafetensors({})]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    expect([...serializeSafetensors({}, { framework: 'pt' })]).toEqual([
      40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111,
      114, 107, 34, 58, 34, 112, 116, 34, 125, 125, 32, 32, 32, 32, 32,
    ]);
    expect(decodeSafetensors(serializeSafetensors({}, { framework: 'pt' }))).toEqual({ tensors: new Map(), metadata: { framework: 'pt' } });
    expect(decodeSafetensors(serializeSafetensors({})).metadata).toBeNull();
  });

  it('orders tensors as the reference: largest dtype first, then by name (code points), whatever the input order', () => {
    const a = serializeSafetensors({ b: tensor([1], { dtype: 'int32' }), z: tensor([1]), a: tensor([1]), m: tensor([1], { dtype: 'float64' }) });
    const b = serializeSafetensors({ m: tensor([1], { dtype: 'float64' }), a: tensor([1]), b: tensor([1], { dtype: 'int32' }), z: tensor([1]) });
    expect(a).toEqual(b);
    expect([...parseSafetensorsHeader(a).tensors.keys()]).toEqual(['m', 'a', 'z', 'b']);
    // U+FFFD sorts before U+1F600 by code point (as Rust compares strings) though not by UTF-16 unit.
    const names = [...parseSafetensors(serializeSafetensors({ '\u{1F600}': tensor([1]), '\uFFFD': tensor([2]) })).keys()];
    expect(names).toEqual(['\uFFFD', '\u{1F600}']);
  });
});

describe('round trips', () => {
  it('float32, float64 and int32 tensors, 0-d, empty and strided ones, bit for bit', () => {
    const t = {
      f32: tensor([1.5, -0, NaN, Infinity, -Infinity, 1e-45, 3.4028234663852886e38], { dtype: 'float32' }),
      f64: tensor([Math.PI, -0, NaN, 5e-324, -1.7976931348623157e308, 0.1], [2, 3], { dtype: 'float64' }),
      i32: tensor([-2147483648, -1, 0, 2147483647], [2, 2], { dtype: 'int32' }),
      scalar: tensor(0.1, []),
      scalarI: tensor(7, [], { dtype: 'int32' }),
      empty: zeros([0, 3]),
      empty64: zeros([2, 0, 4], { dtype: 'float64' }),
      strided: transpose(tensor([1, 2, 3, 4, 5, 6], [2, 3])),
    };
    const back = parseSafetensors(serializeSafetensors(t));
    expect(new Set(back.keys())).toEqual(new Set(Object.keys(t)));
    for (const [k, v] of Object.entries(t)) expectSameTensor(back.get(k), v);
    expect(back.get('strided')!.toArray()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
  });

  it('metadata, including non-ASCII text and JSON-escaped characters; names likewise', () => {
    const metadata = { format: 'pt', 'größe': 'groß ✓', quote: 'a "b"\n\\c\u0001', '': 'empty key' };
    const bytes = serializeSafetensors({ 'ünï "code"\n': tensor([1, 2]) }, metadata);
    const { tensors, metadata: meta } = decodeSafetensors(bytes);
    expect(meta).toEqual(metadata);
    expectSameTensor(tensors.get('ünï "code"\n'), tensor([1, 2]));
  });

  it('property: any set of tensors survives; the header is 8-aligned; the data is contiguous and aligned by dtype', () => {
    const dtypeArb = fc.constantFrom('float32' as const, 'float64' as const, 'int32' as const);
    const entry = fc
      .record({ dtype: dtypeArb, shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }) })
      .chain(({ dtype, shape }) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const value = dtype === 'int32' ? fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) : fc.double({ noDefaultInfinity: false });
        return fc.array(value, { minLength: n, maxLength: n }).map((values) => ({ dtype, shape, values }));
      });
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }), entry, { maxKeys: 6 }), (spec) => {
        delete (spec as Record<string, unknown>).__metadata__;
        const tensors = new Map(Object.entries(spec).map(([k, e]) => [k, tensor(e.values, e.shape, { dtype: e.dtype })]));
        const bytes = serializeSafetensors(tensors);
        const header = parseSafetensorsHeader(bytes);
        expect(header.dataStart % 8).toBe(0);
        let prevSize = 8;
        for (const e of header.tensors.values()) {
          const size = e.dtype === 'F64' ? 8 : 4;
          if (e.dataOffsets[0] === e.dataOffsets[1]) continue; // an empty tensor has no position of its own
          expect(size).toBeLessThanOrEqual(prevSize); // largest alignment first
          expect(e.dataOffsets[0] % size).toBe(0);
          prevSize = size;
        }
        const back = parseSafetensors(bytes);
        expect(back.size).toBe(tensors.size);
        for (const [k, t] of tensors) expectSameTensor(back.get(k), t);
      }),
      { numRuns: 60 },
    );
  });

  it('accepts an ArrayBuffer, a Node Buffer and a Uint8Array view at an odd offset; the tensors do not share the bytes', () => {
    const bytes = serializeSafetensors({ x: tensor([1, 2, 3], { dtype: 'float64' }) });
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    for (const input of [bytes.slice().buffer, Buffer.from(bytes), shifted.subarray(3)]) {
      const x = parseSafetensors(input).get('x')!;
      expect(x.toArray()).toEqual([1, 2, 3]);
    }
    const view = shifted.subarray(3);
    const x = parseSafetensors(view).get('x')!;
    view.fill(0);
    expect(x.toArray()).toEqual([1, 2, 3]);
  });

  it('returns the tensors in the order of their data and accepts a header in any order (as other writers may produce)', () => {
    const data = new Uint8Array(new Float32Array([1, 2, 3]).buffer);
    const file = rawFile(
      {
        b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
        __metadata__: { k: 'v' },
        a: { dtype: 'F32', shape: [], data_offsets: [0, 4] },
        e: { dtype: 'F32', shape: [0], data_offsets: [12, 12] },
      },
      data,
      false,
    );
    const { tensors, metadata } = decodeSafetensors(file);
    expect([...tensors.keys()]).toEqual(['a', 'b', 'e']);
    expect(tensors.get('a')!.toArray()).toBe(1);
    expect(tensors.get('b')!.toArray()).toEqual([2, 3]);
    expect(metadata).toEqual({ k: 'v' });
  });
});

describe('serializeSafetensors: argument errors', () => {
  it('rejects the reserved name, non-tensors, non-string metadata and disposed tensors', () => {
    expect(() => serializeSafetensors({ __metadata__: tensor([1]) })).toThrow(ConfigError);
    expect(() => serializeSafetensors({ __metadata__: tensor([1]) })).toThrow(/reserved/);
    expect(() => serializeSafetensors({ x: [1, 2] as unknown as Tensor })).toThrow(/'x' is not a Tensor/);
    expect(() => serializeSafetensors({}, { n: 1 as unknown as string })).toThrow(/metadata values must be strings \(key 'n'/);
    const t = tensor([1]);
    t.dispose();
    expect(() => serializeSafetensors({ gone: t })).toThrow(/disposed/);
  });
});

describe('parseSafetensors: corrupt and truncated files', () => {
  const good = serializeSafetensors({ w: tensor([1, 2, 3, 4], [2, 2]), b: tensor([5, 6], { dtype: 'float64' }) }, { format: 'pt' });
  const n = Number(new DataView(good.buffer).getBigUint64(0, true));

  const cases: [string, Uint8Array, RegExp][] = [
    ['empty file', new Uint8Array(0), /0 bytes long, too short for the 8-byte header length/],
    ['short length field', good.slice(0, 5), /5 bytes long, too short/],
    ['header length beyond the file', good.slice(0, 8 + n - 1), new RegExp(`says ${n} bytes but only ${n - 1} bytes follow`)],
    ['huge header length', (() => { const b = good.slice(); new DataView(b.buffer).setBigUint64(0, 2n ** 63n, true); return b; })(), /says 9223372036854775808 bytes/],
    ['truncated data', good.slice(0, good.length - 3), /'w' ends at byte 32 of the data but the file has only 29 data bytes \(the file is truncated\)/],
    ['extra bytes after the last tensor', new Uint8Array([...good, 0, 0]), /2 bytes after the last tensor/],
    ['bad JSON', rawFile('{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}', 4), /not valid JSON/],
    ['header not starting with {', rawFile(' {}', 0, true), /must start with '\{'/],
    ['header a JSON array', rawFile('[1, 2]', 0), /must start with '\{'/],
    ['header too short', (() => { const b = new Uint8Array(9); b[0] = 1; b[8] = 0x7b; return b; })(), /too short for a JSON object/],
    ['invalid UTF-8', (() => { const b = rawFile('{"\u00e9": 1}', 0); b.set([0xff], 10); return b; })(), /not valid UTF-8/],
    ['entry not an object', rawFile({ w: [1, 2] }, 0), /entry of 'w' must be an object/],
    ['unknown dtype', rawFile({ w: { dtype: 'F31', shape: [1], data_offsets: [0, 4] } }, 4), /'w' has dtype "F31", which is not a safetensors dtype/],
    ['negative dimension', rawFile({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), /'w' has shape \[-1\]/],
    ['fractional dimension', rawFile({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, 4), /'w' has shape \[1.5\]/],
    ['offsets missing', rawFile({ w: { dtype: 'F32', shape: [1] } }, 4), /'w' has data_offsets undefined/],
    ['offsets of the wrong arity', rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4, 8] } }, 4), /'w' has data_offsets \[0,4,8\]/],
    ['end before begin', rawFile({ w: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, 4), /the end is before the beginning/],
    ['wrong byte count for dtype × shape', rawFile({ w: { dtype: 'F64', shape: [2, 2], data_offsets: [0, 16] } }, 16), /'w' is F64 with shape \[2, 2\], which is 4 × 8 = 32 bytes, but its data_offsets \[0, 16\] span 16 bytes/],
    ['offsets out of range', rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, v: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, 8), /'v' ends at byte 12 of the data but the file has only 8 data bytes/],
    ['overlapping tensors', rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, v: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12), /'v' \(bytes 4\.\.12\) overlaps 'w', which ends at 8/],
    ['two tensors over the same bytes', rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, v: { dtype: 'I32', shape: [2], data_offsets: [0, 8] } }, 8), /overlaps/],
    ['gap between tensors', rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, v: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, 12), /'v' begins at byte 8 of the data but 'w' ends at 4: a gap of 4 bytes/],
    ['gap at the start', rawFile({ v: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), /a gap of 4 bytes/],
    ['metadata not an object', rawFile({ __metadata__: 'pt' }, 0), /'__metadata__' must be an object of strings/],
    ['metadata value not a string', rawFile({ __metadata__: { epoch: 3 } }, 0), /'__metadata__' values must be strings \('epoch' is number 3\)/],
  ];

  it.each(cases)('%s → SafetensorsError naming the problem', (_, bytes, message) => {
    const before = memory().numBuffers;
    expect(() => parseSafetensors(bytes)).toThrow(SafetensorsError);
    expect(() => parseSafetensors(bytes)).toThrow(message);
    expect(() => parseSafetensors(bytes)).toThrow(/^parseSafetensors: /);
    expect(memory().numBuffers).toBe(before); // validated before any tensor was made
  });

  it('every truncation of a valid file is an error (and every corruption error is a KeelError)', () => {
    for (let len = 0; len < good.length; len++) expect(() => parseSafetensors(good.slice(0, len))).toThrow(SafetensorsError);
    expect(new SafetensorsError('x')).toBeInstanceOf(KeelError);
  });

  it('rejects non-bytes', () => {
    expect(() => parseSafetensors([1, 2] as unknown as Uint8Array)).toThrow(/bytes must be a Uint8Array or an ArrayBuffer \(got an array\)/);
  });
});

describe('dtypes written by PyTorch', () => {
  interface Arr {
    shape: number[];
    values: (number | string)[];
  }
  const expected = JSON.parse(readFileSync(path.join(FIXTURES, 'torch.json'), 'utf8')) as {
    input: Arr;
    output: Arr;
    state: Record<string, Arr>;
    dtypes: Record<string, Arr & { dtype: string }>;
    sha256: Record<string, string>;
  };
  const num = (v: number | string): number => (typeof v === 'number' ? v : { nan: NaN, inf: Infinity, '-inf': -Infinity, '-0': -0 }[v]!);

  it('the fixture files are the ones torch.json describes', () => {
    for (const [name, sha] of Object.entries(expected.sha256)) expect(createHash('sha256').update(fixture(name)).digest('hex')).toBe(sha);
  });

  it('F64, F32, I32 as they are; F16 and BF16 to float32 exactly; I64, U8, I8, I16 and BOOL to int32', () => {
    const keelDType: Record<string, string> = { F64: 'float64', F32: 'float32', F16: 'float32', BF16: 'float32' };
    const tensors = parseSafetensors(fixture('torch_dtypes.safetensors'));
    expect(new Set(tensors.keys())).toEqual(new Set(Object.keys(expected.dtypes)));
    for (const [name, want] of Object.entries(expected.dtypes)) {
      const t = tensors.get(name)!;
      expect(t.dtype, name).toBe(keelDType[want.dtype] ?? 'int32');
      expect(t.shape, name).toEqual(want.shape);
      const got = [...t.toTypedArray()];
      const values = want.values.map(num);
      // Object.is: NaN equals NaN, −0 differs from 0 (the F16 −0 must stay −0).
      got.forEach((v, i) => expect(Object.is(v, values[i]), `${name}[${i}]: ${v} vs ${values[i]}`).toBe(true));
    }
  });

  it('I64 beyond int32 → DTypeError naming the tensor and the value; 8-bit floats and U32 beyond int32 likewise', () => {
    expect(() => parseSafetensors(fixture('torch_i64_overflow.safetensors'))).toThrow(DTypeError);
    expect(() => parseSafetensors(fixture('torch_i64_overflow.safetensors'))).toThrow(/'big' is I64 and its element 1 is 2147483648, outside int32/);
    expect(() => parseSafetensors(rawFile({ f8: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, 2))).toThrow(/'f8' is F8_E4M3 \(8-bit float\), which Keel does not read/);
    const u32 = new Uint8Array(new Uint32Array([5, 2 ** 31]).buffer);
    expect(() => parseSafetensors(rawFile({ u: { dtype: 'U32', shape: [2], data_offsets: [0, 8] } }, u32))).toThrow(/'u' is U32 and its element 1 is 2147483648/);
    const u64 = new Uint8Array(new BigUint64Array([5n, 2n ** 31n - 1n]).buffer);
    expect(parseSafetensors(rawFile({ u: { dtype: 'U64', shape: [2], data_offsets: [0, 16] } }, u64)).get('u')!.toArray()).toEqual([5, 2 ** 31 - 1]);
    expect(() => parseSafetensors(rawFile({ m: { dtype: 'BOOL', shape: [2], data_offsets: [0, 2] } }, new Uint8Array([1, 2])))).toThrow(/'m' is BOOL and its element 1 is 2/);
  });
});

describe('PyTorch ↔ Keel: an MLP', () => {
  const expected = JSON.parse(readFileSync(path.join(FIXTURES, 'torch.json'), 'utf8')) as {
    input: { shape: number[]; values: number[] };
    output: { shape: number[]; values: number[] };
    state: Record<string, { shape: number[]; values: number[] }>;
  };
  const mlp = (): Sequential => new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2));
  const input = tensor(expected.input.values, expected.input.shape);

  it('loads the weights PyTorch wrote (PyTorch names and layouts) and computes PyTorch’s outputs', () => {
    const model = mlp();
    expect(loadModel(model, path.join(FIXTURES, 'torch_mlp.safetensors'))).toEqual({ missingKeys: [], unexpectedKeys: [] });
    for (const [name, want] of Object.entries(expected.state)) {
      const t = model.stateDict().get(name)!;
      expect(t.shape).toEqual(want.shape);
      expect([...t.toTypedArray()]).toEqual(want.values); // float32 values, exactly
    }
    const out = (model.call(input) as Tensor).toTypedArray();
    expected.output.values.forEach((v, i) => expect(out[i]).toBeCloseTo(v, 6));
  });

  it('saveModel writes exactly the bytes of the PyTorch-side file for the same weights', () => {
    const model = mlp();
    loadModel(model, path.join(FIXTURES, 'torch_mlp.safetensors'));
    const file = path.join(dir, 'mlp.safetensors');
    saveModel(model, file);
    expect(new Uint8Array(readFileSync(file))).toEqual(fixture('torch_mlp.safetensors'));
    saveModel(model, file, { metadata: { epoch: '3' } });
    expect(decodeSafetensors(readFileSync(file)).metadata).toEqual({ format: 'pt', epoch: '3' });
  });

  it('loadModel checks names and shapes before changing anything; strict: false loads what matches', () => {
    const file = path.join(FIXTURES, 'torch_mlp.safetensors');
    const small = new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2, { bias: false }));
    const before = small.stateDict().get('0.weight')!.toArray();
    expect(() => loadModel(small, file)).toThrow(ConfigError);
    expect(() => loadModel(small, file)).toThrow(/loadModel\('.*torch_mlp.safetensors'\): .*not in the model: 2\.bias.*strict: false/);
    expect(small.stateDict().get('0.weight')!.toArray()).toEqual(before);
    const wide = new Sequential(new Linear(4, 5), new ReLU(), new Linear(5, 2));
    expect(() => loadModel(wide, file)).toThrow(ShapeError);
    expect(() => loadModel(wide, file)).toThrow(/'0\.weight' has shape \[3, 4\] in the file but \[5, 4\] in the model/);
    expect(loadModel(small, file, { strict: false })).toEqual({ missingKeys: [], unexpectedKeys: ['2.bias'] });
    expect([...small.stateDict().get('0.weight')!.toTypedArray()]).toEqual(expected.state['0.weight'].values);
    const bigger = new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2), new ReLU(), new Linear(2, 1));
    expect(loadModel(bigger, file, { strict: false })).toEqual({ missingKeys: ['4.weight', '4.bias'], unexpectedKeys: [] });
  });

  it('loadModel names the file in format errors', () => {
    const file = path.join(dir, 'broken.safetensors');
    writeFileSync(file, fixture('torch_mlp.safetensors').slice(0, 100));
    expect(() => loadModel(mlp(), file)).toThrow(SafetensorsError);
    expect(() => loadModel(mlp(), file)).toThrow(/^loadModel\('.*broken\.safetensors'\): the header length field says/);
  });
});

describe('Keel → PyTorch: the committed Keel-written file', () => {
  // Fixed tensors: the MLP weights come from Keel's own generator (values only Keel knows, which
  // PyTorch then uses for a forward pass), the others have values the Python script knows.
  function keelTensors(): Map<string, Tensor> {
    const g = new Generator(1234);
    return new Map<string, Tensor>([
      ['0.weight', randn([3, 4], { generator: g })],
      ['0.bias', randn([3], { generator: g })],
      ['2.weight', randn([2, 3], { generator: g })],
      ['2.bias', randn([2], { generator: g })],
      ['arange_f64', tensor([0, 1, 2, 3, 4, 5].map((i) => i / 8 - 0.25), [2, 3], { dtype: 'float64' })],
      ['labels_i32', tensor([-2147483648, -1, 0, 7, 2147483647], { dtype: 'int32' })],
      ['scalar_f32', tensor(0.1, [])],
      ['empty_f32', zeros([0, 3])],
      ['ünïcode.név', tensor([1.5])],
    ]);
  }
  const metadata = { format: 'pt', written_by: 'Keel (test/safetensors.test.ts)', 'größe': 'groß ✓' };
  const file = path.join(FIXTURES, 'keel_written.safetensors');

  it('serialization is deterministic and equals the committed file (KEEL_WRITE_FIXTURES=1 rewrites it)', () => {
    const bytes = serializeSafetensors(keelTensors(), metadata);
    expect(serializeSafetensors(keelTensors(), metadata)).toEqual(bytes);
    if (process.env.KEEL_WRITE_FIXTURES === '1') writeFileSync(file, bytes);
    expect(existsSync(file)).toBe(true);
    expect(bytes).toEqual(fixture('keel_written.safetensors'));
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual(metadata);
    for (const [k, t] of keelTensors()) expectSameTensor(back.tensors.get(k), t);
  });

  it('PyTorch verified these exact bytes, and computes Keel’s outputs with Keel’s weights', () => {
    const verified = JSON.parse(readFileSync(path.join(FIXTURES, 'keel_verified.json'), 'utf8')) as {
      sha256: string;
      ok: boolean;
      checks: string[];
      mlp_output: { shape: number[]; values: number[] };
    };
    expect(verified.ok).toBe(true);
    expect(verified.sha256).toBe(createHash('sha256').update(serializeSafetensors(keelTensors(), metadata)).digest('hex'));
    const torchInput = JSON.parse(readFileSync(path.join(FIXTURES, 'torch.json'), 'utf8')) as { input: { shape: number[]; values: number[] } };
    const model = new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2));
    const tensors = keelTensors();
    model.loadStateDict(new Map([...tensors].filter(([k]) => /^[02]\./.test(k))));
    const out = (model.call(tensor(torchInput.input.values, torchInput.input.shape)) as Tensor).toTypedArray();
    expect(out.length).toBe(verified.mlp_output.values.length);
    verified.mlp_output.values.forEach((v, i) => expect(out[i]).toBeCloseTo(v, 5));
  });
});
