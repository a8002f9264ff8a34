import { ConfigError, ShapeError, fmtShape } from '../core/errors.js';
import type { Generator, GeneratorState } from '../core/random.js';
import { shapesEqual } from '../core/shape.js';
import type { LoadResult, Module } from '../nn/module.js';
import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { readFileBytes, writeFileAtomic } from './files.js';
import { SafetensorsError, decodeSafetensors, serializeSafetensors } from './safetensors.js';

/**
 * Model weights and training checkpoints as safetensors files.
 *
 * - {@link saveModel} / {@link loadModel}: a model's state dict under PyTorch's names (`0.weight`,
 *   `fc1.bias`, with PyTorch's layouts), the same file `safetensors.torch.save_model` writes, so
 *   weights move between Keel and PyTorch both ways.
 * - {@link saveCheckpoint} / {@link loadCheckpoint}: one safetensors file with everything needed
 *   to resume training: the model's tensors under `model.<name>`, the optimizer's state tensors
 *   under `optimizer.<path>`, and as JSON in the metadata the rest of the optimizer state
 *   (hyperparameters, step counts), the generator state, the epoch and any extra values.
 *
 * Files are written atomically (temporary file, fsync, rename): a crash never leaves a half-written
 * file under the final name. Loading validates the whole file before anything is changed.
 */

/** Something with a state dict, as a PyTorch optimizer: Keel's optimizers and schedules qualify. */
export interface Stateful {
  /** A JSON-like snapshot (objects, arrays, Maps, numbers, strings, booleans, null) that may hold tensors. */
  stateDict(): unknown;
  /** Restores a snapshot that `stateDict` returned. */
  loadStateDict(state: unknown): void;
}

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /**
   * Strings stored in the file's `__metadata__`, after `format: 'pt'` (which Hugging Face
   * loaders look for: the tensors follow PyTorch's names and layouts).
   */
  metadata?: Record<string, string>;
}

/** Options of {@link loadModel} and {@link loadCheckpoint}. */
export interface LoadModelOptions {
  /** Every key must match, with no missing or extra ones (default true, as PyTorch). */
  strict?: boolean;
}

/** What {@link saveCheckpoint} stores. */
export interface CheckpointState {
  /** The model: its whole state dict (parameters and buffers). */
  model: Module;
  /** The optimizer (or any object with `stateDict`/`loadStateDict`, e.g. a schedule). */
  optimizer?: Stateful;
  /** A random generator whose stream resumes exactly where it was (e.g. the data shuffler's). */
  generator?: Generator;
  /** The epoch just finished (or any counter): a finite number. */
  epoch?: number;
  /** Any other JSON-like values (they may contain tensors), returned by `loadCheckpoint`. */
  extra?: unknown;
}

/** Where {@link loadCheckpoint} restores to. */
export interface CheckpointTargets extends LoadModelOptions {
  /** Receives the model state. */
  model: Module;
  /** Receives the optimizer state; the checkpoint must have one. */
  optimizer?: Stateful;
  /** Receives the generator state; the checkpoint must have one. */
  generator?: Generator;
}

/** What {@link loadCheckpoint} returns besides restoring the targets. */
export interface CheckpointInfo extends LoadResult {
  /** The saved epoch, or undefined when none was saved. */
  epoch: number | undefined;
  /** The saved `extra` value (undefined when none was saved). */
  extra: unknown;
}

const VERSION_KEY = 'keel.checkpoint';
const VERSION = '1';
const EPOCH_KEY = 'keel.epoch';
const GENERATOR_KEY = 'keel.generator';
const OPTIMIZER_KEY = 'keel.optimizer';
const EXTRA_KEY = 'keel.extra';
const PREFIXES = ['model', 'optimizer', 'extra'] as const;

// ---------------------------------------------------------------------------------------------
// Model weights

/**
 * Writes `model.stateDict()` to a safetensors file at `path`, atomically, as
 * `safetensors.torch.save_model(model, path)`: a Keel `Linear`'s `fc1.weight` `[out, in]` is
 * exactly PyTorch's, so PyTorch reads the file with `load_model` or `load_file`. Node.js only;
 * elsewhere use `serializeSafetensors(model.stateDict())`.
 */
export function saveModel(model: Module, path: string, options?: SaveModelOptions): void {
  checkModule('saveModel', model);
  writeFileAtomic(path, serializeSafetensors(model.stateDict(), { format: 'pt', ...options?.metadata }));
}

/**
 * Loads a safetensors file at `path` into `model`, as `safetensors.torch.load_model(model, path)`:
 * the file is read and validated completely, then names and shapes are checked against the model
 * (with `strict`, the default, a missing or unexpected name is an error), and only then are the
 * values copied in (converting dtype, e.g. F64 into float32 parameters). Returns the keys that did
 * not match (empty with `strict`). Node.js only; elsewhere use
 * `model.loadStateDict(parseSafetensors(bytes))`.
 */
export function loadModel(model: Module, path: string, options?: LoadModelOptions): LoadResult {
  const fn = 'loadModel';
  checkModule(fn, model);
  const strict = options?.strict ?? true;
  const { tensors } = withLabel(`${fn}('${path}')`, () => decodeSafetensors(readFileBytes(path)));
  try {
    const result = checkModelState(`${fn}('${path}')`, model, tensors, strict);
    model.loadStateDict(tensors, { strict });
    return result;
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

/** Runs `body`, replacing the function name that starts a format error's message with `label` (which names the file). */
function withLabel<T>(label: string, body: () => T): T {
  try {
    return body();
  } catch (e) {
    if (e instanceof SafetensorsError) throw new SafetensorsError(e.message.replace(/^[A-Za-z]+:/, `${label}:`));
    throw e;
  }
}

function checkModule(fn: string, model: unknown): void {
  if (model === null || typeof model !== 'object' || typeof (model as Module).stateDict !== 'function')
    throw new ConfigError(`${fn}: model must be a Module (got ${model === null ? 'null' : typeof model})`);
}

/** Checks names and shapes as `Module.loadStateDict` does, without copying anything. */
function checkModelState(label: string, model: Module, given: ReadonlyMap<string, Tensor>, strict: boolean): LoadResult {
  const own = model.stateDict();
  const missingKeys = [...own.keys()].filter((k) => !given.has(k));
  const unexpectedKeys = [...given.keys()].filter((k) => !own.has(k));
  for (const [key, target] of own) {
    const t = given.get(key);
    if (t !== undefined && !shapesEqual(target.shape, t.shape))
      throw new ShapeError(`${label}: '${key}' has shape ${fmtShape(t.shape)} in the file but ${fmtShape(target.shape)} in the model`);
  }
  if (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0))
    throw new ConfigError(
      `${label}: the file's tensors do not match the model's state dict` +
        (missingKeys.length > 0 ? `; missing from the file: ${missingKeys.join(', ')}` : '') +
        (unexpectedKeys.length > 0 ? `; not in the model: ${unexpectedKeys.join(', ')}` : '') +
        ' (pass { strict: false } to load the names that match)',
    );
  for (const t of own.values()) t.dispose();
  return { missingKeys, unexpectedKeys };
}

// ---------------------------------------------------------------------------------------------
// JSON with tensors: optimizer state and extra values

/** JSON as stored in the metadata. */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Encodes a JSON-like value for the metadata, moving every tensor into `tensors` under a name
 * built from its path (`optimizer.state.0.exp_avg`) and leaving `{"$keel": "tensor", "name"}` in
 * its place. Values JSON cannot hold exactly are tagged: NaN, ±Infinity, −0, undefined, bigint,
 * Map; a plain object that has its own `$keel` key is tagged too, so decoding is unambiguous. A
 * tensor reached twice is stored once, and decodes to one tensor again. A parameter of the model
 * (an optimizer state that holds the parameters themselves, or a Map keyed by them) is stored as
 * `{"$keel": "parameter", "name": "0.weight"}` and decodes to the model's own parameter.
 */
class Encoder {
  readonly tensors = new Map<string, Tensor>();
  private readonly names = new Map<Tensor, string>();
  private readonly stack = new Set<object>();

  constructor(
    private readonly fn: string,
    private readonly params: ReadonlyMap<Tensor, string> = new Map(),
  ) {}

  encode(v: unknown, path: string[]): Json {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') {
      if (Number.isFinite(v) && !Object.is(v, -0)) return v;
      return { $keel: 'number', value: Object.is(v, -0) ? '-0' : String(v) };
    }
    if (v === undefined) return { $keel: 'undefined' };
    if (typeof v === 'bigint') return { $keel: 'bigint', value: v.toString() };
    if (v instanceof Tensor) {
      const param = this.params.get(v);
      if (param !== undefined) return { $keel: 'parameter', name: param };
      return { $keel: 'tensor', name: this.tensorName(v, path) };
    }
    if (typeof v !== 'object')
      throw new ConfigError(`${this.fn}: cannot store ${typeof v} at '${path.join('.')}' (state must be JSON-like values and tensors)`);
    if (this.stack.has(v)) throw new ConfigError(`${this.fn}: the state has a cycle at '${path.join('.')}'`);
    this.stack.add(v);
    try {
      if (Array.isArray(v)) return Array.from(v, (x, i) => this.encode(x, [...path, String(i)]));
      if (v instanceof Map)
        return { $keel: 'map', entries: [...v].map(([k, x]) => [this.encode(k, [...path, 'key']), this.encode(x, [...path, String(k)])]) };
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null)
        throw new ConfigError(
          `${this.fn}: cannot store a ${(v as object).constructor?.name ?? 'class instance'} at '${path.join('.')}' (state must be plain objects, arrays, Maps, numbers, strings, booleans, null and tensors)`,
        );
      const entries = Object.entries(v as Record<string, unknown>);
      if (Object.hasOwn(v, '$keel')) return { $keel: 'object', entries: entries.map(([k, x]) => [k, this.encode(x, [...path, k])]) };
      return Object.fromEntries(entries.map(([k, x]) => [k, this.encode(x, [...path, k])]));
    } finally {
      this.stack.delete(v);
    }
  }

  private tensorName(t: Tensor, path: string[]): string {
    const known = this.names.get(t);
    if (known !== undefined) return known;
    t.assertLive(`${this.fn} ('${path.join('.')}')`);
    const base = path.join('.');
    let name = base;
    for (let k = 2; this.tensors.has(name); k++) name = `${base}~${k}`;
    this.names.set(t, name);
    this.tensors.set(name, t);
    return name;
  }
}

/** Where {@link decodeJson} resolves references. */
interface DecodeContext {
  /** The file's tensors of this section; those referenced are added to `used`. */
  tensors: ReadonlyMap<string, Tensor>;
  used: Set<string>;
  /** The model's parameters by name. */
  params: ReadonlyMap<string, Tensor>;
  fail: (what: string) => never;
}

/** Decodes what {@link Encoder} wrote. */
function decodeJson(v: Json, ctx: DecodeContext): unknown {
  const { tensors, used, fail } = ctx;
  const rec = (x: Json): unknown => decodeJson(x, ctx);
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(rec);
  if (!Object.hasOwn(v, '$keel')) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rec(x)]));
  const tag = v.$keel;
  switch (tag) {
    case 'tensor': {
      const name = v.name;
      const t = typeof name === 'string' ? tensors.get(name) : undefined;
      if (t === undefined) return fail(`the state refers to a tensor ${JSON.stringify(name)} that is not in the file`);
      used.add(name as string);
      return t;
    }
    case 'parameter': {
      const p = typeof v.name === 'string' ? ctx.params.get(v.name) : undefined;
      return p ?? fail(`the state refers to a model parameter ${JSON.stringify(v.name)} that the model does not have`);
    }
    case 'number': {
      const value = { NaN: Number.NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 }[String(v.value)];
      return value ?? fail(`bad tagged number ${JSON.stringify(v.value)}`);
    }
    case 'undefined':
      return undefined;
    case 'bigint':
      if (typeof v.value !== 'string' || !/^-?\d+$/.test(v.value)) return fail(`bad tagged bigint ${JSON.stringify(v.value)}`);
      return BigInt(v.value);
    case 'map':
      return new Map(pairs(v.entries, fail).map(([k, x]) => [rec(k), rec(x)]));
    case 'object':
      return Object.fromEntries(
        pairs(v.entries, fail).map(([k, x]) => {
          if (typeof k !== 'string') fail(`bad tagged object key ${JSON.stringify(k)}`);
          return [k, rec(x)];
        }),
      );
    default:
      return fail(`unknown tag $keel: ${JSON.stringify(tag)}`);
  }
}

function pairs(entries: Json | undefined, fail: (what: string) => never): [Json, Json][] {
  if (!Array.isArray(entries) || !entries.every((e) => Array.isArray(e) && e.length === 2)) return fail('bad tagged entries (expected [key, value] pairs)');
  return entries as [Json, Json][];
}

// ---------------------------------------------------------------------------------------------
// Checkpoints

/**
 * Encodes a checkpoint as safetensors bytes (what {@link saveCheckpoint} writes); works in
 * browsers too. See {@link saveCheckpoint} for the layout.
 */
export function serializeCheckpoint(state: CheckpointState): Uint8Array {
  return encodeCheckpoint('serializeCheckpoint', state);
}

function encodeCheckpoint(fn: string, state: CheckpointState): Uint8Array {
  if (state === null || typeof state !== 'object') throw new ConfigError(`${fn}: expected { model, optimizer?, generator?, epoch?, extra? }`);
  const { model, optimizer, generator, epoch, extra } = state;
  checkModule(fn, model);
  if (epoch !== undefined && (typeof epoch !== 'number' || !Number.isFinite(epoch)))
    throw new ConfigError(`${fn}: epoch must be a finite number (got ${String(epoch)})`);
  if (optimizer !== undefined && (typeof optimizer?.stateDict !== 'function' || typeof optimizer.loadStateDict !== 'function'))
    throw new ConfigError(`${fn}: optimizer must have stateDict() and loadStateDict() methods`);
  if (generator !== undefined && typeof generator?.getState !== 'function')
    throw new ConfigError(`${fn}: generator must be a Generator (with getState())`);
  const tensors = new Map<string, Tensor>();
  for (const [name, t] of model.stateDict()) tensors.set(`model.${name}`, t);
  const metadata: Record<string, string> = { [VERSION_KEY]: VERSION };
  if (epoch !== undefined) metadata[EPOCH_KEY] = JSON.stringify(epoch);
  if (generator !== undefined) metadata[GENERATOR_KEY] = JSON.stringify(new Encoder(fn).encode(generator.getState(), ['generator']));
  const params = new Map([...model.namedParameters()].map(([name, p]) => [p, name]));
  for (const [key, prefix, value, present] of [
    [OPTIMIZER_KEY, 'optimizer', optimizer === undefined ? undefined : optimizer.stateDict(), optimizer !== undefined],
    [EXTRA_KEY, 'extra', extra, extra !== undefined],
  ] as const) {
    if (!present) continue;
    const enc = new Encoder(fn, params);
    metadata[key] = JSON.stringify(enc.encode(value, [prefix]));
    for (const [name, t] of enc.tensors) tensors.set(name, t);
  }
  return serializeSafetensors(tensors, metadata);
}

/**
 * Saves everything needed to resume training into ONE safetensors file at `path`, atomically
 * (temporary file in the same directory, fsync, rename: a crash midway leaves the previous file
 * intact). Layout: the model's state dict under `model.<name>`; tensors in the optimizer's state
 * dict under `optimizer.<path>` (e.g. `optimizer.state.0.exp_avg`) and tensors in `extra` under
 * `extra.<path>`; in `__metadata__` as JSON strings: `keel.checkpoint` (format version),
 * `keel.epoch`, `keel.generator` (the generator's state), `keel.optimizer` (the optimizer's state
 * dict with tensors replaced by references: hyperparameters, step counts) and `keel.extra`.
 * Node.js only; elsewhere use {@link serializeCheckpoint}.
 *
 * @example saveCheckpoint('ckpt.safetensors', { model, optimizer, generator: loader.generator, epoch });
 */
export function saveCheckpoint(path: string, state: CheckpointState): void {
  writeFileAtomic(path, encodeCheckpoint('saveCheckpoint', state));
}

/**
 * Restores a checkpoint from bytes (what {@link loadCheckpoint} does after reading the file);
 * works in browsers too.
 */
export function restoreCheckpoint(bytes: Uint8Array | ArrayBuffer, targets: CheckpointTargets): CheckpointInfo {
  return restore('restoreCheckpoint', 'restoreCheckpoint', () => bytes, targets);
}

/**
 * Restores a checkpoint written by {@link saveCheckpoint} into the model (and optimizer and
 * generator when given), and returns the saved epoch and extra values. The whole file is read and
 * validated first (format, every tensor, the JSON, the model's names and shapes, references to
 * tensors): a truncated or corrupt file is a `SafetensorsError` and leaves every target unchanged.
 * The optimizer's `loadStateDict` runs first (it may reject the state), then the model's, then
 * the generator's. Node.js only; elsewhere use {@link restoreCheckpoint}.
 *
 * @example const { epoch } = loadCheckpoint('ckpt.safetensors', { model, optimizer, generator });
 */
export function loadCheckpoint(path: string, targets: CheckpointTargets): CheckpointInfo {
  return restore('loadCheckpoint', `loadCheckpoint('${path}')`, () => readFileBytes(path), targets);
}

function restore(fn: string, label: string, read: () => Uint8Array | ArrayBuffer, targets: CheckpointTargets): CheckpointInfo {
  if (targets === null || typeof targets !== 'object') throw new ConfigError(`${fn}: expected { model, optimizer?, generator? }`);
  const { model, optimizer, generator } = targets;
  const strict = targets.strict ?? true;
  checkModule(fn, model);
  const fail = (what: string): never => {
    throw new SafetensorsError(`${label}: ${what}`);
  };
  const { tensors, metadata } = withLabel(label, () => decodeSafetensors(read()));
  let optimizerTookState = false;
  try {
    const meta = metadata ?? {};
    const version = meta[VERSION_KEY];
    if (version === undefined)
      fail(`this is not a Keel checkpoint (no '${VERSION_KEY}' in its metadata); to load a model's weights from a plain safetensors file use loadModel`);
    if (version !== VERSION) fail(`checkpoint format version '${version}' is not supported (this Keel reads version ${VERSION})`);
    const json = (key: string): Json | undefined => {
      const text = meta[key];
      if (text === undefined) return undefined;
      try {
        return JSON.parse(text) as Json;
      } catch (e) {
        return fail(`the metadata '${key}' is not valid JSON (${(e as Error).message}); the file is corrupt`);
      }
    };
    // Sort the tensors by section.
    const sections = new Map<string, Map<string, Tensor>>(PREFIXES.map((p) => [p, new Map()]));
    for (const [name, t] of tensors) {
      const dot = name.indexOf('.');
      const section = sections.get(dot < 0 ? name : name.slice(0, dot));
      if (section === undefined) fail(`the tensor '${name}' belongs to no section (expected names starting with ${PREFIXES.map((p) => `'${p}.'`).join(', ')})`);
      section!.set(name, t);
    }
    const modelState = new Map([...sections.get('model')!].map(([k, t]) => [k.slice('model.'.length), t]));

    const epochJson = json(EPOCH_KEY);
    if (epochJson !== undefined && (typeof epochJson !== 'number' || !Number.isFinite(epochJson)))
      fail(`the metadata '${EPOCH_KEY}' must be a finite number (got ${JSON.stringify(epochJson)})`);
    const epoch = epochJson as number | undefined;

    const params = new Map(model.namedParameters());
    const sectionValue = (key: string, prefix: string): unknown => {
      const raw = json(key);
      const section = sections.get(prefix)!;
      const used = new Set<string>();
      const value = raw === undefined ? undefined : decodeJson(raw, { tensors: section, used, params, fail: (what) => fail(`in '${key}': ${what}`) });
      const unused = [...section.keys()].filter((k) => !used.has(k));
      if (unused.length > 0) fail(`the tensors ${unused.map((k) => `'${k}'`).join(', ')} are not referenced by the metadata '${key}' (the file is corrupt)`);
      return value;
    };
    const extra = sectionValue(EXTRA_KEY, 'extra');
    const optimizerState = sectionValue(OPTIMIZER_KEY, 'optimizer');
    if (optimizer !== undefined && meta[OPTIMIZER_KEY] === undefined)
      fail(`an optimizer was given but the checkpoint has no optimizer state (it was saved without one); omit the optimizer to load the rest`);

    let generatorState: GeneratorState | undefined;
    if (generator !== undefined) {
      if (meta[GENERATOR_KEY] === undefined)
        fail(`a generator was given but the checkpoint has no generator state (it was saved without one); omit the generator to load the rest`);
      const ctx = { tensors: new Map(), used: new Set<string>(), params: new Map(), fail: (what: string) => fail(`in '${GENERATOR_KEY}': ${what}`) };
      generatorState = checkGeneratorState(decodeJson(json(GENERATOR_KEY)!, ctx), fail);
    }

    // Everything is valid so far; the model's names and shapes are checked before any change.
    const result = checkModelState(label, model, modelState, strict);
    if (optimizer !== undefined) {
      for (const t of sections.get('optimizer')!.values()) keep(t); // the optimizer's state outlives any tidy()
      optimizerTookState = true;
      optimizer.loadStateDict(optimizerState);
    }
    model.loadStateDict(modelState, { strict });
    if (generator !== undefined) generator.setState(generatorState!);
    for (const t of sections.get('extra')!.values()) keep(t);
    for (const [name, t] of tensors) if (name.startsWith('model.') || (!optimizerTookState && name.startsWith('optimizer.'))) t.dispose();
    return { ...result, epoch, extra };
  } catch (e) {
    // Nothing was restored (or only the optimizer, which now owns its tensors): free the rest.
    for (const [name, t] of tensors) if (!(optimizerTookState && name.startsWith('optimizer.'))) t.dispose();
    throw e;
  }
}

function checkGeneratorState(v: unknown, fail: (what: string) => never): GeneratorState {
  const s = v as Partial<GeneratorState> | null;
  const ok =
    s !== null &&
    typeof s === 'object' &&
    Number.isSafeInteger(s.seed) &&
    Array.isArray(s.s) &&
    s.s.length === 4 &&
    s.s.every((x) => Number.isInteger(x) && x >= -2147483648 && x <= 4294967295) &&
    (s.spareNormal === undefined || typeof s.spareNormal === 'number');
  if (!ok) fail(`the generator state ${JSON.stringify(v)} is malformed (expected { seed, s: [4 integers], spareNormal })`);
  return s as GeneratorState;
}
