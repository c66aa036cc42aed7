/**
 * Epilogue of a partial GEMM tile from accumulators spilled row by row (`tmpRow` floats apart) at
 * `tmp`: C = acc + bias when `first` (C not read), else C + acc; then ReLU when `relu`; only rows x
 * cols are written (C row stride ldc bytes). The same f32 operations as a full tile's vector epilogue.
 */
export function edgeEpilogue(
  tmp: usize,
  tmpRow: i32,
  c: usize,
  ldc: usize,
  rows: i32,
  cols: i32,
  bias: usize,
  first: bool,
  relu: bool,
): void {
  for (let r = 0; r < rows; r++) {
    const row = c + <usize>r * ldc;
    const add = first ? (bias != 0 ? load<f32>(bias + <usize>r * 4) : 0) : 0;
    for (let j = 0; j < cols; j++) {
      let v = load<f32>(tmp + <usize>(r * tmpRow + j) * 4);
      v = first ? (bias != 0 ? v + add : v) : v + load<f32>(row + <usize>j * 4);
      if (relu && !(v > 0)) v = 0;
      store<f32>(row + <usize>j * 4, v);
    }
  }
}
