/**
 * Scopes: `tidy(fn)` releases every tensor created while `fn` runs, except what `fn` returns and
 * what was `keep()`-ed. Without a scope, memory is reclaimed when tensors are garbage collected.
 */

/** What a scope needs to know about a tensor. */
export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
  kept: boolean;
}

const scopes: Disposable[][] = [];

/** Called by every new tensor: the innermost open scope will dispose it. */
export function track(t: Disposable): void {
  if (scopes.length > 0) scopes[scopes.length - 1].push(t);
}

/** Whether a `tidy` scope is open. */
export function inScope(): boolean {
  return scopes.length > 0;
}

/** A value `tidy` can return: tensors, arrays and plain objects of them, or anything else. */
export type TidyResult = unknown;

/**
 * Runs `fn` and then releases every tensor it created, except those reachable from its result
 * (through arrays and plain objects) and those marked with `keep`. Returned tensors move to the
 * enclosing scope, if any. Like `tf.tidy`, but optional: code that never calls it relies on the
 * garbage collector.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Disposable[] = [];
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) throw new TypeError('tidy: fn must be synchronous (it returned a Promise)');
  const survivors = new Set<Disposable>();
  collect(result, survivors, new Set());
  const parent = scopes.length > 0 ? scopes[scopes.length - 1] : null;
  for (const t of scope) {
    if (survivors.has(t)) parent?.push(t);
    else if (!t.kept && !t.isDisposed) t.dispose();
  }
  return result;
}

function collect(v: unknown, out: Set<Disposable>, seen: Set<unknown>): void {
  if (v === null || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  if (isDisposable(v)) {
    out.add(v);
    return;
  }
  if (Array.isArray(v)) for (const x of v) collect(x, out, seen);
  else if (v instanceof Map) for (const x of v.values()) collect(x, out, seen);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) collect(x, out, seen);
}

function isDisposable(v: object): v is Disposable {
  return typeof (v as Disposable).dispose === 'function' && 'kept' in v;
}

/** Exempts a tensor from every enclosing `tidy`; returns it. */
export function keep<T extends Disposable>(t: T): T {
  t.kept = true;
  return t;
}
