// Reader for MATLAB level-5 MAT files (little-endian), enough for the numeric arrays of the
// BVLC GoogLeNet data: miCOMPRESSED (zlib) or plain miMATRIX elements holding real, dense
// double/single/uint8 arrays. Pure parsing, no I/O: works in every JavaScript runtime.
// Assumes a little-endian host (as every WebAssembly host in practice is).

import { WeightsError } from "../../host/errors.js";
import { elementCount } from "../../host/ir/tensors.js";
import { inflateBounded } from "./zlib.js";

/** One array variable of a MAT file: MATLAB (column-major) dims and values as float32. */
export interface MatVariable {
  name: string;
  dims: number[];
  data: Float32Array;
}

const HEADER_BYTES = 128;
const HEADER_TEXT = "MATLAB 5.0 MAT-file";
const TAG_BYTES = 8;

// Data element types (miXXX) used here.
const miINT8 = 1;
const miUINT8 = 2;
const miINT32 = 5;
const miUINT32 = 6;
const miSINGLE = 7;
const miDOUBLE = 9;
const miMATRIX = 14;
const miCOMPRESSED = 15;

// Array classes (mxXXX_CLASS, index = class number), those accepted, and the complex flag.
const CLASS_NAMES = [
  "unknown",
  "cell",
  "struct",
  "object",
  "char",
  "sparse",
  "double",
  "single",
  "int8",
  "uint8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "uint64",
  "function",
];
const ACCEPTED_CLASSES: ReadonlySet<string> = new Set(["double", "single", "uint8"]);
const COMPLEX_FLAG = 0x08;

/** Real-part element types accepted and the bytes per value of each. */
const REAL_TYPES: ReadonlyMap<number, { name: string; size: number }> = new Map([
  [miUINT8, { name: "miUINT8", size: 1 }],
  [miSINGLE, { name: "miSINGLE", size: 4 }],
  [miDOUBLE, { name: "miDOUBLE", size: 8 }],
]);

/** One data element: its type and a view of its payload. `end` is where the next element starts. */
interface Element {
  type: number;
  data: Uint8Array;
  end: number;
}

/**
 * Parses every variable of a MAT file. `file` only names the source in errors.
 * Throws WeightsError (naming `file`, and the variable when known) for any malformation or
 * for arrays that are not real, dense double/single/uint8 arrays.
 */
export function readMat(bytes: Uint8Array, file: string): MatVariable[] {
  checkHeader(bytes, file);
  const variables: MatVariable[] = [];
  let offset = HEADER_BYTES;
  while (offset < bytes.length) {
    const element = readElement(bytes, offset, file, "top-level element");
    offset = element.end;
    if (element.type === miCOMPRESSED) {
      const inflated = inflate(element.data, file);
      const inner = readElement(inflated, 0, file, "compressed element");
      if (inner.type !== miMATRIX) {
        throw new WeightsError(
          file,
          undefined,
          `compressed element: expected miMATRIX (${miMATRIX}), found type ${inner.type}`,
        );
      }
      variables.push(readMatrix(inner.data, file));
    } else if (element.type === miMATRIX) {
      variables.push(readMatrix(element.data, file));
    } else {
      throw new WeightsError(
        file,
        undefined,
        `top-level element: expected miMATRIX (${miMATRIX}) or miCOMPRESSED (${miCOMPRESSED}), found type ${element.type}`,
      );
    }
  }
  return variables;
}

function checkHeader(bytes: Uint8Array, file: string): void {
  if (bytes.length < HEADER_BYTES) {
    throw new WeightsError(
      file,
      undefined,
      `not a MAT file: expected a ${HEADER_BYTES}-byte header, found ${bytes.length} bytes`,
    );
  }
  const text = ascii(bytes.subarray(0, HEADER_TEXT.length));
  if (text !== HEADER_TEXT) {
    throw new WeightsError(
      file,
      undefined,
      `not a MAT file: expected header text ${JSON.stringify(HEADER_TEXT)}, found ${JSON.stringify(text)}`,
    );
  }
  const endian = ascii(bytes.subarray(126, 128));
  if (endian === "MI") {
    throw new WeightsError(
      file,
      undefined,
      `big-endian MAT files are not supported: expected endian indicator "IM", found "MI"`,
    );
  }
  if (endian !== "IM") {
    throw new WeightsError(
      file,
      undefined,
      `corrupt MAT header: expected endian indicator "IM", found ${JSON.stringify(endian)}`,
    );
  }
}

/**
 * Reads the data element at `offset`: a normal 8-byte tag (u32 type, u32 byte count, payload
 * padded to 8 bytes; miCOMPRESSED payloads are not padded) or a small data element
 * (u16 type, u16 byte count <= 4, payload in the tag's last 4 bytes).
 */
function readElement(bytes: Uint8Array, offset: number, file: string, what: string): Element {
  if (offset + TAG_BYTES > bytes.length) {
    throw new WeightsError(
      file,
      undefined,
      `truncated ${what} at byte ${offset}: expected an ${TAG_BYTES}-byte tag, found ${bytes.length - offset} bytes`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, TAG_BYTES);
  const first = view.getUint32(0, true);
  const small = first >>> 16;
  if (small !== 0) {
    if (small > 4) {
      throw new WeightsError(
        file,
        undefined,
        `corrupt ${what} at byte ${offset}: expected a small element of at most 4 bytes, found ${small}`,
      );
    }
    return { type: first & 0xffff, data: bytes.subarray(offset + 4, offset + 4 + small), end: offset + TAG_BYTES };
  }
  const length = view.getUint32(4, true);
  const start = offset + TAG_BYTES;
  if (start + length > bytes.length) {
    throw new WeightsError(
      file,
      undefined,
      `truncated ${what} at byte ${offset}: expected ${length} bytes of data, found ${bytes.length - start}`,
    );
  }
  const end = first === miCOMPRESSED ? start + length : Math.min(bytes.length, start + align8(length));
  return { type: first, data: bytes.subarray(start, start + length), end };
}

/** Largest inflated miCOMPRESSED element accepted (GoogLeNet's largest, loss3/classifier in double, is 8 MB). */
export const MAX_MAT_ELEMENT_BYTES = 256 * 2 ** 20;

/**
 * Inflates a miCOMPRESSED payload to the size its inner tag declares (at most
 * MAX_MAT_ELEMENT_BYTES) and verifies its Adler-32: inflation stops at the declared size.
 */
function inflate(stream: Uint8Array, file: string): Uint8Array {
  return inflateBounded(
    stream,
    {
      declared: {
        headBytes: TAG_BYTES,
        maxBytes: MAX_MAT_ELEMENT_BYTES,
        size: (tag) => {
          const view = new DataView(tag.buffer, tag.byteOffset, TAG_BYTES);
          return view.getUint32(0, true) >>> 16 !== 0 ? TAG_BYTES : TAG_BYTES + view.getUint32(4, true);
        },
      },
    },
    (message) => {
      throw new WeightsError(file, undefined, `compressed element of ${stream.length} bytes: ${message}`);
    },
  );
}

/** Parses the payload of an miMATRIX element: array flags, dims, name, real part. */
function readMatrix(payload: Uint8Array, file: string): MatVariable {
  if (payload.length === 0) {
    throw new WeightsError(
      file,
      undefined,
      "miMATRIX element: expected array flags, dims, name and data, found an empty element",
    );
  }
  let offset = 0;
  const next = (what: string, types: number[]): Element => {
    const element = readElement(payload, offset, file, what);
    if (!types.includes(element.type)) {
      throw new WeightsError(
        file,
        undefined,
        `${what}: expected element type ${types.join(" or ")}, found ${element.type}`,
      );
    }
    offset = element.end;
    return element;
  };
  const flags = next("array flags", [miUINT32]).data;
  if (flags.length < 4) {
    throw new WeightsError(file, undefined, `array flags: expected at least 4 bytes, found ${flags.length}`);
  }
  const dimsElement = next("dimensions", [miINT32]).data;
  const dims = Array.from(new Int32Array(dimsElement.slice(0, dimsElement.length & ~3).buffer));
  const name = new TextDecoder().decode(next("array name", [miINT8]).data);
  const label = `variable ${JSON.stringify(name)}`;
  const arrayClass = flags[0]!;
  const className = CLASS_NAMES[arrayClass] ?? `number ${arrayClass}`;
  if (!ACCEPTED_CLASSES.has(className)) {
    throw new WeightsError(
      file,
      undefined,
      `${label}: expected a double, single or uint8 array, found class ${className}`,
    );
  }
  if ((flags[1]! & COMPLEX_FLAG) !== 0) {
    throw new WeightsError(file, undefined, `${label}: expected a real ${className} array, found a complex one`);
  }
  if (dims.length < 2 || dims.some((d) => d < 0)) {
    throw new WeightsError(
      file,
      undefined,
      `${label}: expected at least 2 non-negative dimensions, found [${dims.join(", ")}]`,
    );
  }
  if (offset >= payload.length) {
    throw new WeightsError(file, undefined, `${label}: expected a real-part element, found end of array`);
  }
  const real = readElement(payload, offset, file, `${label} real part`);
  const type = REAL_TYPES.get(real.type);
  if (type === undefined) {
    throw new WeightsError(
      file,
      undefined,
      `${label}: expected real part of type miSINGLE (${miSINGLE}), miDOUBLE (${miDOUBLE}) or miUINT8 (${miUINT8}), found type ${real.type}`,
    );
  }
  const count = elementCount(dims);
  if (real.data.length !== count * type.size) {
    throw new WeightsError(
      file,
      undefined,
      `${label}: dims [${dims.join(", ")}] need ${count} ${type.name} values (${count * type.size} bytes), found ${real.data.length} bytes`,
    );
  }
  return { name, dims, data: toFloat32(real.data, real.type) };
}

/** Converts little-endian values of an accepted real-part type to a fresh Float32Array. */
function toFloat32(bytes: Uint8Array, type: number): Float32Array {
  switch (type) {
    case miSINGLE:
      return new Float32Array(bytes.slice().buffer);
    case miDOUBLE:
      return Float32Array.from(new Float64Array(bytes.slice().buffer));
    default:
      return Float32Array.from(bytes);
  }
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;
const ascii = (bytes: Uint8Array): string => String.fromCharCode(...bytes);
