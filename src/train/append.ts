import { KeelError } from '../core/errors.js';

interface AppendFs {
  appendFileSync(path: string, data: string): void;
}

/**
 * Appends `line` and a newline to the file at `path` (Node only: `fs` is reached through
 * `process.getBuiltinModule`, so this module still loads in a browser).
 */
export function appendLine(path: string, line: string): void {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (typeof get !== 'function') throw new KeelError(`appendLine: writing ${path} needs Node.js 20.16 or later`);
  (get('fs') as AppendFs).appendFileSync(path, `${line}\n`);
}
