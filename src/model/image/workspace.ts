// Grow-only scratch memory for decoding and preprocessing, reused from one call to the next so that
// a classifier's steady state allocates no large temporaries (large ArrayBuffers come from malloc,
// whose mmap threshold and heap trimming then step the process's RSS up for good; see README,
// "Memory"). Pure JS (runs in browsers).

/** A typed-array class that can view an ArrayBuffer. */
export interface TypedArrayType<T> {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
  new (length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

/**
 * Named slots of grow-only memory. take() returns a zero-filled view of exactly the requested
 * length, so a caller cannot tell it from a fresh typed array (nothing of an earlier, larger use
 * shows through); a slot's buffer is replaced only by a larger one. Each slot holds one live array
 * at a time: a view stays valid until its slot is taken again. Not for concurrent calls: one
 * workspace per call in flight. Each slot is at most as large as the largest array one call of
 * its user needs (bounded by the image pixel limit and the resize sizes).
 */
export class Workspace {
  private readonly slots = new Map<string, ArrayBuffer>();

  /** A zero-filled `type` array of `length` elements in slot `slot`. */
  take<T extends { fill(value: number): T }>(type: TypedArrayType<T>, slot: string, length: number): T {
    const bytes = length * type.BYTES_PER_ELEMENT;
    const buffer = this.slots.get(slot);
    if (buffer && buffer.byteLength >= bytes) return new type(buffer, 0, length).fill(0);
    const grown = new ArrayBuffer(bytes);
    this.slots.set(slot, grown);
    return new type(grown, 0, length);
  }

  /** Bytes held by every slot. */
  get bytes(): number {
    let sum = 0;
    for (const buffer of this.slots.values()) sum += buffer.byteLength;
    return sum;
  }

  /** Drops every slot (their memory is freed once no view remains). */
  release(): void {
    this.slots.clear();
  }
}

/** A zero-filled `type` array of `length` elements: from `workspace`'s slot `slot` when given, else fresh. */
export function scratch<T extends { fill(value: number): T }>(
  workspace: Workspace | undefined,
  type: TypedArrayType<T>,
  slot: string,
  length: number,
): T {
  return workspace ? workspace.take(type, slot, length) : new type(length);
}
