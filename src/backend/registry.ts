import { ConfigError } from '../core/errors.js';
import type { Backend } from './backend.js';
import { jsBackend } from './js/js-backend.js';

/** Backends by name. `js` is always present; others register themselves when loaded. */
const backends = new Map<string, Backend>([['js', jsBackend]]);
let current: Backend = jsBackend;

/** Makes a backend available to `setBackend`. */
export function registerBackend(backend: Backend): void {
  backends.set(backend.name, backend);
}

/** The backend new tensors are created on. */
export function getBackend(): Backend {
  return current;
}

/** Names of the registered backends. */
export function listBackends(): string[] {
  return [...backends.keys()];
}

/**
 * Chooses the backend for tensors created from now on. Tensors already created stay on the
 * backend that holds their memory.
 */
export function setBackend(name: string): Backend {
  const b = backends.get(name);
  if (b === undefined)
    throw new ConfigError(`setBackend: unknown backend '${name}' (registered: ${listBackends().join(', ')})`);
  current = b;
  return b;
}
