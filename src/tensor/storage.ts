import type { Backend, BackendBuffer } from '../backend/backend.js';
import { bytesPerElement } from '../core/dtype.js';

/**
 * A backend buffer shared by every tensor that views it (a tensor and its reshapes, transposes,
 * slices, detached copies, and the autograd graph's saved references). It counts its holders and
 * frees the buffer when the last one lets go, so a backend that owns its memory (WebAssembly)
 * gets it back deterministically under `tidy`/`dispose`, and through garbage collection otherwise.
 */
export class Storage {
  private holders = 1;

  constructor(
    readonly backend: Backend,
    private buffer: BackendBuffer | null,
  ) {
    live.buffers++;
    live.bytes += buffer!.size * bytesPerElement(buffer!.dtype);
  }

  /** The buffer; null once freed. */
  get buf(): BackendBuffer | null {
    return this.buffer;
  }

  /** Whether more than one tensor (or graph reference) holds this storage. */
  get isShared(): boolean {
    return this.holders > 1;
  }

  /** One more holder. */
  retain(): this {
    this.holders++;
    return this;
  }

  /** One holder fewer; frees the buffer when none is left. */
  release(): void {
    if (this.buffer === null) return;
    if (--this.holders > 0) return;
    live.buffers--;
    live.bytes -= this.buffer.size * bytesPerElement(this.buffer.dtype);
    this.backend.free(this.buffer);
    this.buffer = null;
  }
}

const live = { buffers: 0, bytes: 0 };

/** Memory held by tensors right now: the number of live buffers and their bytes. */
export interface MemoryInfo {
  numBuffers: number;
  numBytes: number;
}

/**
 * Live buffers and bytes across all backends. Tests read it around a training loop to show that
 * memory stays flat.
 */
export function memory(): MemoryInfo {
  return { numBuffers: live.buffers, numBytes: live.bytes };
}
