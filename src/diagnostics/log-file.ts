import { ConfigError } from '../core/errors.js';

/** The part of Node's `fs` module used here. */
interface AppendFs {
  writeFileSync(path: string, data: string): void;
  appendFileSync(path: string, data: string): void;
}

/**
 * A line sink that writes to the file at `path` (Node only): the file is created or emptied
 * now, then each call appends one line. `fs` is reached through `process.getBuiltinModule`, so
 * this module still loads in a browser; there, pass a `logSink` function instead.
 */
export function fileLineSink(path: string, caller: string): (line: string) => void {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (typeof get !== 'function')
    throw new ConfigError(`${caller}: logFile '${path}' needs Node.js 20.16 or later (process.getBuiltinModule is missing); in a browser, pass logSink: (line) => ... instead`);
  const fs = get('fs') as AppendFs;
  fs.writeFileSync(path, '');
  return (line) => fs.appendFileSync(path, `${line}\n`);
}
