import { describe, expect, it } from 'vitest';
import type { DType } from '../src/core/dtype.js';
import { ConfigError, ShapeError } from '../src/core/errors.js';
import { formatTensor } from '../src/tensor/format.js';
import type { FormatOptions, TensorSuffix } from '../src/tensor/format.js';

// Expected strings come from PyTorch 1.13's own printer: `torch._tensor_str._tensor_str(t, 7)` for
// the values and `_add_suffixes` for the suffixes, given Keel's suffix names (`dtype=float64`,
// `dtype=int32`, `requiresGrad=true`, `gradFn=<...>`) so that line wrapping is PyTorch's for these
// names. Where the names agree (float32, no grad), the script also checked `repr(t)` itself.

/** `n` values `f(0), f(1), ...`, built from + - * / % only so Python computes the same doubles. */
function seq(n: number, f: (i: number) => number): number[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

function lines(...rows: string[]): string {
  return rows.join('\n');
}

interface Case {
  name: string;
  values: number[];
  shape: number[];
  suffix: TensorSuffix;
  options?: FormatOptions;
  expected: string;
}

const CASES: Case[] = [
  {
    name: 'float scalar',
    values: [3.5],
    shape: [],
    suffix: { dtype: 'float32' },
    expected: 'tensor(3.5000)',
  },
  {
    name: 'integer-valued float scalar',
    values: [2],
    shape: [],
    suffix: { dtype: 'float32' },
    expected: 'tensor(2.)',
  },
  {
    name: 'negative zero scalar',
    values: [-0],
    shape: [],
    suffix: { dtype: 'float32' },
    expected: 'tensor(-0.)',
  },
  {
    name: 'int32 scalar',
    values: [7],
    shape: [],
    suffix: { dtype: 'int32' },
    expected: 'tensor(7, dtype=int32)',
  },
  {
    name: 'float64 scalar',
    values: [0.3333333333333333],
    shape: [],
    suffix: { dtype: 'float64' },
    expected: 'tensor(0.3333, dtype=float64)',
  },
  {
    name: '1-D integer-valued floats',
    values: [1, 2, 3],
    shape: [3],
    suffix: { dtype: 'float32' },
    expected: 'tensor([1., 2., 3.])',
  },
  {
    name: '1-D int32',
    values: [1, -20, 300],
    shape: [3],
    suffix: { dtype: 'int32' },
    expected: 'tensor([  1, -20, 300], dtype=int32)',
  },
  {
    name: '1-D floats rounded from float32',
    values: [0.1, 0.2, 1.5],
    shape: [3],
    suffix: { dtype: 'float32' },
    expected: 'tensor([0.1000, 0.2000, 1.5000])',
  },
  {
    name: '2-D',
    values: [1, 2, 3, 4],
    shape: [2, 2],
    suffix: { dtype: 'float32' },
    expected: lines(
      'tensor([[1., 2.],',
      '        [3., 4.]])',
    ),
  },
  {
    name: '2-D with negatives',
    values: [-1.5, 2.25, -300.125, 0, 7, -0.5],
    shape: [2, 3],
    suffix: { dtype: 'float32' },
    expected: lines(
      'tensor([[  -1.5000,    2.2500, -300.1250],',
      '        [   0.0000,    7.0000,   -0.5000]])',
    ),
  },
  {
    name: '3-D integer-valued',
    values: seq(24, (i) => i),
    shape: [2, 3, 4],
    suffix: { dtype: 'float32' },
    expected: lines(
      'tensor([[[ 0.,  1.,  2.,  3.],',
      '         [ 4.,  5.,  6.,  7.],',
      '         [ 8.,  9., 10., 11.]],',
      '',
      '        [[12., 13., 14., 15.],',
      '         [16., 17., 18., 19.],',
      '         [20., 21., 22., 23.]]])',
    ),
  },
  {
    name: '3-D fractions',
    values: seq(24, (i) => (i - 11) / 4),
    shape: [2, 3, 4],
    suffix: { dtype: 'float32' },
    expected: lines(
      'tensor([[[-2.7500, -2.5000, -2.2500, -2.0000],',
      '         [-1.7500, -1.5000, -1.2500, -1.0000],',
      '         [-0.7500, -0.5000, -0.2500,  0.0000]],',
      '',
      '        [[ 0.2500,  0.5000,  0.7500,  1.0000],',
      '         [ 1.2500,  1.5000,  1.7500,  2.0000],',
      '         [ 2.2500,  2.5000,  2.7500,  3.0000]]])',
    ),
  },
  {
    name: '4-D int32',
    values: seq(24, (i) => i),
    shape: [2, 1, 3, 4],
    suffix: { dtype: 'int32' },
    expected: lines(
      'tensor([[[[ 0,  1,  2,  3],',
      '          [ 4,  5,  6,  7],',
      '          [ 8,  9, 10, 11]]],',
      '',
      '',
      '        [[[12, 13, 14, 15],',
      '          [16, 17, 18, 19],',
      '          [20, 21, 22, 23]]]], dtype=int32)',
    ),
  },
  {
    name: 'sci: integers spanning more than 1000x',
    values: [1, 100000],
    shape: [2],
    suffix: { dtype: 'float32' },
    expected: 'tensor([1.0000e+00, 1.0000e+05])',
  },
  {
    name: 'sci: integer above 1e8',
    values: [1500000000, -3],
    shape: [2],
    suffix: { dtype: 'float64' },
    expected: 'tensor([ 1.5000e+09, -3.0000e+00], dtype=float64)',
  },
  {
    name: 'sci: fraction below 1e-4',
    values: [5e-05, -2e-05],
    shape: [2],
    suffix: { dtype: 'float32' },
    expected: 'tensor([ 5.0000e-05, -2.0000e-05])',
  },
  {
    name: 'sci: negative tie rounds half to even',
    values: [-300.125, 0.001],
    shape: [2],
    suffix: { dtype: 'float64' },
    expected: 'tensor([-3.0012e+02,  1.0000e-03], dtype=float64)',
  },
  {
    name: 'sci: 3-digit exponents',
    values: [1e-300, 2.5e+300],
    shape: [2],
    suffix: { dtype: 'float64' },
    expected: 'tensor([1.0000e-300, 2.5000e+300], dtype=float64)',
  },
  {
    name: 'no sci: ratio exactly 1000',
    values: [0.001, 1],
    shape: [2],
    suffix: { dtype: 'float64' },
    expected: 'tensor([0.0010, 1.0000], dtype=float64)',
  },
  {
    name: 'nan and inf',
    values: [NaN, Infinity, -Infinity, 1.5, 0],
    shape: [5],
    suffix: { dtype: 'float32' },
    expected: 'tensor([   nan,    inf,   -inf, 1.5000, 0.0000])',
  },
  {
    name: 'nan and inf with integer values',
    values: [NaN, 1, -Infinity, 20],
    shape: [2, 2],
    suffix: { dtype: 'float32' },
    expected: lines(
      'tensor([[nan,  1.],',
      '        [-inf, 20.]])',
    ),
  },
  {
    name: 'nan and inf in sci mode',
    values: [NaN, 1e-05, Infinity, 1],
    shape: [4],
    suffix: { dtype: 'float32' },
    expected: 'tensor([       nan, 1.0000e-05,        inf, 1.0000e+00])',
  },
  {
    name: 'only nan, inf and zeros',
    values: [NaN, Infinity, 0, -0],
    shape: [4],
    suffix: { dtype: 'float32' },
    expected: 'tensor([nan, inf, 0., -0.])',
  },
  {
    name: 'negative zero beside fractions',
    values: [-0, 1.5],
    shape: [2],
    suffix: { dtype: 'float32' },
    expected: 'tensor([-0.0000, 1.5000])',
  },
  {
    name: 'summarized 1-D of 2000',
    values: seq(2000, (i) => ((i * 7919) % 1000 - 500) / 37),
    shape: [2000],
    suffix: { dtype: 'float32' },
    expected: 'tensor([-13.5135,  11.3243,   9.1351,  ...,  -6.9459,  -9.1351, -11.3243])',
  },
  {
    name: 'summarized 100x100',
    values: seq(10000, (i) => ((i * 37) % 1000) / 7 - 50),
    shape: [100, 100],
    suffix: { dtype: 'float32' },
    expected: lines(
      'tensor([[-50.0000, -44.7143, -39.4286,  ...,  34.1429,  39.4286,  44.7143],',
      '        [ 50.0000,  55.2857,  60.5714,  ...,  -8.7143,  -3.4286,   1.8571],',
      '        [  7.1429,  12.4286,  17.7143,  ...,  91.2857, -46.2857, -41.0000],',
      '        ...,',
      '        [ 78.5714,  83.8571,  89.1429,  ...,  19.8571,  25.1429,  30.4286],',
      '        [ 35.7143,  41.0000,  46.2857,  ..., -23.0000, -17.7143, -12.4286],',
      '        [ -7.1429,  -1.8571,   3.4286,  ...,  77.0000,  82.2857,  87.5714]])',
    ),
  },
  {
    name: 'summarized 3-D int32',
    values: seq(2000, (i) => i - 1000),
    shape: [20, 10, 10],
    suffix: { dtype: 'int32' },
    expected: lines(
      'tensor([[[-1000,  -999,  -998,  ...,  -993,  -992,  -991],',
      '         [ -990,  -989,  -988,  ...,  -983,  -982,  -981],',
      '         [ -980,  -979,  -978,  ...,  -973,  -972,  -971],',
      '         ...,',
      '         [ -930,  -929,  -928,  ...,  -923,  -922,  -921],',
      '         [ -920,  -919,  -918,  ...,  -913,  -912,  -911],',
      '         [ -910,  -909,  -908,  ...,  -903,  -902,  -901]],',
      '',
      '        [[ -900,  -899,  -898,  ...,  -893,  -892,  -891],',
      '         [ -890,  -889,  -888,  ...,  -883,  -882,  -881],',
      '         [ -880,  -879,  -878,  ...,  -873,  -872,  -871],',
      '         ...,',
      '         [ -830,  -829,  -828,  ...,  -823,  -822,  -821],',
      '         [ -820,  -819,  -818,  ...,  -813,  -812,  -811],',
      '         [ -810,  -809,  -808,  ...,  -803,  -802,  -801]],',
      '',
      '        [[ -800,  -799,  -798,  ...,  -793,  -792,  -791],',
      '         [ -790,  -789,  -788,  ...,  -783,  -782,  -781],',
      '         [ -780,  -779,  -778,  ...,  -773,  -772,  -771],',
      '         ...,',
      '         [ -730,  -729,  -728,  ...,  -723,  -722,  -721],',
      '         [ -720,  -719,  -718,  ...,  -713,  -712,  -711],',
      '         [ -710,  -709,  -708,  ...,  -703,  -702,  -701]],',
      '',
      '        ...,',
      '',
      '        [[  700,   701,   702,  ...,   707,   708,   709],',
      '         [  710,   711,   712,  ...,   717,   718,   719],',
      '         [  720,   721,   722,  ...,   727,   728,   729],',
      '         ...,',
      '         [  770,   771,   772,  ...,   777,   778,   779],',
      '         [  780,   781,   782,  ...,   787,   788,   789],',
      '         [  790,   791,   792,  ...,   797,   798,   799]],',
      '',
      '        [[  800,   801,   802,  ...,   807,   808,   809],',
      '         [  810,   811,   812,  ...,   817,   818,   819],',
      '         [  820,   821,   822,  ...,   827,   828,   829],',
      '         ...,',
      '         [  870,   871,   872,  ...,   877,   878,   879],',
      '         [  880,   881,   882,  ...,   887,   888,   889],',
      '         [  890,   891,   892,  ...,   897,   898,   899]],',
      '',
      '        [[  900,   901,   902,  ...,   907,   908,   909],',
      '         [  910,   911,   912,  ...,   917,   918,   919],',
      '         [  920,   921,   922,  ...,   927,   928,   929],',
      '         ...,',
      '         [  970,   971,   972,  ...,   977,   978,   979],',
      '         [  980,   981,   982,  ...,   987,   988,   989],',
      '         [  990,   991,   992,  ...,   997,   998,   999]]], dtype=int32)',
    ),
  },
  {
    name: 'summarized with short dimensions kept whole',
    values: seq(2000, (i) => ((i * 7919) % 1999 - 999) / 37),
    shape: [2, 1000],
    suffix: { dtype: 'float32' },
    expected: lines(
      'tensor([[-27.0000,  24.9459,  22.8649,  ...,   5.2162,   3.1351,   1.0541],',
      '        [ -1.0270,  -3.1081,  -5.1892,  ..., -22.8378, -24.9189, -27.0000]])',
    ),
  },
  {
    name: 'float64 suffix',
    values: [1.25, -2],
    shape: [2],
    suffix: { dtype: 'float64' },
    expected: 'tensor([ 1.2500, -2.0000], dtype=float64)',
  },
  {
    name: 'requiresGrad suffix',
    values: [1, 2],
    shape: [2],
    suffix: { dtype: 'float32', requiresGrad: true },
    expected: 'tensor([1., 2.], requiresGrad=true)',
  },
  {
    name: 'gradFn suffix',
    values: [0.5, 2],
    shape: [2],
    suffix: { dtype: 'float32', requiresGrad: true, gradFn: 'MulBackward' },
    expected: 'tensor([0.5000, 2.0000], gradFn=<MulBackward>)',
  },
  {
    name: 'gradFn after dtype',
    values: [1, 2, 3, 4],
    shape: [2, 2],
    suffix: { dtype: 'float64', requiresGrad: true, gradFn: 'AddmmBackward' },
    expected: lines(
      'tensor([[1., 2.],',
      '        [3., 4.]], dtype=float64, gradFn=<AddmmBackward>)',
    ),
  },
  {
    name: 'suffixes wrap past the line width',
    values: seq(18, (i) => i / 3),
    shape: [18],
    suffix: { dtype: 'float64', requiresGrad: true, gradFn: 'MulBackward' },
    expected: lines(
      'tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333, 2.6667,',
      '        3.0000, 3.3333, 3.6667, 4.0000, 4.3333, 4.6667, 5.0000, 5.3333, 5.6667],',
      '       dtype=float64, gradFn=<MulBackward>)',
    ),
  },
  {
    name: 'empty 1-D',
    values: [],
    shape: [0],
    suffix: { dtype: 'float32' },
    expected: 'tensor([])',
  },
  {
    name: 'empty 2-D',
    values: [],
    shape: [0, 3],
    suffix: { dtype: 'float32' },
    expected: 'tensor([], size=(0, 3))',
  },
  {
    name: 'empty int32',
    values: [],
    shape: [0],
    suffix: { dtype: 'int32' },
    expected: 'tensor([], dtype=int32)',
  },
  {
    name: 'empty 3-D float64 with gradFn',
    values: [],
    shape: [2, 0, 3],
    suffix: { dtype: 'float64', requiresGrad: true, gradFn: 'ViewBackward' },
    expected: 'tensor([], size=(2, 0, 3), dtype=float64, gradFn=<ViewBackward>)',
  },
  {
    name: 'long row wraps',
    values: seq(30, (i) => i * 1.5 - 7),
    shape: [30],
    suffix: { dtype: 'float32' },
    expected: lines(
      'tensor([-7.0000, -5.5000, -4.0000, -2.5000, -1.0000,  0.5000,  2.0000,  3.5000,',
      '         5.0000,  6.5000,  8.0000,  9.5000, 11.0000, 12.5000, 14.0000, 15.5000,',
      '        17.0000, 18.5000, 20.0000, 21.5000, 23.0000, 24.5000, 26.0000, 27.5000,',
      '        29.0000, 30.5000, 32.0000, 33.5000, 35.0000, 36.5000])',
    ),
  },
  {
    name: 'long int32 row wraps',
    values: seq(40, (i) => i * i),
    shape: [40],
    suffix: { dtype: 'int32' },
    expected: lines(
      'tensor([   0,    1,    4,    9,   16,   25,   36,   49,   64,   81,  100,  121,',
      '         144,  169,  196,  225,  256,  289,  324,  361,  400,  441,  484,  529,',
      '         576,  625,  676,  729,  784,  841,  900,  961, 1024, 1089, 1156, 1225,',
      '        1296, 1369, 1444, 1521], dtype=int32)',
    ),
  },
  {
    name: 'rows of a matrix wrap',
    values: seq(30, (i) => i * 1.5 - 7),
    shape: [2, 15],
    suffix: { dtype: 'float32' },
    options: { lineWidth: 40 },
    expected: lines(
      'tensor([[-7.0000, -5.5000, -4.0000,',
      '         -2.5000, -1.0000,  0.5000,',
      '          2.0000,  3.5000,  5.0000,',
      '          6.5000,  8.0000,  9.5000,',
      '         11.0000, 12.5000, 14.0000],',
      '        [15.5000, 17.0000, 18.5000,',
      '         20.0000, 21.5000, 23.0000,',
      '         24.5000, 26.0000, 27.5000,',
      '         29.0000, 30.5000, 32.0000,',
      '         33.5000, 35.0000, 36.5000]])',
    ),
  },
  {
    name: 'precision 2',
    values: [0.3333333333333333, -0.6666666666666666, 10],
    shape: [3],
    suffix: { dtype: 'float32' },
    options: { precision: 2 },
    expected: 'tensor([ 0.33, -0.67, 10.00])',
  },
  {
    name: 'ties round half to even',
    values: [0.125, 0.375, -0.625, 2.5],
    shape: [4],
    suffix: { dtype: 'float64' },
    options: { precision: 2 },
    expected: 'tensor([ 0.12,  0.38, -0.62,  2.50], dtype=float64)',
  },
  {
    name: 'precision 0 prints no point',
    values: [2.5, 0.5, -1.5],
    shape: [3],
    suffix: { dtype: 'float64' },
    options: { precision: 0 },
    expected: 'tensor([ 2,  0, -2], dtype=float64)',
  },
  {
    name: 'sciMode forced on',
    values: [1, 2.5],
    shape: [2],
    suffix: { dtype: 'float32' },
    options: { sciMode: true },
    expected: 'tensor([1.0000e+00, 2.5000e+00])',
  },
  {
    name: 'sciMode forced off',
    values: [1e-05, 1],
    shape: [2],
    suffix: { dtype: 'float32' },
    options: { sciMode: false },
    expected: 'tensor([    0.0000,     1.0000])',
  },
  {
    name: 'sciMode forced off with huge integers',
    values: [10000000000, 1],
    shape: [2],
    suffix: { dtype: 'float64' },
    options: { sciMode: false },
    expected: 'tensor([10000000000.,         1.], dtype=float64)',
  },
  {
    name: 'sciMode ignored without finite nonzero values',
    values: [0, NaN],
    shape: [2],
    suffix: { dtype: 'float32' },
    options: { sciMode: true },
    expected: 'tensor([0., nan])',
  },
  {
    name: 'threshold and edgeItems',
    values: seq(24, (i) => i),
    shape: [24],
    suffix: { dtype: 'int32' },
    options: { threshold: 5, edgeItems: 2 },
    expected: 'tensor([ 0,  1,  ..., 22, 23], dtype=int32)',
  },
  {
    name: 'threshold summarizes every long dimension',
    values: seq(24, (i) => i),
    shape: [6, 4],
    suffix: { dtype: 'float32' },
    options: { threshold: 10, edgeItems: 1 },
    expected: lines(
      'tensor([[ 0.,  ...,  3.],',
      '        ...,',
      '        [20.,  ..., 23.]])',
    ),
  },
];

describe('formatTensor', () => {
  it.each(CASES)('matches PyTorch: $name', ({ values, shape, suffix, options, expected }) => {
    expect(formatTensor(values, shape, suffix, options)).toBe(expected);
  });

  it('reads float32 values as float32 even when given unrounded doubles', () => {
    const values = [0.1, 1 / 3];
    // PyTorch: torch.tensor([0.1, 1/3]) with precision=10, in float32 and float64.
    expect(formatTensor(values, [2], { dtype: 'float32' }, { precision: 10 })).toBe(
      'tensor([0.1000000015, 0.3333333433])',
    );
    expect(formatTensor(values, [2], { dtype: 'float64' }, { precision: 10 })).toBe(
      'tensor([0.1000000000, 0.3333333333], dtype=float64)',
    );
    // 2^24 + 1 is not a float32; it rounds to 2^24.
    expect(formatTensor([16777217, 3], [2], { dtype: 'float32' })).toBe('tensor([1.6777e+07, 3.0000e+00])');
  });

  it('reads int32 values as an Int32Array stores them', () => {
    expect(formatTensor([1.7, -2.5], [2], { dtype: 'int32' })).toBe('tensor([ 1, -2], dtype=int32)');
  });

  it('accepts typed arrays', () => {
    const dtypes: [DType, Float32Array | Float64Array | Int32Array][] = [
      ['float32', new Float32Array([1, 2, 3, 4])],
      ['float64', new Float64Array([1, 2, 3, 4])],
      ['int32', new Int32Array([1, 2, 3, 4])],
    ];
    for (const [dtype, data] of dtypes)
      expect(formatTensor(data, [2, 2], { dtype })).toBe(formatTensor([1, 2, 3, 4], [2, 2], { dtype }));
  });

  it('never summarizes with threshold Infinity', () => {
    const text = formatTensor(new Float32Array(2000).fill(1), [2000], { dtype: 'float32' }, { threshold: Infinity });
    expect(text).not.toContain('...');
    expect(text.match(/1\./g)).toHaveLength(2000);
  });

  it('shows only the ellipsis with edgeItems 0, as PyTorch >= 2.1 does', () => {
    // PyTorch 1.13 mishandles edgeitems=0 (`t[-0:]` is the whole tensor); 2.1 prints `tensor([...])`.
    const opts = { threshold: 5, edgeItems: 0 };
    expect(formatTensor(seq(10, (i) => i), [10], { dtype: 'float32' }, opts)).toBe('tensor([...])');
    expect(formatTensor(seq(24, (i) => i), [2, 3, 4], { dtype: 'int32' }, opts)).toBe('tensor([...], dtype=int32)');
    expect(formatTensor([2.5], [], { dtype: 'float32' }, { threshold: 0, edgeItems: 0 })).toBe('tensor(2.5000)');
  });

  it('rejects values that do not fill the shape', () => {
    expect(() => formatTensor([1, 2, 3], [2, 2], { dtype: 'float32' })).toThrow(ShapeError);
    expect(() => formatTensor([1, 2, 3], [2, 2], { dtype: 'float32' })).toThrow(
      /3 elements but shape \[2, 2\] needs 4/,
    );
    expect(() => formatTensor([1, 2], [-1, -2], { dtype: 'float32' })).toThrow(ShapeError);
  });

  it('rejects invalid options, naming the option', () => {
    const bad: [FormatOptions, RegExp][] = [
      [{ precision: -1 }, /options\.precision is -1/],
      [{ edgeItems: 1.5 }, /options\.edgeItems is 1\.5/],
      [{ lineWidth: 0 }, /options\.lineWidth is 0/],
      [{ threshold: NaN }, /options\.threshold is NaN/],
    ];
    for (const [options, message] of bad) {
      expect(() => formatTensor([1], [1], { dtype: 'float32' }, options)).toThrow(ConfigError);
      expect(() => formatTensor([1], [1], { dtype: 'float32' }, options)).toThrow(message);
    }
  });
});
