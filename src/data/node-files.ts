/**
 * The only Node-specific code of the data layer: reading files and gunzipping them.
 *
 * Keel's core must load in a browser, so src/ imports no `node:*` module statically (an ESLint
 * rule enforces it). The built-ins are fetched at call time with `process.getBuiltinModule`
 * (Node ≥ 20.16), or on older Node 20 releases with a dynamic `import()` of a computed specifier
 * (which bundlers leave alone). In a browser these functions throw a clear error instead; there,
 * fetch the bytes yourself and call `readIdx`.
 */
import { ConfigError } from '../core/errors.js';

// Type-only references: nothing is loaded by these lines.
interface Builtins {
  fs: typeof import('node:fs');
  zlib: typeof import('node:zlib');
}

interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
}

async function builtin<K extends keyof Builtins>(id: K, caller: string): Promise<Builtins[K]> {
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (proc?.versions?.node === undefined)
    throw new ConfigError(
      `${caller}: reading files needs Node.js (this looks like a browser); fetch the bytes yourself and decode them with readIdx(bytes)`,
    );
  if (proc.getBuiltinModule !== undefined) return proc.getBuiltinModule(id) as Builtins[K];
  const specifier = `node:${id}`; // computed, so that bundlers do not try to resolve it
  return (await import(specifier)) as Builtins[K];
}

/** The bytes of the file at `path`. Rejects with Node's error (code `ENOENT` when missing). */
export async function readFileBytes(path: string, caller: string): Promise<Uint8Array> {
  const fs = await builtin('fs', caller);
  const buf = await fs.promises.readFile(path);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Whether a file exists at `path`. */
export async function fileExists(path: string, caller: string): Promise<boolean> {
  const fs = await builtin('fs', caller);
  try {
    return (await fs.promises.stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Whether `bytes` start with the gzip magic number 0x1F 0x8B. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decompresses gzip data with Node's zlib. */
export async function gunzip(bytes: Uint8Array, caller: string): Promise<Uint8Array> {
  const zlib = await builtin('zlib', caller);
  const out = await new Promise<Uint8Array>((resolve, reject) =>
    zlib.gunzip(bytes, (err, result) => (err === null ? resolve(result) : reject(err))),
  );
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
