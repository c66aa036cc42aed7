// Reading protobuf wire data for the Caffe and ONNX weight readers: a cursor over one message
// built on protobufjs's low-level Reader (varints, lengths, strings), plus repeated-float
// fields read without a JavaScript number per value. No schema and no object per field: the
// readers pick the few fields they need and skip the rest, so a 53 MB file is walked, not
// copied. Every failure is a WeightsError naming the file, what was being read and the byte.

import protobuf from "protobufjs/minimal.js";
import { hex } from "../../host/digest.js";
import { WeightsError } from "../../host/errors.js";

const { Reader } = protobuf;
/** Strict: a string field's bytes must be UTF-8 (protobuf's rule for `string`), never replaced by U+FFFD. */
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Wire types (the low 3 bits of a tag). Groups (3, 4) are not used by Caffe or ONNX. */
export const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

/** protobufjs returns 64-bit varints as a Long-like object (or a number when Long is absent). */
type Long64 = number | { low: number; high: number; unsigned: boolean };

/**
 * A cursor over the fields of one message. `bytes` is the message (a view into the file) and
 * `base` the file offset of its first byte, for messages; `what` names the message in errors.
 * Usage: `while (m.next()) switch (m.field) { case 1: x = m.varint(); break; default: m.skip(); }`.
 */
export class ProtoMessage {
  /** Field number and wire type of the field `next()` stopped at. */
  field = 0;
  wire = 0;
  private readonly reader: InstanceType<typeof Reader>;
  private tagAt = 0;

  constructor(
    readonly file: string,
    readonly bytes: Uint8Array,
    readonly base: number,
    readonly what: string,
  ) {
    this.reader = new Reader(bytes);
  }

  /** File offset of the cursor. */
  get offset(): number {
    return this.base + this.reader.pos;
  }

  /** Throws a WeightsError about this message at the current field (tensor: optional name for the error). */
  fail(message: string, tensor?: string): never {
    throw new WeightsError(
      this.file,
      tensor,
      `${this.what}, field ${this.field} at byte ${this.base + this.tagAt}: ${message}`,
    );
  }

  /** Advances to the next field; false at the end of the message. */
  next(): boolean {
    if (this.reader.pos >= this.bytes.length) return false;
    this.tagAt = this.reader.pos;
    const tag = this.guard(() => this.reader.uint32());
    this.field = tag >>> 3;
    this.wire = tag & 7;
    if (this.field === 0 || ![WIRE_VARINT, WIRE_FIXED64, WIRE_BYTES, WIRE_FIXED32].includes(this.wire)) {
      throw new WeightsError(
        this.file,
        undefined,
        `${this.what} at byte ${this.base + this.tagAt}: corrupt protobuf: expected a field tag, ` +
          `found field ${this.field} with wire type ${this.wire}`,
      );
    }
    return true;
  }

  /** The current varint field (int32/int64/uint64/enum/bool) as a number; exact up to 2^53. */
  varint(): number {
    this.expectWire(WIRE_VARINT);
    return toNumber(this.guard(() => this.reader.int64() as Long64));
  }

  /** The current fixed32 field as a float32 value. */
  float(): number {
    this.expectWire(WIRE_FIXED32);
    return this.guard(() => this.reader.float());
  }

  /** The current length-delimited field's payload (`what` names it in errors): a view into the file, bounds-checked. */
  payload(what = "its payload"): Uint8Array {
    this.expectWire(WIRE_BYTES);
    const length = this.guard(() => this.reader.uint32());
    const start = this.reader.pos;
    if (start + length > this.bytes.length) {
      this.fail(
        `truncated: ${what} needs ${length} bytes from byte ${this.base + start}, found ` +
          `${this.bytes.length - start} (the file ends early or is corrupt)`,
      );
    }
    this.reader.pos = start + length;
    return this.bytes.subarray(start, start + length);
  }

  /** The current length-delimited field as a nested message named `what`. */
  message(what: string): ProtoMessage {
    const bytes = this.payload(what);
    return new ProtoMessage(this.file, bytes, this.offset - bytes.length, what);
  }

  /** The current length-delimited field as UTF-8 text; throws WeightsError for bytes that are not UTF-8. */
  string(): string {
    const bytes = this.payload();
    try {
      return utf8.decode(bytes);
    } catch {
      return this.fail(
        `expected UTF-8 text (a string field), found bytes that are not UTF-8 (${hex(bytes.subarray(0, 16))})`,
      );
    }
  }

  /** Appends the values of a repeated varint field, packed (one payload) or not (one value per field). */
  varints(into: number[]): void {
    if (this.wire !== WIRE_BYTES) {
      into.push(this.varint());
      return;
    }
    const packed = this.message(`${this.what}, packed field ${this.field}`);
    while (packed.reader.pos < packed.bytes.length) {
      into.push(toNumber(packed.guard(() => packed.reader.int64() as Long64)));
    }
  }

  /** Skips the current field. */
  skip(): void {
    if (this.wire === WIRE_BYTES) this.payload();
    else this.guard(() => this.reader.skipType(this.wire));
  }

  private expectWire(wire: number): void {
    if (this.wire !== wire) {
      this.fail(`expected wire type ${wire}, found ${this.wire} (not the expected message type?)`);
    }
  }

  /** Runs a protobufjs read, turning its out-of-range error into a WeightsError naming the message. */
  private guard<T>(read: () => T): T {
    try {
      return read();
    } catch (cause) {
      if (!(cause instanceof RangeError)) throw cause;
      throw new WeightsError(
        this.file,
        undefined,
        `${this.what} at byte ${this.base + this.tagAt}: truncated: a value runs past the end of the ` +
          `${this.bytes.length}-byte message (the file ends early or is corrupt)`,
        { cause },
      );
    }
  }
}

function toNumber(v: Long64): number {
  if (typeof v === "number") return v;
  return (v.unsigned ? v.high >>> 0 : v.high) * 2 ** 32 + (v.low >>> 0);
}

/**
 * The values of repeated float field `field` of a message (`message`: its bytes, a view into the
 * file; `base`: their file offset; `what` names it in errors). Both encodings are valid protobuf and accepted: packed (one
 * length-delimited run of little-endian floats) and unpacked (one fixed32 field per value),
 * even mixed. One packed run, the usual case, is returned as a view of the file's bytes when
 * 4-byte aligned, else as one copy; otherwise the values are gathered into one new array.
 * Bytes are copied, never converted through a JavaScript number, so every bit pattern is kept.
 * Assumes a little-endian host, as every WebAssembly host in practice is.
 */
export function readFloats(message: Uint8Array, base: number, field: number, file: string, what: string): Float32Array {
  // Pass 1: count the values; the common case is a single packed run.
  let bytes = 0,
    runs = 0,
    firstStart = 0;
  forEachRun(message, base, field, file, what, (start, length) => {
    if (runs++ === 0) firstStart = start;
    bytes += length;
  });
  if (runs === 1) {
    const at = message.byteOffset + firstStart;
    if (at % 4 === 0) return new Float32Array(message.buffer, at, bytes / 4);
    const copy = new Uint8Array(bytes); // not message.slice(): on a Node Buffer that is a view
    copy.set(message.subarray(firstStart, firstStart + bytes));
    return new Float32Array(copy.buffer);
  }
  // Pass 2: gather every run (a packed payload or one unpacked value) into one array.
  const out = new Uint8Array(bytes);
  let at = 0;
  forEachRun(message, base, field, file, what, (start, length) => {
    out.set(message.subarray(start, start + length), at);
    at += length;
  });
  return new Float32Array(out.buffer);
}

/** Calls `visit` with the range in `message` of each occurrence of float field `field` (packed or one value). */
function forEachRun(
  message: Uint8Array,
  base: number,
  field: number,
  file: string,
  what: string,
  visit: (start: number, length: number) => void,
): void {
  const m = new ProtoMessage(file, message, base, what);
  while (m.next()) {
    if (m.field !== field) {
      m.skip();
    } else if (m.wire === WIRE_BYTES) {
      const run = m.payload();
      if (run.length % 4 !== 0) m.fail(`packed floats: expected a multiple of 4 bytes, found ${run.length}`);
      visit(m.offset - base - run.length, run.length);
    } else {
      if (m.wire !== WIRE_FIXED32) m.fail(`repeated float: expected wire type 2 or 5, found ${m.wire}`);
      m.skip();
      visit(m.offset - base - 4, 4);
    }
  }
}
