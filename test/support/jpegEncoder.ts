// A test-only baseline JPEG writer for layouts jpeg-js's encoder cannot make (it writes 4:4:4 only): greyscale,
// any sampling factors, restart intervals, one scan per component. It does no DCT: it entropy-codes given
// quantized coefficients (ITU T.81 F.1.2) with deliberately simple Huffman tables (every DC symbol a 4-bit code,
// every AC symbol an 8-bit code), which a decoder must read like any other canonical table.

/** A component of the frame: id, sampling factors. */
export interface TestComponent {
  id: number;
  h: number;
  v: number;
}

export interface TestJpegSpec {
  width: number;
  height: number;
  components: TestComponent[];
  /** Quantized coefficient of component c, block (row, col), zigzag position k (integer, |DC diff| < 2048). */
  coefficient: (c: number, row: number, col: number, k: number) => number;
  /** Quantization table (zigzag order, 1..255), shared by every component. */
  quant: number[];
  restartInterval?: number;
  /** One scan per component instead of one interleaved scan. */
  separateScans?: boolean;
}

/** AC symbols (EOB, ZRL, then run 0-15 x size 1-10); symbol i gets the 8-bit code i. */
const AC_SYMBOLS = [0x00, 0xf0, ...Array.from({ length: 160 }, (_, i) => (Math.floor(i / 10) << 4) | ((i % 10) + 1))];

/** Bits of a value's magnitude category (T.81 table F.1/F.2) and the extra bits that code it. */
function category(v: number): { size: number; bits: number } {
  const size = v === 0 ? 0 : Math.floor(Math.log2(Math.abs(v))) + 1;
  return { size, bits: v >= 0 ? v : v + (1 << size) - 1 };
}

/** Encodes spec as a baseline JPEG (SOI, DQT, SOF0, DHT, DRI, SOS..., EOI). */
export function encodeTestJpeg(spec: TestJpegSpec): Uint8Array {
  const out: number[] = [0xff, 0xd8];
  const segment = (marker: number, body: number[]): void => {
    out.push(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 255, ...body);
  };
  segment(0xdb, [0x00, ...spec.quant]);
  const { width, height, components } = spec;
  segment(0xc0, [
    8,
    height >> 8,
    height & 255,
    width >> 8,
    width & 255,
    components.length,
    ...components.flatMap((c) => [c.id, (c.h << 4) | c.v, 0]),
  ]);
  const dcCounts = new Array(16).fill(0),
    acCounts = new Array(16).fill(0);
  dcCounts[3] = 12; // 12 DC symbols (sizes 0..11) with 4-bit codes 0..11
  acCounts[7] = AC_SYMBOLS.length; // 162 AC symbols with 8-bit codes 0..161
  segment(0xc4, [0x00, ...dcCounts, ...Array.from({ length: 12 }, (_, i) => i)]);
  segment(0xc4, [0x10, ...acCounts, ...AC_SYMBOLS]);
  const acCode = new Map(AC_SYMBOLS.map((s, i) => [s, i]));
  if (spec.restartInterval) segment(0xdd, [spec.restartInterval >> 8, spec.restartInterval & 255]);
  const hMax = Math.max(...components.map((c) => c.h)),
    vMax = Math.max(...components.map((c) => c.v));
  const mcusX = Math.ceil(width / (8 * hMax)),
    mcusY = Math.ceil(height / (8 * vMax));
  const scans = spec.separateScans ? components.map((_, i) => [i]) : [components.map((_, i) => i)];
  for (const scan of scans) {
    segment(0xda, [scan.length, ...scan.flatMap((i) => [components[i].id, 0x00]), 0, 63, 0]);
    let acc = 0,
      nbits = 0;
    const put = (bits: number, n: number): void => {
      for (let i = n - 1; i >= 0; i--) {
        acc = (acc << 1) | ((bits >> i) & 1);
        if (++nbits === 8) {
          out.push(acc);
          if (acc === 0xff) out.push(0);
          acc = 0;
          nbits = 0;
        }
      }
    };
    const flush = (): void => {
      if (nbits > 0) put((1 << (8 - nbits)) - 1, 8 - nbits); // pad with 1 bits
    };
    const pred = scan.map(() => 0);
    const block = (s: number, row: number, col: number): void => {
      const ci = scan[s];
      const dc = spec.coefficient(ci, row, col, 0);
      const d = category(dc - pred[s]);
      pred[s] = dc;
      put(d.size, 4);
      put(d.bits, d.size);
      let run = 0;
      for (let k = 1; k < 64; k++) {
        const v = spec.coefficient(ci, row, col, k);
        if (v === 0) {
          run++;
          continue;
        }
        for (; run >= 16; run -= 16) put(acCode.get(0xf0) as number, 8);
        const a = category(v);
        put(acCode.get((run << 4) | a.size) as number, 8);
        put(a.bits, a.size);
        run = 0;
      }
      if (run > 0) put(0, 8); // EOB is code 0
    };
    const single = scan.length === 1;
    const c0 = components[scan[0]];
    const units = single
      ? Math.ceil(Math.ceil((width * c0.h) / hMax) / 8) * Math.ceil(Math.ceil((height * c0.v) / vMax) / 8)
      : mcusX * mcusY;
    const perRow = single ? Math.ceil(Math.ceil((width * c0.h) / hMax) / 8) : mcusX;
    for (let m = 0; m < units; m++) {
      if (spec.restartInterval && m > 0 && m % spec.restartInterval === 0) {
        flush();
        out.push(0xff, 0xd0 + ((m / spec.restartInterval - 1) % 8));
        pred.fill(0);
      }
      const mx = m % perRow,
        my = Math.floor(m / perRow);
      if (single) block(0, my, mx);
      else {
        scan.forEach((ci, s) => {
          const c = components[ci];
          for (let y = 0; y < c.v; y++) for (let x = 0; x < c.h; x++) block(s, my * c.v + y, mx * c.h + x);
        });
      }
    }
    flush();
  }
  out.push(0xff, 0xd9);
  return Uint8Array.from(out);
}
