import { KeelError } from '../core/errors.js';

/**
 * File helpers for Node.js. `src/` must also load in browsers, so Node's `fs` is not imported
 * statically: it is fetched when a function here is first called, through
 * `process.getBuiltinModule` (Node 20.16+). In a browser these functions throw a clear error;
 * the byte-level functions (`serializeSafetensors`, `parseSafetensors`) work everywhere.
 */

/** The part of Node's `fs` module used here. */
interface NodeFs {
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset?: number, length?: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(oldPath: string, newPath: string): void;
  unlinkSync(path: string): void;
  readFileSync(path: string): Uint8Array;
}

/** The part of Node's `path` module used here. */
interface NodePath {
  dirname(p: string): string;
  basename(p: string): string;
  join(...parts: string[]): string;
}

interface NodeProcess {
  pid?: number;
  getBuiltinModule?: (id: string) => unknown;
}

function nodeProcess(): NodeProcess | undefined {
  return (globalThis as { process?: NodeProcess }).process;
}

function builtin<T>(fn: string, id: string): T {
  const get = nodeProcess()?.getBuiltinModule;
  if (typeof get !== 'function')
    throw new KeelError(
      `${fn}: reading and writing files needs Node.js 20.16 or later (process.getBuiltinModule is missing here); ` +
        'in a browser, use serializeSafetensors / parseSafetensors on bytes and store them yourself',
    );
  return get(id) as T;
}

/** Node's `fs` module, or a clear error where there is none. */
function fs(fn: string): NodeFs {
  return builtin<NodeFs>(fn, 'fs');
}

function pathModule(fn: string): NodePath {
  return builtin<NodePath>(fn, 'path');
}

let tempCounter = 0;

/**
 * Writes `bytes` to `path` atomically: into a new temporary file in the same directory, flushed to
 * disk (`fsync`), then renamed over `path` (and the directory flushed, where the system allows).
 * A rename within a directory is atomic, so `path` always holds either its old content or the
 * complete new content, even if the process dies or the disk fills up midway. On failure the
 * temporary file is removed and the error is rethrown. The new file gets default permissions.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const fn = 'writeFileAtomic';
  if (typeof path !== 'string' || path === '') throw new KeelError(`${fn}: path must be a non-empty string (got ${String(path)})`);
  const f = fs(fn);
  const p = pathModule(fn);
  const dir = p.dirname(path);
  let fd = -1;
  let temp = '';
  // A unique name: pid and counter for this process, a random part against other processes; 'wx'
  // refuses to reuse an existing file.
  for (let attempt = 0; fd < 0; attempt++) {
    temp = p.join(dir, `.${p.basename(path)}.${nodeProcess()?.pid ?? 0}.${tempCounter++}.${Math.random().toString(36).slice(2, 10)}.tmp`);
    try {
      fd = f.openSync(temp, 'wx', 0o666);
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST' || attempt >= 10) throw e;
    }
  }
  try {
    let written = 0;
    while (written < bytes.length) written += f.writeSync(fd, bytes, written, bytes.length - written);
    f.fsyncSync(fd);
    f.closeSync(fd);
    fd = -1;
    f.renameSync(temp, path);
  } catch (e) {
    if (fd >= 0) {
      try {
        f.closeSync(fd);
      } catch {
        // already failing: the original error matters
      }
    }
    try {
      f.unlinkSync(temp);
    } catch {
      // the temporary file may already be gone
    }
    throw e;
  }
  // Make the rename itself durable. Directories cannot be opened or synced on some systems
  // (Windows): the file is complete and in place either way.
  try {
    const dfd = f.openSync(dir, 'r');
    try {
      f.fsyncSync(dfd);
    } finally {
      f.closeSync(dfd);
    }
  } catch {
    // best effort
  }
}

/** Reads a whole file as bytes (Node.js only). */
export function readFileBytes(path: string): Uint8Array {
  const fn = 'readFileBytes';
  if (typeof path !== 'string' || path === '') throw new KeelError(`${fn}: path must be a non-empty string (got ${String(path)})`);
  const b = fs(fn).readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
