import { noGrad } from '../autograd/grad-mode.js';
import { ConfigError, ShapeError, fmtShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import { copy_, fill_ } from '../ops/inplace.js';
import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * Marks a tensor as a trainable parameter (as PyTorch's `nn.Parameter`): it requires gradients,
 * is exempt from `tidy`, and a Module lists it in `parameters()` when held in a field.
 */
export function parameter(t: Tensor): Tensor {
  t.requiresGrad = true;
  PARAMETERS.add(t);
  return keep(t);
}

const PARAMETERS = new WeakSet<Tensor>();

/** Whether `t` was made a parameter with {@link parameter}. */
export function isParameter(t: unknown): t is Tensor {
  return t instanceof Tensor && PARAMETERS.has(t);
}

/** A function called after a module's forward: it may return a replacement output. */
export type ForwardHook = (module: Module, inputs: readonly unknown[], output: unknown) => unknown;
/** A function called before a module's forward: it may return replacement inputs. */
export type ForwardPreHook = (module: Module, inputs: readonly unknown[]) => readonly unknown[] | void;

/** Removes the hook it was returned for. Calling it twice is harmless. */
export type HookRemover = () => void;

/** Options of {@link Module.loadStateDict}. */
export interface LoadOptions {
  /** Every key must match, with no missing or extra ones (default true). */
  strict?: boolean;
}

/** What `loadStateDict` did not match when `strict` is false. */
export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/**
 * The base class of layers and models, as PyTorch's `nn.Module`. Submodules and parameters are
 * found by walking the object's own fields in declaration order (`fc1 = new Linear(32, 64)`), so
 * a subclass needs no registration calls; buffers (running statistics) are declared with
 * `registerBuffer`. Subclasses implement `forward`; `call` runs it with the hooks.
 */
export abstract class Module {
  /** Whether the module is in training mode (dropout active, batch statistics updated). */
  training = true;
  private readonly bufferNames = new Set<string>();
  private readonly forwardHooks = new Map<number, ForwardHook>();
  private readonly forwardPreHooks = new Map<number, ForwardPreHook>();
  private hookId = 0;

  /** The computation. Call the module through `call()` so that hooks run. */
  abstract forward(...inputs: never[]): unknown;

  /** Runs pre-hooks, `forward`, then forward hooks, as calling a PyTorch module does. */
  call(...inputs: unknown[]): ReturnType<this['forward']> {
    let args: readonly unknown[] = inputs;
    for (const hook of this.forwardPreHooks.values()) {
      const r = hook(this, args) as unknown;
      // A single returned value stands for a one-argument call, as in PyTorch.
      if (r !== undefined) args = Array.isArray(r) ? r : [r];
    }
    let out = (this.forward as (...a: unknown[]) => unknown)(...args);
    for (const hook of this.forwardHooks.values()) {
      const r = hook(this, args, out);
      if (r !== undefined) out = r;
    }
    return out as ReturnType<this['forward']>;
  }

  /** The class name, as shown by `toString()` and in errors. */
  get name(): string {
    return this.constructor.name;
  }

  /** Declares `tensor` (or null) under `name` as a buffer: state saved in `stateDict` that is not trained. */
  protected registerBuffer(name: string, tensor: Tensor | null): void {
    this.bufferNames.add(name);
    if (tensor !== null) keep(tensor);
    (this as unknown as Record<string, unknown>)[name] = tensor;
  }

  /** Direct submodules with their field names (arrays of modules give `name.0`, `name.1`, ...). */
  *namedChildren(): Generator<[string, Module]> {
    const seen = new Set<Module>(); // a module held in two fields is one child, as in PyTorch
    for (const [key, value] of Object.entries(this)) {
      const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [`${key}.${i}`, v]) : [[key, value]];
      for (const [name, v] of entries) {
        if (!(v instanceof Module) || seen.has(v)) continue;
        seen.add(v);
        yield [name, v];
      }
    }
  }

  /** Direct submodules. */
  *children(): Generator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }

  /** This module and every descendant, depth first, with dotted names ('' for this one), each module once. */
  *namedModules(prefix = '', seen: Set<Module> = new Set()): Generator<[string, Module]> {
    if (seen.has(this)) return;
    seen.add(this);
    yield [prefix, this];
    for (const [name, child] of this.namedChildren()) yield* child.namedModules(prefix === '' ? name : `${prefix}.${name}`, seen);
  }

  /** This module and every descendant. */
  *modules(): Generator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  /** Own parameters (not those of submodules), by field name. */
  private *ownParameters(): Generator<[string, Tensor]> {
    for (const [key, value] of Object.entries(this)) if (isParameter(value)) yield [key, value];
  }

  /** Every parameter with its dotted name (`fc1.weight`), each tensor once. */
  *namedParameters(): Generator<[string, Tensor]> {
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [key, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        yield [prefix === '' ? key : `${prefix}.${key}`, p];
      }
    }
  }

  /** Every parameter, each tensor once. */
  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  /** Every buffer with its dotted name (`bn.running_mean`). */
  *namedBuffers(): Generator<[string, Tensor]> {
    for (const [prefix, m] of this.namedModules()) {
      for (const key of m.bufferNames) {
        const t = (m as unknown as Record<string, unknown>)[key];
        if (t instanceof Tensor) yield [prefix === '' ? key : `${prefix}.${key}`, t];
      }
    }
  }

  /** Every buffer. */
  buffers(): Tensor[] {
    return [...this.namedBuffers()].map(([, b]) => b);
  }

  /** Calls `fn` on every submodule, children first, then on this module (as PyTorch). Returns this. */
  apply(fn: (m: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /** Sets training mode on this module and every descendant. Returns this. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Clears every parameter's gradient: releases it and sets `.grad` to null (PyTorch's default
   * `set_to_none`), or with `setToNone: false` fills it with zeros in place (no new memory on
   * the next backward). Released gradients free their memory at once (PyTorch frees them when
   * the last reference goes; JavaScript cannot see references), so `clone()` a gradient you want
   * to keep across `zeroGrad`.
   */
  zeroGrad(options?: { setToNone?: boolean }): void {
    const setToNone = options?.setToNone ?? true;
    for (const p of this.parameters()) {
      if (p.grad === null) continue;
      if (setToNone) {
        p.grad.dispose();
        p.grad = null;
      } else noGrad(() => fill_(p.grad!, 0));
    }
  }

  /**
   * Parameters and buffers by dotted name, as PyTorch's `state_dict()`: module by module (depth
   * first), each module's own parameters then its own buffers; the values are detached views that
   * share memory with the module.
   */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      const name = (key: string): string => (prefix === '' ? key : `${prefix}.${key}`);
      for (const [key, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.set(name(key), p.detach());
      }
      for (const key of m.bufferNames) {
        const b = (m as unknown as Record<string, unknown>)[key];
        if (b instanceof Tensor) out.set(name(key), b.detach());
      }
    }
    return out;
  }

  /**
   * Copies values from `state` into this module's parameters and buffers. With `strict` (the
   * default) a missing, unexpected or mis-shaped key is an error naming it; mis-shaped keys are
   * always an error.
   */
  loadStateDict(state: Map<string, Tensor> | Record<string, Tensor>, options?: LoadOptions): LoadResult {
    const strict = options?.strict ?? true;
    const given = state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.stateDict();
    const missingKeys = [...own.keys()].filter((k) => !given.has(k));
    const unexpectedKeys = [...given.keys()].filter((k) => !own.has(k));
    for (const [key, t] of given) {
      const target = own.get(key);
      if (target !== undefined && !shapesEqual(target.shape, t.shape))
        throw new ShapeError(
          `${this.name}.loadStateDict: '${key}' has shape ${fmtShape(t.shape)} in the state dict but ${fmtShape(target.shape)} in the model`,
        );
    }
    if (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0))
      throw new ConfigError(
        `${this.name}.loadStateDict: keys do not match` +
          (missingKeys.length > 0 ? `; missing: ${missingKeys.join(', ')}` : '') +
          (unexpectedKeys.length > 0 ? `; unexpected: ${unexpectedKeys.join(', ')}` : '') +
          ' (pass { strict: false } to load the keys that match)',
      );
    noGrad(() => {
      for (const [key, t] of given) {
        const target = own.get(key);
        if (target !== undefined) copy_(target, t);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /** Adds a hook run after every `call`; returns its remover. */
  registerForwardHook(hook: ForwardHook): HookRemover {
    const id = this.hookId++;
    this.forwardHooks.set(id, hook);
    return () => void this.forwardHooks.delete(id);
  }

  /** Adds a hook run before every `call`; returns its remover. */
  registerForwardPreHook(hook: ForwardPreHook): HookRemover {
    const id = this.hookId++;
    this.forwardPreHooks.set(id, hook);
    return () => void this.forwardPreHooks.delete(id);
  }

  /** Extra text shown inside the parentheses by `toString` (e.g. `in=32, out=64`). */
  protected extraRepr(): string {
    return '';
  }

  /** A tree of the module and its children, as PyTorch prints a model. */
  toString(): string {
    const children = [...this.namedChildren()];
    if (children.length === 0) return `${this.name}(${this.extraRepr()})`;
    const lines = children.map(([n, c]) => `  (${n}): ${c.toString().split('\n').join('\n  ')}`);
    return `${this.name}(\n${lines.join('\n')}\n)`;
  }
}
