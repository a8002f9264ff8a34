/**
 * A size-class allocator over WebAssembly memory, run from JavaScript. Freed blocks go to a list
 * per rounded size and are reused first, so a training loop that allocates the same shapes every
 * step reaches a steady state where memory stops growing. Blocks are 64-byte aligned (cache line,
 * and more than the 16 bytes SIMD loads want).
 */
export class Allocator {
  private top: number;
  private readonly free = new Map<number, number[]>();
  /** Bytes handed out and not yet returned. */
  inUse = 0;

  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
    /** Called after the memory grew, so typed-array views can be remade. */
    private readonly onGrow: () => void,
  ) {
    this.top = roundUp(base, 64);
  }

  /** The block size that `bytes` is rounded to: 64-byte steps up to 4 KiB, then 1/8 of a power of two. */
  static blockSize(bytes: number): number {
    if (bytes <= 4096) return Math.max(64, roundUp(bytes, 64));
    const step = 2 ** (Math.ceil(Math.log2(bytes)) - 3);
    return roundUp(bytes, step);
  }

  /** A block of at least `bytes` bytes (its size is `blockSize(bytes)`); not zeroed. */
  alloc(bytes: number): number {
    const size = Allocator.blockSize(bytes);
    this.inUse += size;
    const list = this.free.get(size);
    if (list !== undefined && list.length > 0) return list.pop()!;
    const ptr = this.top;
    this.top += size;
    const have = this.memory.buffer.byteLength;
    if (this.top > have) {
      // Grow by at least a quarter of the current size so growth happens O(log n) times.
      const need = Math.ceil((this.top - have) / 65536);
      this.memory.grow(Math.max(need, Math.ceil(have / 65536 / 4)));
      this.onGrow();
    }
    return ptr;
  }

  /** Returns a block from `alloc(bytes)`. */
  release(ptr: number, bytes: number): void {
    const size = Allocator.blockSize(bytes);
    this.inUse -= size;
    let list = this.free.get(size);
    if (list === undefined) this.free.set(size, (list = []));
    list.push(ptr);
  }

  /** The high-water mark: bytes of memory the allocator has ever used. */
  get reserved(): number {
    return this.top;
  }
}

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}
