import { ConfigError } from '../core/errors.js';
import type { Backend } from './backend.js';
import { jsBackend } from './js/js-backend.js';
import { wasmSupported } from './wasm/module.js';
import { WasmBackend } from './wasm/wasm-backend.js';

/**
 * Backends by name, created on first use. `js` (the reference) is always there; `wasm` when the
 * engine has WebAssembly SIMD and shared memory. The default is `wasm` when available, else `js`;
 * the environment variable KEEL_BACKEND or `setBackend()` chooses explicitly.
 */
const factories = new Map<string, () => Backend>([['js', () => jsBackend]]);
if (wasmSupported()) factories.set('wasm', () => new WasmBackend());
const instances = new Map<string, Backend>();
let current: Backend | null = null;

/** Makes a backend available to `setBackend`. */
export function registerBackend(backend: Backend): void {
  factories.set(backend.name, () => backend);
  instances.set(backend.name, backend);
}

/** Names of the registered backends. */
export function listBackends(): string[] {
  return [...factories.keys()];
}

function instance(name: string): Backend {
  let b = instances.get(name);
  if (b === undefined) {
    const make = factories.get(name);
    if (make === undefined)
      throw new ConfigError(`setBackend: unknown backend '${name}' (available here: ${listBackends().join(', ')})`);
    b = make();
    instances.set(name, b);
  }
  return b;
}

function defaultName(): string {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.KEEL_BACKEND;
  if (env !== undefined && env !== '') return env;
  return factories.has('wasm') ? 'wasm' : 'js';
}

/** The backend new tensors are created on. */
export function getBackend(): Backend {
  current ??= instance(defaultName());
  return current;
}

/**
 * Chooses the backend for tensors created from now on (`'js'` or `'wasm'`). Tensors already
 * created stay on the backend that holds their memory.
 */
export function setBackend(name: string): Backend {
  current = instance(name);
  return current;
}
