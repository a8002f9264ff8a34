/**
 * Worker threads that run kernel calls on the same WebAssembly.Memory as the main thread, so a
 * large kernel is split into slices that run at once. The main thread hands a slice to each
 * worker through a small control block in that memory (a sequence number, the kernel's index and
 * its arguments), runs its own slice, and waits on the workers' completion words with
 * Atomics.wait. Workers start in the background; until they are ready every call runs on the
 * main thread alone, which gives the same results (slices never change how an element is computed).
 *
 * Node only for now (worker_threads): in a browser the pool stays empty and kernels run on one
 * thread.
 */

/** Most arguments a threaded kernel takes (adamF32 has 19). */
export const MAX_ARGS = 24;
/** Bytes of one worker's control block: [seq, done, fn, nargs, ready, failed, pad, pad] + MAX_ARGS f64 args. */
export const CONTROL_BYTES = 32 + MAX_ARGS * 8;
const SEQ = 0;
const DONE = 1;
const FN = 2;
const NARGS = 3;
const READY = 4;
const FAILED = 5;
/** Checks of a worker's completion word before the main thread sleeps on it (tens of microseconds). */
const SPIN_CHECKS = 20_000;

// The worker's whole program. It spins briefly before sleeping so that back-to-back kernels
// (a training step issues hundreds) do not pay a futex wake-up each.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, names } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('wasm kernel aborted'); } } });
const fns = names.map((n) => instance.exports[n]);
const i32 = new Int32Array(memory.buffer, control, 8);
const args = new Float64Array(memory.buffer, control + 32, ${MAX_ARGS});
let seen = 0;
Atomics.store(i32, ${READY}, 1);
for (;;) {
  for (let spin = 0; spin < 20000 && Atomics.load(i32, ${SEQ}) === seen; spin++);
  Atomics.wait(i32, ${SEQ}, seen);
  const seq = Atomics.load(i32, ${SEQ});
  if (seq === seen) continue;
  seen = seq;
  if (seq < 0) break;
  try {
    const n = i32[${NARGS}];
    const a = args;
    switch (n) {
      case 4: fns[i32[${FN}]](a[0], a[1], a[2], a[3]); break;
      case 5: fns[i32[${FN}]](a[0], a[1], a[2], a[3], a[4]); break;
      case 8: fns[i32[${FN}]](a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]); break;
      case 10: fns[i32[${FN}]](a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]); break;
      case 12: fns[i32[${FN}]](a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11]); break;
      case 14: fns[i32[${FN}]](a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13]); break;
      case 19: fns[i32[${FN}]](a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18]); break;
      default: fns[i32[${FN}]](...Array.from(a.subarray(0, n)));
    }
  } catch (e) {
    Atomics.store(i32, ${FAILED}, 1);
  }
  Atomics.store(i32, ${DONE}, seq);
  Atomics.notify(i32, ${DONE});
}
`;

interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
}
interface WorkerThreadsModule {
  Worker: new (src: string, opts: { eval: boolean; execArgv: string[]; workerData: unknown }) => NodeWorker;
}
interface OsModule {
  availableParallelism?: () => number;
  cpus(): unknown[];
}

/** One worker: its control block (byte offset in the memory) and per-thread scratch. */
interface Lane {
  worker: NodeWorker;
  control: number;
  scratch: number;
  seq: number;
}

export class ThreadPool {
  private readonly lanes: Lane[] = [];
  private i32: Int32Array;
  private f64: Float64Array;

  /**
   * Starts `threads − 1` workers (the main thread is the first lane). `alloc` provides bytes of
   * the shared memory for control blocks and per-thread scratch.
   */
  constructor(
    private readonly memory: WebAssembly.Memory,
    module: WebAssembly.Module,
    private readonly names: readonly string[],
    threads: number,
    alloc: (bytes: number) => number,
    scratchBytes: number,
  ) {
    this.i32 = new Int32Array(memory.buffer);
    this.f64 = new Float64Array(memory.buffer);
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const wt = proc?.getBuiltinModule?.('worker_threads') as WorkerThreadsModule | undefined;
    if (wt === undefined) return;
    for (let t = 1; t < threads; t++) {
      const control = alloc(CONTROL_BYTES);
      const scratch = alloc(scratchBytes);
      this.refresh();
      this.i32.fill(0, control >> 2, (control + 32) >> 2);
      // execArgv: [] so flags of the parent (e.g. --input-type=module) do not change how the source runs.
      const worker = new wt.Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { module, memory, control, names } });
      worker.unref(); // an idle pool never keeps the process alive
      this.lanes.push({ worker, control, scratch, seq: 0 });
    }
  }

  /** The most threads a kernel can ever be split over (1 + workers started, ready or not). */
  get size(): number {
    return 1 + this.lanes.length;
  }

  /** The number of threads a kernel can be split over right now (1 + workers that are ready). */
  get ready(): number {
    this.refresh();
    let n = 1;
    for (const l of this.lanes) if (Atomics.load(this.i32, (l.control >> 2) + READY) === 1) n++;
    return n;
  }

  /** Scratch of worker `i` (1-based lanes; lane 0 is the main thread's own). */
  scratchOf(lane: number): number {
    return this.lanes[lane - 1].scratch;
  }

  /**
   * Runs `calls[i]` (a kernel name's index and its arguments) on lane i: lane 0 on this thread via
   * `runHere`, the others on ready workers, and returns when all are done.
   */
  run(calls: readonly (readonly number[])[], fn: number, runHere: (args: readonly number[]) => void): void {
    this.refresh();
    const started: Lane[] = [];
    for (let i = 1; i < calls.length; i++) {
      const lane = this.lanes[i - 1];
      const base = lane.control >> 2;
      const args = calls[i];
      if (args.length > MAX_ARGS) throw new Error(`ThreadPool.run: ${this.names[fn]} takes ${args.length} arguments, more than ${MAX_ARGS}`);
      this.f64.set(args, (lane.control + 32) >> 3);
      this.i32[base + FN] = fn;
      this.i32[base + NARGS] = args.length;
      lane.seq = (lane.seq + 1) & 0x3fffffff;
      Atomics.store(this.i32, base + SEQ, lane.seq);
      Atomics.notify(this.i32, base + SEQ);
      started.push(lane);
    }
    runHere(calls[0]);
    for (const lane of started) {
      const base = lane.control >> 2;
      // Spin first: a slice usually ends within microseconds of this thread's own, and waking
      // from Atomics.wait costs tens of microseconds (a futex wake-up) on every threaded kernel.
      for (let spin = 0; spin < SPIN_CHECKS && Atomics.load(this.i32, base + DONE) !== lane.seq; spin++);
      for (;;) {
        const done = Atomics.load(this.i32, base + DONE);
        if (done === lane.seq) break;
        Atomics.wait(this.i32, base + DONE, done, 1000);
      }
      if (Atomics.load(this.i32, base + FAILED) === 1) {
        Atomics.store(this.i32, base + FAILED, 0);
        throw new Error(`wasm worker failed while running ${this.names[fn]}`);
      }
    }
  }

  private refresh(): void {
    if (this.i32.buffer.byteLength !== this.memory.buffer.byteLength) {
      this.i32 = new Int32Array(this.memory.buffer);
      this.f64 = new Float64Array(this.memory.buffer);
    }
  }
}

/** Threads to use: KEEL_THREADS if set, else the cores this process may use. */
export function defaultThreads(): number {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined>; getBuiltinModule?: (id: string) => unknown } }).process;
  const env = Number(proc?.env?.KEEL_THREADS);
  if (Number.isInteger(env) && env >= 1) return env;
  const os = proc?.getBuiltinModule?.('os') as OsModule | undefined;
  if (os === undefined) return 1;
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}
