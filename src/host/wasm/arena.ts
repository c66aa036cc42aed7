// A bump allocator over one (shared) WebAssembly.Memory. The host owns every byte from
// the module's heapBase() up; kernels never allocate. Lays out the load's throwaway kernel
// setups (ScratchKernels: the self-test, the tile probe, the warm-up) and the tests' and
// benchmarks' buffers; the network's own memory is laid out by the planner (plan/plan.ts).

import { ArgumentError } from "../errors.js";

const PAGE = 65536;

/** Bump allocator; offsets are byte addresses in `memory`. Views must be re-taken after a grow. */
export class Arena {
  readonly memory: WebAssembly.Memory;
  private top: number;

  /** `base`: first free byte (the module's heapBase(); the first area starts at the next 64-byte boundary). */
  constructor(memory: WebAssembly.Memory, base: number) {
    this.memory = memory;
    this.top = base;
  }

  /** Bytes handed out so far, including the module's static data below the base. */
  get used(): number {
    return this.top;
  }

  /** Reserves `bytes` at an `align`-byte boundary (default 64: a cache line), growing the memory if needed. */
  alloc(bytes: number, align = 64): number {
    if (!Number.isInteger(bytes) || bytes < 0)
      throw new ArgumentError("Arena.alloc", "bytes", "a non-negative integer", bytes);
    const ptr = Math.ceil(this.top / align) * align;
    const end = ptr + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE));
      } catch (cause) {
        throw new ArgumentError(
          "Arena.alloc",
          "bytes",
          `at most ${have - ptr} more bytes (memory maximum reached)`,
          bytes,
        );
      }
    }
    this.top = end;
    return ptr;
  }

  /** Copies `data` into a fresh allocation and returns its address. */
  put(data: Float32Array, align = 64): number {
    const ptr = this.alloc(data.byteLength, align);
    this.f32(ptr, data.length).set(data);
    return ptr;
  }

  /** A Float32Array view of `length` floats at `ptr` (valid until the memory grows). */
  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  /** The current top, to pass to release() later. */
  mark(): number {
    return this.top;
  }

  /** Frees everything allocated after `mark`. */
  release(mark: number): void {
    this.top = mark;
  }
}
