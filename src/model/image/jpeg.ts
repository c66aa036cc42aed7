// A JPEG decoder for classification input: baseline and extended sequential Huffman JPEG (ITU T.81 SOF0/SOF1,
// 8-bit samples, 1 or 3 components, any power-of-two chroma subsampling, restart markers, interleaved or
// per-component scans) decoded straight to a reduced size with the DCT: 1/1, 1/2, 1/4 or 1/8 of the image
// (jpegIdct.ts derives the scaled IDCTs; 1/8 is the DC coefficients alone). Pure JS, no node: imports.
//
// Chroma at a reduced scale: a component subsampled by r (2 for 4:2:0 chroma) is decoded with an IDCT r times
// larger than luma's, up to 8, so at 1/2, 1/4 and 1/8 a 2x-subsampled chroma comes out at the output size with
// no upsampling; what is left (chroma of 4:2:0 at 1/1) is upsampled by replication, as jpeg-js does.
// Colour: JFIF YCbCr -> RGB (ITU-R BT.601, full range), or none for an Adobe APP14 transform-0 file (RGB).
// EXIF orientation is ignored (as in decode.ts): pixels come out in stored order.
//
// Not decoded here, reported as JpegUnsupported instead (callers fall back to jpeg-js or throw): progressive,
// arithmetic-coded, 12-bit, lossless, hierarchical, 4-component (CMYK/YCCK) files, and unusual layouts
// (2 components, sampling factors whose ratios are not powers of two).

import { ArgumentError, ImageError } from "../../host/errors.js";
import { DEFAULT_MAX_IMAGE_PIXELS, type RgbaImage } from "./rgba.js";
import { BitReader, type BlockCoder, decodeBlock, decodeDcOnly, HuffmanTable, JpegDataError } from "./jpegHuffman.js";
import { idctScaled, ZIGZAG } from "./jpegIdct.js";
import { readJpegMarker } from "./jpegMarkers.js";
import { scratch, type Workspace } from "./workspace.js";

/** A kind of JPEG this decoder does not handle. */
export type JpegFeature = "progressive" | "arithmetic" | "12-bit" | "lossless" | "hierarchical" | "CMYK" | "layout";

/** decodeJpegScaled's answer for a valid-looking JPEG it does not decode. */
export interface JpegUnsupported {
  unsupported: JpegFeature;
  /** What was found, e.g. "progressive JPEG (SOF2)". */
  message: string;
}

/** Options of decodeJpegScaled. */
export interface JpegScaledOptions {
  /**
   * The decoder picks the smallest DCT scale 1/2^k (k = 0..3) whose output still has at least this many pixels
   * on its short side (ceil(side / 2^k) >= minShortSide); 1/1 when even that is smaller. A number >= 0;
   * Infinity always decodes at full size.
   */
  minShortSide: number;
  /** Largest width x height accepted, checked from the frame header (default DEFAULT_MAX_IMAGE_PIXELS). */
  maxPixels?: number;
  /**
   * Scratch memory for the component planes, the scan copy and the RGBA output (slots "jpeg.*" and
   * "rgba"); the returned pixels are then a view of the workspace. Default: fresh arrays.
   */
  workspace?: Workspace;
}

/** True when decodeJpegScaled declined the file. */
export function isJpegUnsupported(result: RgbaImage | JpegUnsupported): result is JpegUnsupported {
  return "unsupported" in result;
}

/** The k of the scale 1/2^k decodeJpegScaled uses for a width x height image (see JpegScaledOptions). */
export function jpegScaleShift(width: number, height: number, minShortSide: number): number {
  const short = Math.min(width, height);
  for (let k = 3; k > 0; k--) if (Math.ceil(short / 2 ** k) >= minShortSide) return k;
  return 0;
}

/** One frame component and where its decoded samples go. */
interface Component {
  id: number;
  h: number;
  v: number;
  quantId: number;
  /** Blocks per row and per column, padded to whole MCUs. */
  blocksX: number;
  blocksY: number;
  /** Blocks per row and column that hold image samples (the extent of a non-interleaved scan, A.2.2). */
  usedBlocksX: number;
  usedBlocksY: number;
  /** Samples each block decodes to, per axis (1, 2, 4 or 8). */
  bx: number;
  by: number;
  /** Output pixels per decoded sample, per axis (replication). */
  ux: number;
  uy: number;
  /** Decoded samples, (blocksX * bx) x (blocksY * by), row-major. */
  plane: Uint8ClampedArray;
  scanned: boolean;
}

interface Frame {
  width: number;
  height: number;
  components: Component[];
  mcusX: number;
  mcusY: number;
}

/** Receives each decoded block: coef (natural order, dequantized, zero past zigzag position last). */
type BlockSink = (c: Component, row: number, col: number, coef: Int32Array, last: number) => void;

/** The default sink: scaled IDCT into the component's plane. */
const idctSink: BlockSink = (c, row, col, coef, last) => {
  const stride = c.blocksX * c.bx;
  idctScaled(coef, last, c.bx, c.by, c.plane, row * c.by * stride + col * c.bx, stride);
};

const SOF_KINDS: Record<number, { feature: JpegFeature; what: string } | undefined> = {
  0xc2: { feature: "progressive", what: "progressive JPEG (SOF2)" },
  0xc3: { feature: "lossless", what: "lossless JPEG (SOF3)" },
  0xc5: { feature: "hierarchical", what: "hierarchical sequential JPEG (SOF5)" },
  0xc6: { feature: "hierarchical", what: "hierarchical progressive JPEG (SOF6)" },
  0xc7: { feature: "hierarchical", what: "hierarchical lossless JPEG (SOF7)" },
  0xc9: { feature: "arithmetic", what: "arithmetic-coded sequential JPEG (SOF9)" },
  0xca: { feature: "arithmetic", what: "arithmetic-coded progressive JPEG (SOF10)" },
  0xcb: { feature: "arithmetic", what: "arithmetic-coded lossless JPEG (SOF11)" },
  0xcd: { feature: "arithmetic", what: "arithmetic-coded hierarchical JPEG (SOF13)" },
  0xce: { feature: "arithmetic", what: "arithmetic-coded hierarchical progressive JPEG (SOF14)" },
  0xcf: { feature: "arithmetic", what: "arithmetic-coded hierarchical lossless JPEG (SOF15)" },
};

/**
 * Walks the tables of a DQT (FF DB) or DHT (FF C4) segment (without its length), calling `table`
 * with each one's class (DQT: 0 for 8-bit, 1 for 16-bit values; DHT: 0 DC, 1 AC), id and bytes
 * (DQT: the 64 values; DHT: 16 code-length counts, then the symbols). A class above 1, an id above
 * 3 or a table running past the segment goes to `corrupt`.
 */
export function forEachJpegTable(
  segment: Uint8Array,
  marker: 0xdb | 0xc4,
  table: (tableClass: number, id: number, body: Uint8Array) => void,
  corrupt: (message: string) => never,
): void {
  const name = marker === 0xdb ? "quantization (DQT)" : "Huffman (DHT)";
  for (let i = 0; i < segment.length; ) {
    const tableClass = segment[i] >> 4,
      id = segment[i] & 15;
    if (tableClass > 1 || id > 3) {
      corrupt(`${name} segment: expected table class 0-1 and id 0-3 at byte ${i}, found ${tableClass} and ${id}`);
    }
    let size = tableClass === 0 ? 64 : 128;
    if (marker === 0xc4) {
      if (i + 17 > segment.length) corrupt(`${name} segment: expected 16 code-length counts at byte ${i + 1}`);
      size = 16;
      for (let k = 1; k <= 16; k++) size += segment[i + k];
    }
    if (i + 1 + size > segment.length) {
      corrupt(
        `${name} segment: expected ${size} bytes of table ${id} at byte ${i + 1}, found ${segment.length - i - 1}`,
      );
    }
    table(tableClass, id, segment.subarray(i + 1, i + 1 + size));
    i += 1 + size;
  }
}

/** Thrown inside the decoder to return a JpegUnsupported from decodeJpegScaled. */
class Unsupported {
  constructor(readonly result: JpegUnsupported) {}
}

const hex = (b: number): string => b.toString(16).toUpperCase().padStart(2, "0");

/**
 * Whole bytes of entropy-coded data a restart segment may hold after its last MCU. libjpeg decodes
 * such files with a warning ("extraneous bytes before marker"); a byte or two is an encoder's
 * sloppy padding, more means the data does not fit the headers (a corrupted sampling factor or
 * table, bytes inserted into the scan), which jpeg-js would decode to garbage without a word.
 */
const EXTRANEOUS_BYTES_ALLOWED = 2;

/**
 * Marker-level parser and decoder of one file; scale shift k (output 1/2^k) or "coefficients" mode (k = 0).
 * With `checkOnly`, blocks are entropy-decoded and dropped (no planes), for any sampling layout.
 */
class JpegDecoder {
  private pos = 2;
  private readonly quant: (Uint16Array | undefined)[] = [];
  private readonly dcTables: (HuffmanTable | undefined)[] = [];
  private readonly acTables: (HuffmanTable | undefined)[] = [];
  private restartInterval = 0;
  private adobeTransform: number | undefined;
  frame: Frame | undefined;
  private clean: Uint8Array | undefined;
  private readonly coef = new Int32Array(64);

  constructor(
    private readonly bytes: Uint8Array,
    private readonly file: string,
    /** Chooses the scale shift k from the image size, once the frame header is read. */
    private readonly chooseShift: (width: number, height: number) => number,
    private readonly sink: BlockSink,
    private readonly maxPixels: number = DEFAULT_MAX_IMAGE_PIXELS,
    private readonly checkOnly = false,
    private readonly workspace?: Workspace,
  ) {}

  private corrupt(message: string): ImageError {
    return new ImageError(this.file, `corrupt JPEG: ${message}`);
  }

  /** Reads every marker segment and decodes every scan; returns the frame. */
  run(): Frame {
    const { bytes } = this;
    for (;;) {
      const read = readJpegMarker(bytes, this.pos);
      if (read.kind === "end") break; // no EOI: accepted when every component was decoded
      if (read.kind === "not-marker") {
        throw this.corrupt(`expected a marker (FF) at offset ${this.pos}, found ${hex(read.found)}`);
      }
      if (read.kind === "no-code") throw this.truncated("a marker code after FF");
      if (read.kind === "no-length") throw this.truncated(`the length of marker FF ${hex(read.marker)}`);
      if (read.kind === "overrun") {
        throw this.corrupt(
          `expected ${read.length} bytes of marker FF ${hex(read.marker)} at offset ${read.at}, ` +
            `found ${bytes.length - read.at}`,
        );
      }
      this.pos = read.next;
      if (read.kind === "standalone") {
        if (read.marker === 0xd9) break; // EOI
        continue;
      }
      this.segment(read.marker, read.body);
    }
    const frame = this.frame;
    if (!frame) throw this.corrupt("expected a frame header (SOF0/SOF1) before the end of the file, found none");
    const missing = frame.components.find((c) => !c.scanned);
    if (missing) throw this.truncated(`a scan of component ${missing.id}`);
    return frame;
  }

  private truncated(expected: string): ImageError {
    return new ImageError(this.file, `truncated JPEG: expected ${expected}, found the end of the data`);
  }

  private segment(marker: number, s: Uint8Array): void {
    switch (marker) {
      case 0xdb:
        return this.readQuant(s);
      case 0xc4:
        return this.readHuffman(s);
      case 0xdd:
        if (s.length < 2) throw this.corrupt(`expected a 2-byte DRI segment, found ${s.length} bytes`);
        this.restartInterval = (s[0] << 8) | s[1];
        return;
      case 0xee: // Adobe APP14: "Adobe", version, flags0, flags1, transform
        if (s.length >= 12 && String.fromCharCode(...s.subarray(0, 5)) === "Adobe") this.adobeTransform = s[11];
        return;
      case 0xc0:
      case 0xc1:
        return this.readFrame(s);
      case 0xcc:
        throw new Unsupported({ unsupported: "arithmetic", message: "arithmetic-coded JPEG (DAC marker)" });
      case 0xda:
        return this.readScan(s);
    }
    const kind = SOF_KINDS[marker];
    if (kind) throw new Unsupported({ unsupported: kind.feature, message: kind.what });
    // APPn, COM and others: skipped
  }

  private readQuant(s: Uint8Array): void {
    forEachJpegTable(
      s,
      0xdb,
      (precision, id, values) => {
        const table = new Uint16Array(64);
        for (let k = 0; k < 64; k++) table[k] = precision === 0 ? values[k] : (values[2 * k] << 8) | values[2 * k + 1];
        this.quant[id] = table;
      },
      this.fail,
    );
  }

  private readHuffman(s: Uint8Array): void {
    forEachJpegTable(
      s,
      0xc4,
      (tableClass, id, body) => {
        const counts = body.subarray(0, 16);
        if (body.length > 16 + 256) {
          throw this.corrupt(`expected at most 256 Huffman symbols in DHT, found ${body.length - 16}`);
        }
        try {
          const table = new HuffmanTable(counts, body.slice(16), tableClass === 1);
          (tableClass === 0 ? this.dcTables : this.acTables)[id] = table;
        } catch (e) {
          if (e instanceof JpegDataError) throw this.corrupt(e.message);
          throw e;
        }
      },
      this.fail,
    );
  }

  private readonly fail = (message: string): never => {
    throw this.corrupt(message);
  };

  private readFrame(s: Uint8Array): void {
    if (this.frame) throw this.corrupt("expected one frame header, found a second SOF");
    if (s.length < 6) throw this.corrupt(`expected a SOF segment of at least 6 bytes, found ${s.length}`);
    const precision = s[0],
      height = (s[1] << 8) | s[2],
      width = (s[3] << 8) | s[4],
      n = s[5];
    if (precision === 12)
      throw new Unsupported({ unsupported: "12-bit", message: "12-bit JPEG (extended sequential)" });
    if (precision !== 8) throw this.corrupt(`expected 8-bit samples, found a precision of ${precision} bits`);
    if (n === 4) throw new Unsupported({ unsupported: "CMYK", message: "4-component (CMYK or YCCK) JPEG" });
    if (n !== 1 && n !== 3) throw new Unsupported({ unsupported: "layout", message: `JPEG with ${n} components` });
    if (s.length < 6 + 3 * n) throw this.corrupt(`expected ${6 + 3 * n} bytes of SOF, found ${s.length}`);
    if (width === 0 || height === 0) {
      throw this.corrupt(`expected a positive width and height, found ${width}x${height} (DNL is not supported)`);
    }
    if (width * height > this.maxPixels) {
      throw new ImageError(
        this.file,
        `image too large: expected at most ${this.maxPixels} pixels, ` +
          `found ${width}x${height} = ${width * height} pixels`,
      );
    }
    const raw = Array.from({ length: n }, (_, i) => ({
      id: s[6 + 3 * i],
      h: s[7 + 3 * i] >> 4,
      v: s[7 + 3 * i] & 15,
      quantId: s[8 + 3 * i],
    }));
    raw.forEach((c, i) => {
      if (c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || c.quantId > 3) {
        throw this.corrupt(
          `expected sampling factors 1-4 and a table id 0-3, found component ${c.id}: ${c.h}x${c.v}, table ${hex(s[8 + 3 * i])}`,
        );
      }
    });
    const hMax = Math.max(...raw.map((c) => c.h)),
      vMax = Math.max(...raw.map((c) => c.v));
    const ratios = raw.flatMap((c) => [hMax / c.h, vMax / c.v]);
    if (!this.checkOnly && !ratios.every((r) => r === 1 || r === 2 || r === 4)) {
      const factors = raw.map((c) => `${c.h}x${c.v}`).join(", ");
      throw new Unsupported({ unsupported: "layout", message: `JPEG with sampling factors ${factors}` });
    }
    const b = 8 >> this.chooseShift(width, height); // samples per luma-resolution block
    const mcusX = Math.ceil(width / (8 * hMax)),
      mcusY = Math.ceil(height / (8 * vMax));
    const components = raw.map((c, i): Component => {
      const rx = hMax / c.h,
        ry = vMax / c.v;
      const bx = Math.min(8, b * rx),
        by = Math.min(8, b * ry);
      const blocksX = mcusX * c.h,
        blocksY = mcusY * c.v;
      return {
        ...c,
        blocksX,
        blocksY,
        usedBlocksX: Math.ceil(Math.ceil((width * c.h) / hMax) / 8),
        usedBlocksY: Math.ceil(Math.ceil((height * c.v) / vMax) / 8),
        bx,
        by,
        ux: (b * rx) / bx,
        uy: (b * ry) / by,
        plane: scratch(
          this.workspace,
          Uint8ClampedArray,
          `jpeg.plane${i}`,
          this.checkOnly ? 0 : blocksX * bx * blocksY * by,
        ),
        scanned: false,
      };
    });
    if (new Set(raw.map((c) => c.id)).size !== n) throw this.corrupt("expected distinct component ids in SOF");
    this.frame = { width, height, components, mcusX, mcusY };
  }

  /** Colour transform of a 3-component frame: true for YCbCr (JFIF, Adobe transform 1), false for RGB. */
  get isYCbCr(): boolean {
    return this.adobeTransform !== 0;
  }

  private readScan(s: Uint8Array): void {
    const frame = this.frame;
    if (!frame) throw this.corrupt("expected a frame header (SOF) before the first scan, found SOS");
    const n = s[0];
    if (n < 1 || n > frame.components.length || s.length !== 4 + 2 * n) {
      throw this.corrupt(
        `expected an SOS of 1-${frame.components.length} components in 6 + 2 x components bytes, found ${n} in ${s.length + 2}`,
      );
    }
    const comps: Component[] = [],
      coders: BlockCoder[] = [];
    for (let i = 0; i < n; i++) {
      const id = s[1 + 2 * i],
        td = s[2 + 2 * i] >> 4,
        ta = s[2 + 2 * i] & 15;
      const c = frame.components.find((x) => x.id === id);
      if (!c) throw this.corrupt(`expected a scan of the frame's components, found component id ${id}`);
      const dc = this.dcTables[td],
        ac = this.acTables[ta],
        quant = this.quant[c.quantId];
      if (!dc || !ac) throw this.corrupt(`expected Huffman tables DC ${td} and AC ${ta} before the scan, found none`);
      if (!quant) throw this.corrupt(`expected quantization table ${c.quantId} before the scan, found none`);
      comps.push(c);
      coders.push({ dc, ac, quant, pred: 0 });
    }
    const ss = s[1 + 2 * n],
      se = s[2 + 2 * n],
      approximation = s[3 + 2 * n];
    if (ss !== 0 || se !== 63 || approximation !== 0) {
      throw this.corrupt(
        `expected a sequential scan (Ss 0, Se 63, Ah Al 0), found Ss ${ss}, Se ${se}, Ah ${approximation >> 4}, Al ${approximation & 15}`,
      );
    }
    const mcusPerRow = n === 1 ? comps[0].usedBlocksX : frame.mcusX;
    const mcus = n === 1 ? comps[0].usedBlocksX * comps[0].usedBlocksY : frame.mcusX * frame.mcusY;
    const { starts, ends } = this.unstuff();
    const clean = this.clean as Uint8Array;
    const reader = new BitReader(clean, starts[0], ends[0]);
    let segment = 0;
    try {
      for (let m = 0; m < mcus; m++) {
        if (this.restartInterval > 0 && m > 0 && m % this.restartInterval === 0) {
          this.checkSegmentDone(reader, m, segment);
          if (++segment >= starts.length) {
            throw this.corrupt(`expected an RST${(segment - 1) % 8} marker after MCU ${m}, found the end of the scan`);
          }
          reader.reset(starts[segment], ends[segment]);
          for (const c of coders) c.pred = 0;
        }
        const mx = m % mcusPerRow,
          my = (m - mx) / mcusPerRow;
        if (mx === 0) this.checkSegmentEnd(reader, m);
        if (n === 1) this.block(reader, comps[0], coders[0], my, mx);
        else {
          for (let i = 0; i < n; i++) {
            const c = comps[i];
            for (let y = 0; y < c.v; y++) {
              for (let x = 0; x < c.h; x++) this.block(reader, c, coders[i], my * c.v + y, mx * c.h + x);
            }
          }
        }
      }
      this.checkSegmentDone(reader, mcus, segment);
    } catch (e) {
      if (e instanceof JpegDataError)
        throw this.corrupt(`${e.message} (scan of ${n} components, restart segment ${segment})`);
      throw e;
    }
    for (const c of comps) c.scanned = true;
  }

  /** Throws when the reader has consumed bits past its restart segment (the data ended early). */
  private checkSegmentEnd(reader: BitReader, mcu: number): void {
    if (reader.bitsPastEnd() > 0) throw this.truncated(`entropy-coded data for MCU ${mcu - 1}`);
  }

  /** At a restart segment's last MCU: the data must not have ended early nor go on (beyond EXTRANEOUS_BYTES_ALLOWED). */
  private checkSegmentDone(reader: BitReader, mcu: number, segment: number): void {
    this.checkSegmentEnd(reader, mcu);
    const extra = reader.bitsLeft() >> 3;
    if (extra > EXTRANEOUS_BYTES_ALLOWED) {
      throw this.corrupt(
        `expected restart segment ${segment}'s entropy-coded data to end with MCU ${mcu - 1}, found ${extra} more bytes`,
      );
    }
  }

  private block(reader: BitReader, c: Component, coder: BlockCoder, row: number, col: number): void {
    if (c.bx === 1 && c.by === 1) {
      c.plane[row * c.blocksX + col] = decodeDcOnly(reader, coder) / 8 + 128;
      return;
    }
    const coef = this.coef;
    const last = decodeBlock(reader, coder, coef);
    this.sink(c, row, col, coef, last);
    for (let k = 0; k <= last; k++) coef[ZIGZAG[k]] = 0;
  }

  /**
   * Copies the scan's entropy-coded data from this.pos to the next marker other than RSTn into this.clean with
   * byte stuffing (FF 00) and fill bytes removed; returns the restart segments [starts[i], ends[i]) and leaves
   * this.pos at the marker that ends the scan. RSTn markers must count 0..7 cyclically.
   */
  private unstuff(): { starts: number[]; ends: number[] } {
    const { bytes } = this;
    this.clean ??= scratch(this.workspace, Uint8Array, "jpeg.scan", bytes.length - this.pos);
    const clean = this.clean;
    const starts = [0],
      ends: number[] = [];
    let i = this.pos,
      o = 0;
    for (;;) {
      let j = bytes.indexOf(0xff, i);
      if (j < 0) j = bytes.length;
      clean.set(bytes.subarray(i, j), o);
      o += j - i;
      i = j;
      if (i + 1 >= bytes.length) {
        i = bytes.length;
        break;
      }
      const m = bytes[i + 1];
      if (m === 0) {
        clean[o++] = 0xff;
        i += 2;
      } else if (m === 0xff) i++;
      else if (m >= 0xd0 && m <= 0xd7) {
        const expected = (starts.length - 1) % 8;
        if (m - 0xd0 !== expected) {
          throw this.corrupt(`expected an RST${expected} marker at offset ${i}, found RST${m - 0xd0}`);
        }
        ends.push(o);
        starts.push(o);
        i += 2;
      } else break;
    }
    ends.push(o);
    this.pos = i;
    return { starts, ends };
  }
}

function checkOptions(options: JpegScaledOptions): void {
  const m = options?.minShortSide;
  if (typeof m !== "number" || Number.isNaN(m) || m < 0) {
    throw new ArgumentError("decodeJpegScaled", "options.minShortSide", "a number >= 0 (Infinity: full size)", m);
  }
}

/** Runs a decoder, turning its Unsupported signal into the returned value. */
function runDecoder(decoder: JpegDecoder): Frame | JpegUnsupported {
  try {
    return decoder.run();
  } catch (e) {
    if (e instanceof Unsupported) return e.result;
    throw e;
  }
}

/**
 * Decodes a JPEG to RGBA (alpha 255) at the scale 1/2^k chosen by options.minShortSide (see JpegScaledOptions);
 * the output is ceil(width / 2^k) x ceil(height / 2^k). `file` names the source in errors.
 * Returns JpegUnsupported for a JPEG of a kind this decoder leaves to others (see JpegFeature). Throws
 * ImageError for data that does not start with SOI (FF D8), corrupt or truncated data (expected vs found),
 * and more than options.maxPixels pixels (checked from the frame header before any allocation), and
 * ArgumentError for invalid options.
 */
export function decodeJpegScaled(
  bytes: Uint8Array,
  file: string,
  options: JpegScaledOptions,
): RgbaImage | JpegUnsupported {
  checkOptions(options);
  checkSoi(bytes, file);
  const scale = (w: number, h: number): number => jpegScaleShift(w, h, options.minShortSide);
  const decoder = new JpegDecoder(bytes, file, scale, idctSink, options.maxPixels, false, options.workspace);
  const frame = runDecoder(decoder);
  if ("unsupported" in frame) return frame;
  const k = jpegScaleShift(frame.width, frame.height, options.minShortSide);
  return toRgba(frame, k, decoder.isYCbCr, options.workspace);
}

/**
 * Entropy-decodes every scan of a sequential JPEG without producing pixels, for files another decoder
 * (jpeg-js) turns into pixels: throws ImageError (as decodeJpegScaled) when the data runs out before
 * the headers say it should, or goes on after it, which that decoder would not notice. Any sampling
 * layout is checked; kinds this decoder leaves to others (JpegFeature other than "layout") pass.
 */
export function checkJpegScanData(bytes: Uint8Array, file: string, maxPixels = DEFAULT_MAX_IMAGE_PIXELS): void {
  checkSoi(bytes, file);
  runDecoder(
    new JpegDecoder(
      bytes,
      file,
      () => 0,
      () => undefined,
      maxPixels,
      true,
    ),
  );
}

function checkSoi(bytes: Uint8Array, file: string): void {
  if (bytes.length < 2 || bytes[0] !== 0xff || bytes[1] !== 0xd8) {
    const found = Array.from(bytes.subarray(0, 2), hex).join(" ") || "no bytes";
    throw new ImageError(file, `not a JPEG: expected FF D8 (SOI) at the start, found ${found}`);
  }
}

/** Dequantized DCT coefficients of one component: block (row, col) at coef[(row * blocksX + col) * 64], natural
 * order. */
export interface JpegComponentCoefficients {
  id: number;
  h: number;
  v: number;
  blocksX: number;
  blocksY: number;
  coef: Int32Array;
}

/** What readJpegCoefficients returns: everything a reference decoder needs after entropy decoding. */
export interface JpegCoefficients {
  width: number;
  height: number;
  /** False for an Adobe transform-0 (RGB) file. */
  isYCbCr: boolean;
  components: JpegComponentCoefficients[];
}

/**
 * Entropy-decodes a JPEG (the same parser and Huffman decoder as decodeJpegScaled) and returns its dequantized
 * coefficients, for reference decoders in tests and tools. Same errors and JpegUnsupported as decodeJpegScaled.
 */
export function readJpegCoefficients(bytes: Uint8Array, file: string): JpegCoefficients | JpegUnsupported {
  checkSoi(bytes, file);
  const stores = new Map<Component, Int32Array>();
  const sink: BlockSink = (c, row, col, coef) => {
    let store = stores.get(c);
    if (!store) stores.set(c, (store = new Int32Array(c.blocksX * c.blocksY * 64)));
    store.set(coef, (row * c.blocksX + col) * 64);
  };
  const decoder = new JpegDecoder(bytes, file, () => 0, sink);
  const frame = runDecoder(decoder);
  if ("unsupported" in frame) return frame;
  return {
    width: frame.width,
    height: frame.height,
    isYCbCr: decoder.isYCbCr,
    components: frame.components.map((c) => ({
      id: c.id,
      h: c.h,
      v: c.v,
      blocksX: c.blocksX,
      blocksY: c.blocksY,
      coef: stores.get(c) ?? new Int32Array(c.blocksX * c.blocksY * 64),
    })),
  };
}

/** JFIF YCbCr -> RGB terms (ITU-R BT.601 full range), per 8-bit chroma value: e.g. R = Y + CR_R[Cr]. */
const CR_R = new Float64Array(256),
  CB_G = new Float64Array(256),
  CR_G = new Float64Array(256),
  CB_B = new Float64Array(256);
for (let i = 0; i < 256; i++) {
  CR_R[i] = 1.402 * (i - 128);
  CB_G[i] = 0.344136286 * (i - 128);
  CR_G[i] = 0.714136286 * (i - 128);
  CB_B[i] = 1.772 * (i - 128);
}

/**
 * Colour conversion and cropping of the decoded planes to ceil(width / 2^k) x ceil(height / 2^k) RGBA
 * (into the workspace's "rgba" slot when given).
 */
function toRgba(frame: Frame, k: number, isYCbCr: boolean, workspace?: Workspace): RgbaImage {
  const width = Math.ceil(frame.width / 2 ** k),
    height = Math.ceil(frame.height / 2 ** k);
  const out = scratch(workspace, Uint8ClampedArray, "rgba", width * height * 4);
  const comps = frame.components;
  // Per component: the sample column of each output column, and the first sample of each output row.
  const columns = comps.map((c) => Int32Array.from({ length: width }, (_, x) => Math.floor(x / c.ux)));
  const rows = comps.map((c) => Int32Array.from({ length: height }, (_, y) => Math.floor(y / c.uy) * c.blocksX * c.bx));
  if (comps.length === 1) greyRows(comps[0].plane, columns[0], rows[0], out);
  else if (isYCbCr) ycbcrRows(comps, columns, rows, out);
  else rgbRows(comps, columns, rows, out);
  return { width, height, data: new Uint8Array(out.buffer, out.byteOffset, out.length) };
}

function greyRows(p: Uint8ClampedArray, cx: Int32Array, rows: Int32Array, out: Uint8ClampedArray): void {
  const width = cx.length;
  for (let y = 0, o = 0; y < rows.length; y++) {
    const r = rows[y];
    for (let x = 0; x < width; x++, o += 4) {
      const g = p[r + cx[x]];
      out[o] = g;
      out[o + 1] = g;
      out[o + 2] = g;
      out[o + 3] = 255;
    }
  }
}

function ycbcrRows(comps: Component[], columns: Int32Array[], rows: Int32Array[], out: Uint8ClampedArray): void {
  const p0 = comps[0].plane,
    p1 = comps[1].plane,
    p2 = comps[2].plane;
  const c0 = columns[0],
    c1 = columns[1],
    c2 = columns[2];
  const width = c0.length,
    height = rows[0].length;
  for (let y = 0, o = 0; y < height; y++) {
    const r0 = rows[0][y],
      r1 = rows[1][y],
      r2 = rows[2][y];
    for (let x = 0; x < width; x++, o += 4) {
      const a = p0[r0 + c0[x]],
        cb = p1[r1 + c1[x]],
        cr = p2[r2 + c2[x]];
      out[o] = a + CR_R[cr];
      out[o + 1] = a - CB_G[cb] - CR_G[cr];
      out[o + 2] = a + CB_B[cb];
      out[o + 3] = 255;
    }
  }
}

function rgbRows(comps: Component[], columns: Int32Array[], rows: Int32Array[], out: Uint8ClampedArray): void {
  const width = columns[0].length;
  for (let y = 0, o = 0; y < rows[0].length; y++) {
    for (let x = 0; x < width; x++, o += 4) {
      for (let c = 0; c < 3; c++) out[o + c] = comps[c].plane[rows[c][y] + columns[c][x]];
      out[o + 3] = 255;
    }
  }
}
