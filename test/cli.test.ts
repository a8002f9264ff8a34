import { describe, expect, it } from 'vitest';
import { helpText, parseFlags } from '../src/cli/args.js';
import { TRAIN_FLAGS } from '../src/cli/train.js';

describe('keel command-line flags', () => {
  it('parses values, = forms, booleans and defaults', () => {
    const f = parseFlags(['--epochs', '3', '--lr=0.01', '--optimizer', 'sgd', '--quiet'], TRAIN_FLAGS);
    expect(f.epochs).toBe(3);
    expect(f.lr).toBe(0.01);
    expect(f.optimizer).toBe('sgd');
    expect(f.quiet).toBe(true);
    expect(f['clip-norm']).toBe(1);
    expect(f.init).toBe('he');
    expect(parseFlags(['--no-quiet'], TRAIN_FLAGS).quiet).toBe(false);
  });

  it('explains bad flags', () => {
    expect(() => parseFlags(['--epoch', '3'], TRAIN_FLAGS)).toThrow("keel: unknown flag '--epoch' (did you mean --epochs?); see keel --help");
    expect(() => parseFlags(['--epochs', 'three'], TRAIN_FLAGS)).toThrow("keel: --epochs must be a number (got 'three')");
    expect(() => parseFlags(['--optimizer', 'lion'], TRAIN_FLAGS)).toThrow("keel: --optimizer must be one of adam, sgd, adamw, rmsprop, adagrad (got 'lion')");
    expect(() => parseFlags(['--lr'], TRAIN_FLAGS)).toThrow(/keel: --lr needs a value/);
    expect(() => parseFlags(['train'], TRAIN_FLAGS)).toThrow(/unexpected argument 'train'/);
  });

  it('lists every flag in the help', () => {
    const text = helpText('Usage: keel', TRAIN_FLAGS);
    for (const f of TRAIN_FLAGS) expect(text).toContain(`--${f.name}`);
  });
});
