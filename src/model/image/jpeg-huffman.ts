// Huffman entropy decoding of baseline JPEG blocks (ITU T.81 F.2.2) for jpeg.ts: tables built from a DHT
// segment, a bit reader over one restart segment of unstuffed scan data, and the per-block DC/AC decoders.
// Pure JS. Errors are thrown as JpegDataError (a message without the file name); jpeg.ts adds the file.

import { ZIGZAG } from "./jpeg-idct.js";

/** Corrupt entropy-coded data or tables; jpeg.ts turns it into an ImageError naming the file. */
export class JpegDataError extends Error {}

/** Bits of the first-level lookup tables: codes of at most LOOKUP_BITS bits decode with one table read. */
const LOOKUP_BITS = 9;
const LOOKUP_SIZE = 1 << LOOKUP_BITS;

/** A canonical Huffman table (ITU T.81 C and F.2.2.3) with one-read lookups for short codes. */
export class HuffmanTable {
  /** lookup[next 9 bits] = (code length << 8) | symbol, or 0 when the code is longer than 9 bits. */
  readonly lookup = new Int32Array(LOOKUP_SIZE);
  /**
   * AC only: fastAc[next 9 bits] = (value << 9) | (run << 5) | bits, when a code and its value bits fit in
   * 9 bits together (bits = code length + value size; value is the signed coefficient); else 0.
   */
  readonly fastAc = new Int32Array(LOOKUP_SIZE);
  /** maxCode[l]: the largest code of length l, or -1 when there is none (F.2.2.3 MAXCODE). */
  private readonly maxCode = new Int32Array(18).fill(-1);
  /** valOffset[l]: index in values of a length-l code, minus that code (VALPTR - MINCODE). */
  private readonly valOffset = new Int32Array(17);
  private readonly values: Uint8Array;

  /** counts[l - 1]: number of codes of length l (1..16); values: the symbols in code order (DHT's BITS, HUFFVAL). */
  constructor(counts: Uint8Array, values: Uint8Array, isAc: boolean) {
    this.values = values;
    let code = 0,
      index = 0;
    for (let length = 1; length <= 16; length++) {
      const n = counts[length - 1];
      this.valOffset[length] = index - code;
      for (let i = 0; i < n; i++, code++, index++) {
        if (length <= LOOKUP_BITS) {
          const shift = LOOKUP_BITS - length;
          const entry = (length << 8) | values[index];
          for (let j = code << shift; j < (code + 1) << shift; j++) this.lookup[j] = entry;
        }
      }
      if (n > 0) this.maxCode[length] = code - 1;
      if (code > 1 << length) throw new JpegDataError(`invalid Huffman table: more codes of ${length} bits than fit`);
      code <<= 1;
    }
    if (isAc) this.buildFastAc();
  }

  private buildFastAc(): void {
    for (let i = 0; i < LOOKUP_SIZE; i++) {
      const entry = this.lookup[i];
      if (entry === 0) continue;
      const length = entry >> 8,
        symbol = entry & 255;
      const size = symbol & 15;
      if (size === 0 || length + size > LOOKUP_BITS) continue;
      const bits = (i >> (LOOKUP_BITS - length - size)) & ((1 << size) - 1);
      const value = bits < 1 << (size - 1) ? bits - (1 << size) + 1 : bits;
      this.fastAc[i] = (value << 9) | ((symbol >> 4) << 5) | (length + size);
    }
  }

  /** Symbol of a code longer than LOOKUP_BITS starting at the reader's position (consumes it). */
  decodeSlow(r: BitReader): number {
    for (let length = LOOKUP_BITS + 1; length <= 16; length++) {
      const code = r.peek(length);
      if (code <= this.maxCode[length]) {
        r.bits -= length;
        return this.values[this.valOffset[length] + code];
      }
    }
    throw new JpegDataError("corrupt entropy-coded data: expected a Huffman code, found a bit pattern of no code");
  }
}

/**
 * MSB-first bit reader over data[pos, end): one restart interval of scan data with byte stuffing already
 * removed. Past `end` it reads zero bits (libjpeg does the same) and counts them in `overrun`, so a caller can
 * tell a truncated segment (overrun bits actually consumed) from a harmless look-ahead.
 */
export class BitReader {
  /** The next `bits` bits of the stream are the low bits of acc (higher bits are stale). */
  acc = 0;
  bits = 0;
  /** Zero bytes supplied past end. */
  overrun = 0;
  constructor(
    private readonly data: Uint8Array,
    private pos: number,
    private end: number,
  ) {}

  /** Restarts at data[pos, end) (a new restart interval). */
  reset(pos: number, end: number): void {
    this.pos = pos;
    this.end = end;
    this.acc = 0;
    this.bits = 0;
    this.overrun = 0;
  }

  /** Makes at least 25 bits available. */
  refill(): void {
    while (this.bits <= 24) {
      let byte = 0;
      if (this.pos < this.end) byte = this.data[this.pos++];
      else this.overrun++;
      this.acc = (this.acc << 8) | byte;
      this.bits += 8;
    }
  }

  /** The next n (1..16) bits without consuming them; needs n <= bits. */
  peek(n: number): number {
    return (this.acc >>> (this.bits - n)) & ((1 << n) - 1);
  }

  /** Bits consumed beyond the end of the segment (positive only for truncated data). */
  bitsPastEnd(): number {
    return this.overrun * 8 - this.bits;
  }

  /** Decodes one Huffman symbol. */
  decode(table: HuffmanTable): number {
    if (this.bits < 16) this.refill();
    const entry = table.lookup[(this.acc >>> (this.bits - LOOKUP_BITS)) & (LOOKUP_SIZE - 1)];
    if (entry !== 0) {
      this.bits -= entry >> 8;
      return entry & 255;
    }
    return table.decodeSlow(this);
  }

  /** Reads s (1..15) value bits and extends them to a signed value (F.2.2.1 EXTEND). */
  receiveExtend(s: number): number {
    if (this.bits < s) this.refill();
    const v = (this.acc >>> (this.bits - s)) & ((1 << s) - 1);
    this.bits -= s;
    return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
  }
}

/** Per-component decoding state of a scan: the tables and the DC predictor. */
export interface BlockCoder {
  dc: HuffmanTable;
  ac: HuffmanTable;
  /** Quantization table in zigzag order. */
  quant: Uint16Array;
  /** DC predictor (previous block's DC difference sum, before dequantization). */
  pred: number;
}

/**
 * Decodes one block into coef (natural order, dequantized; coef must be all zero on entry) and returns the last
 * zigzag position written (0 when only the DC coefficient may be non-zero).
 */
export function decodeBlock(r: BitReader, c: BlockCoder, coef: Int32Array): number {
  const t = r.decode(c.dc);
  if (t > 11) throw new JpegDataError(`corrupt entropy-coded data: expected a DC size of at most 11 bits, found ${t}`);
  c.pred += t === 0 ? 0 : r.receiveExtend(t);
  coef[0] = c.pred * c.quant[0];
  const ac = c.ac,
    fastAc = ac.fastAc,
    quant = c.quant;
  let last = 0,
    k = 1;
  while (k < 64) {
    if (r.bits < 16) r.refill();
    const fast = fastAc[(r.acc >>> (r.bits - LOOKUP_BITS)) & (LOOKUP_SIZE - 1)];
    if (fast !== 0) {
      r.bits -= fast & 31;
      k += (fast >> 5) & 15;
      if (k > 63) throw tooManyCoefficients();
      coef[ZIGZAG[k]] = (fast >> 9) * quant[k];
      last = k++;
      continue;
    }
    const symbol = r.decode(ac);
    const size = symbol & 15,
      run = symbol >> 4;
    if (size === 0) {
      if (run !== 15) return last; // EOB
      k += 16; // ZRL: sixteen zeros
      continue;
    }
    k += run;
    if (k > 63) throw tooManyCoefficients();
    coef[ZIGZAG[k]] = r.receiveExtend(size) * quant[k];
    last = k++;
  }
  if (k > 64) throw tooManyCoefficients(); // a ZRL ran past the block
  return last;
}

const tooManyCoefficients = (): JpegDataError =>
  new JpegDataError("corrupt entropy-coded data: expected at most 63 AC coefficients in a block, found more");

/** As decodeBlock but keeps only the DC coefficient: returns it dequantized; the AC codes are skipped. */
export function decodeDcOnly(r: BitReader, c: BlockCoder): number {
  const t = r.decode(c.dc);
  if (t > 11) throw new JpegDataError(`corrupt entropy-coded data: expected a DC size of at most 11 bits, found ${t}`);
  c.pred += t === 0 ? 0 : r.receiveExtend(t);
  const ac = c.ac,
    fastAc = ac.fastAc;
  let k = 1;
  while (k < 64) {
    if (r.bits < 16) r.refill();
    const fast = fastAc[(r.acc >>> (r.bits - LOOKUP_BITS)) & (LOOKUP_SIZE - 1)];
    if (fast !== 0) {
      r.bits -= fast & 31;
      k += ((fast >> 5) & 15) + 1;
      continue;
    }
    const symbol = r.decode(ac);
    const size = symbol & 15;
    if (size === 0) {
      if (symbol !== 0xf0) break; // EOB
      k += 16;
      continue;
    }
    if (r.bits < size) r.refill();
    r.bits -= size;
    k += (symbol >> 4) + 1;
  }
  if (k > 64) throw tooManyCoefficients();
  return c.pred * c.quant[0];
}
