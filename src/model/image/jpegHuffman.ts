// Huffman entropy decoding of baseline JPEG blocks (ITU T.81 F.2.2) for jpeg.ts: tables built from a DHT
// segment, a bit reader over one restart segment of unstuffed scan data, and the per-block DC/AC decoders.
// Pure JS. Errors are thrown as JpegDataError (a message without the file name); jpeg.ts adds the file.

import { ZIGZAG } from "./jpegIdct.js";

/** Corrupt entropy-coded data or tables; jpeg.ts turns it into an ImageError naming the file. */
export class JpegDataError extends Error {}

/** Bits of the first-level lookup tables: codes of at most LOOKUP_BITS bits decode with one table read. */
const LOOKUP_BITS = 11;
const LOOKUP_SIZE = 1 << LOOKUP_BITS;
const LOOKUP_MASK = LOOKUP_SIZE - 1;
/**
 * Most bits one skipAc entry consumes (a code of at most LOOKUP_BITS bits and its value bits: baseline AC values
 * have at most 10); a refill leaves at least 25 bits, so skipping needs one refill check per code.
 */
const SKIP_MAX_BITS = 21;
/**
 * skipAc's advance for EOB: ends the block's loop (k >= 64); the position before it stays readable as
 * k & (SKIP_EOB - 1) (at most 63 + 16), to tell a run past the block.
 */
const SKIP_EOB = 128;
/** Positions below which skipAcPairs may be used (one code advances at most 16). */
const SKIP_PAIR_BEFORE = 48;

/** A canonical Huffman table (ITU T.81 C and F.2.2.3) with one-read lookups for short codes. */
export class HuffmanTable {
  /** lookup[next LOOKUP_BITS bits] = (code length << 8) | symbol, or 0 when the code is longer. */
  readonly lookup = new Int32Array(LOOKUP_SIZE);
  /**
   * AC only: fastAc[next LOOKUP_BITS bits] = (value << 9) | (run << 5) | bits, when a code and its value bits
   * fit in LOOKUP_BITS bits together (bits = code length + value size; value is the signed coefficient); else 0.
   */
  readonly fastAc = new Int32Array(LOOKUP_SIZE);
  /**
   * AC only, for blocks whose AC coefficients are skipped: skipAc[next LOOKUP_BITS bits] =
   * (bits consumed) << 8 | zigzag positions advanced (run + 1; 16 for ZRL; SKIP_EOB for EOB) for one code and
   * its value bits, or 0 when the code is longer than LOOKUP_BITS or the two exceed SKIP_MAX_BITS (then
   * decodeSlow reads it).
   */
  readonly skipAc = new Int32Array(LOOKUP_SIZE);
  /**
   * As skipAc, but two codes where the second one also lies within the LOOKUP_BITS bits (its value bits may
   * lie beyond; both within SKIP_MAX_BITS bits). Only for positions k < SKIP_PAIR_BEFORE: then the first
   * code leaves k <= 63, so the second belongs to the same block.
   */
  readonly skipAcPairs = new Int32Array(LOOKUP_SIZE);
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
    if (isAc) this.buildAcTables();
  }

  private buildAcTables(): void {
    for (let i = 0; i < LOOKUP_SIZE; i++) {
      const entry = this.lookup[i];
      if (entry === 0) continue;
      const length = entry >> 8,
        symbol = entry & 255;
      const size = symbol & 15,
        run = symbol >> 4;
      if (length + size <= SKIP_MAX_BITS)
        this.skipAc[i] = ((length + size) << 8) | (size === 0 ? (run === 15 ? 16 : SKIP_EOB) : run + 1);
      if (size === 0 || length + size > LOOKUP_BITS) continue;
      const bits = (i >> (LOOKUP_BITS - length - size)) & ((1 << size) - 1);
      const value = bits < 1 << (size - 1) ? bits - (1 << size) + 1 : bits;
      this.fastAc[i] = (value << 9) | (run << 5) | (length + size);
    }
    // Pairs: a first code (not EOB) whose bits leave the second code's whole within the window.
    const single = this.skipAc,
      pairs = this.skipAcPairs;
    pairs.set(single);
    for (let i = 0; i < LOOKUP_SIZE; i++) {
      const first = single[i],
        used = first >> 8;
      if (first === 0 || (first & 255) === SKIP_EOB || used >= LOOKUP_BITS) continue;
      const second = single[(i << used) & LOOKUP_MASK];
      const secondCode = this.lookup[(i << used) & LOOKUP_MASK] >> 8;
      if (second === 0 || secondCode > LOOKUP_BITS - used || used + (second >> 8) > SKIP_MAX_BITS) continue;
      pairs[i] = ((used + (second >> 8)) << 8) | ((first & 255) + (second & 255));
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
 * tell a truncated segment (overrun bits actually consumed) from a harmless look-ahead. The block decoders
 * below keep acc and bits in locals while they run, refilling through refillFrom.
 */
export class BitReader {
  /** The next `bits` bits of the stream are the low bits of acc (higher bits are stale). */
  acc = 0;
  bits = 0;
  /** Zero bytes supplied past end. */
  overrun = 0;
  constructor(
    readonly data: Uint8Array,
    public pos: number,
    public end: number,
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
    this.acc = this.refillFrom(this.acc);
  }

  /**
   * refill() for a caller that holds the accumulator in a local: takes it, returns it refilled (this.bits
   * updated). No bounds check per byte while 4 bytes remain.
   */
  refillFrom(acc: number): number {
    let bits = this.bits,
      pos = this.pos;
    const data = this.data;
    if (pos + 4 <= this.end) {
      while (bits <= 24) {
        acc = (acc << 8) | data[pos++];
        bits += 8;
      }
    } else {
      while (bits <= 24) {
        let byte = 0;
        if (pos < this.end) byte = data[pos++];
        else this.overrun++;
        acc = (acc << 8) | byte;
        bits += 8;
      }
    }
    this.bits = bits;
    this.pos = pos;
    return acc;
  }

  /** The next n (1..16) bits without consuming them; needs n <= bits. */
  peek(n: number): number {
    return (this.acc >>> (this.bits - n)) & ((1 << n) - 1);
  }

  /** Bits consumed beyond the end of the segment (positive only for truncated data). */
  bitsPastEnd(): number {
    return this.overrun * 8 - this.bits;
  }

  /** Bits of the segment not consumed yet (the encoder's padding is fewer than 8). */
  bitsLeft(): number {
    return (this.end - this.pos) * 8 - this.bitsPastEnd();
  }

  /** Decodes one Huffman symbol. */
  decode(table: HuffmanTable): number {
    if (this.bits < 16) this.refill();
    const entry = table.lookup[(this.acc >>> (this.bits - LOOKUP_BITS)) & LOOKUP_MASK];
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

/** Decodes the DC difference of a block into c.pred (the reader's state is in the reader). */
function decodeDc(r: BitReader, c: BlockCoder): void {
  const t = r.decode(c.dc);
  if (t > 11) throw new JpegDataError(`corrupt entropy-coded data: expected a DC size of at most 11 bits, found ${t}`);
  c.pred += t === 0 ? 0 : r.receiveExtend(t);
}

/**
 * Decodes one block into coef (natural order, dequantized; coef must be all zero on entry) and returns the last
 * zigzag position written (0 when only the DC coefficient may be non-zero).
 */
export function decodeBlock(r: BitReader, c: BlockCoder, coef: Int32Array): number {
  decodeDc(r, c);
  const quant = c.quant;
  coef[0] = c.pred * quant[0];
  const ac = c.ac,
    fastAc = ac.fastAc,
    lookup = ac.lookup;
  let acc = r.acc,
    bits = r.bits;
  let last = 0,
    k = 1;
  while (k < 64) {
    if (bits < 16) {
      r.bits = bits;
      acc = r.refillFrom(acc);
      bits = r.bits;
    }
    const peek = (acc >>> (bits - LOOKUP_BITS)) & LOOKUP_MASK;
    const fast = fastAc[peek];
    if (fast !== 0) {
      bits -= fast & 31;
      k += (fast >> 5) & 15;
      if (k > 63) throw tooManyCoefficients();
      coef[ZIGZAG[k]] = (fast >> 9) * quant[k];
      last = k++;
      continue;
    }
    let symbol = lookup[peek];
    if (symbol !== 0) {
      bits -= symbol >> 8;
      symbol &= 255;
    } else {
      r.acc = acc;
      r.bits = bits;
      symbol = ac.decodeSlow(r);
      bits = r.bits;
    }
    const size = symbol & 15,
      run = symbol >> 4;
    if (size === 0) {
      if (run !== 15) break; // EOB
      k += 16; // ZRL: sixteen zeros
      continue;
    }
    k += run;
    if (k > 63) throw tooManyCoefficients();
    if (bits < size) {
      r.bits = bits;
      acc = r.refillFrom(acc);
      bits = r.bits;
    }
    const v = (acc >>> (bits - size)) & ((1 << size) - 1);
    bits -= size;
    coef[ZIGZAG[k]] = (v < 1 << (size - 1) ? v - (1 << size) + 1 : v) * quant[k];
    last = k++;
  }
  r.acc = acc;
  r.bits = bits;
  if (k > 64) throw tooManyCoefficients(); // a ZRL ran past the block
  return last;
}

const tooManyCoefficients = (): JpegDataError =>
  new JpegDataError("corrupt entropy-coded data: expected at most 63 AC coefficients in a block, found more");

/**
 * As decodeBlock but keeps only the DC coefficient: returns it dequantized. The AC codes are skipped, not
 * decoded: one skipAc read gives a code's length, its value size and the positions it advances.
 */
export function decodeDcOnly(r: BitReader, c: BlockCoder): number {
  decodeDc(r, c);
  const ac = c.ac,
    skipAc = ac.skipAc,
    pairs = ac.skipAcPairs;
  let acc = r.acc,
    bits = r.bits;
  let k = 1;
  while (k < 64) {
    if (bits < SKIP_MAX_BITS) {
      r.bits = bits;
      acc = r.refillFrom(acc);
      bits = r.bits;
    }
    const skip = (k < SKIP_PAIR_BEFORE ? pairs : skipAc)[(acc >>> (bits - LOOKUP_BITS)) & LOOKUP_MASK];
    if (skip !== 0) {
      bits -= skip >> 8;
      k += skip & 255;
      continue;
    }
    r.acc = acc;
    r.bits = bits;
    const symbol = ac.decodeSlow(r);
    const size = symbol & 15;
    if (size !== 0) r.receiveExtend(size);
    acc = r.acc;
    bits = r.bits;
    k += size === 0 ? (symbol === 0xf0 ? 16 : SKIP_EOB) : (symbol >> 4) + 1;
  }
  r.acc = acc;
  r.bits = bits;
  if ((k & (SKIP_EOB - 1)) > 64) throw tooManyCoefficients(); // a run or ZRL past the block (before any EOB)
  return c.pred * c.quant[0];
}
