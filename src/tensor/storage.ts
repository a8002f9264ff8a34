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
  /** Elements in the buffer (kept after it is freed). */
  readonly size: number;
  /**
   * `Σ x²` of the whole buffer, handed over by the kernel that wrote it (a weight gradient's
   * matmul), or undefined. Any access to the buffer forgets it: a reader may also write.
   */
  private squares: number | undefined = undefined;
  /** A factor every element is still to be multiplied by (gradient clipping's), or 1. */
  private scale = 1;

  constructor(
    readonly backend: Backend,
    private buffer: BackendBuffer | null,
  ) {
    this.size = buffer!.size;
    live.buffers++;
    live.bytes += buffer!.size * bytesPerElement(buffer!.dtype);
  }

  /**
   * The buffer, with every deferred multiplication applied; null once freed. All reads and writes
   * of the data go through here, which is what makes deferring safe.
   */
  get buf(): BackendBuffer | null {
    this.squares = undefined;
    if (this.scale !== 1 && this.buffer !== null) {
      const s = this.scale;
      this.scale = 1;
      this.backend.scale(this.buffer, s);
    }
    return this.buffer;
  }

  /** Whether the buffer was freed (the last holder let go). */
  get isFreed(): boolean {
    return this.buffer === null;
  }

  /** @internal Records `Σ x²` of the buffer's current contents, as its writer computed it. */
  noteSumSquares(value: number): void {
    this.squares = value;
  }

  /** @internal `Σ x²` of the whole buffer when its writer recorded it and nothing touched it since. */
  knownSumSquares(): number | undefined {
    return this.scale === 1 ? this.squares : undefined;
  }

  /**
   * @internal Multiplies every element by `factor` (rounded to the dtype, as `backend.scale`)
   * later: at the next access to the buffer, or inside a kernel that reads the buffer anyway
   * ({@link Storage.unscaled}). A factor already pending is applied first, so each product is
   * rounded exactly as two eager multiplications would round it.
   */
  deferScale(factor: number): void {
    if (this.buffer === null) return;
    if (this.scale !== 1) void this.buf;
    this.squares = undefined;
    this.scale = factor;
  }

  /**
   * @internal The buffer as it is in memory and the factor still pending on it, for a kernel that
   * multiplies by the factor as it reads (a fused optimizer step). The factor stays pending: the
   * memory is left unscaled, and the next access through {@link buf} scales it.
   */
  unscaled(): { buf: BackendBuffer | null; scale: number } {
    return { buf: this.buffer, scale: this.scale };
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
    this.scale = 1;
    this.squares = undefined;
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
