// inception-wasm kernels. Contract for every export: raw byte pointers into the one
// (shared) memory and scalars; no allocation, no mutable static data, so any number of
// instances may run over the same memory at once. f32 buffers are 4-byte aligned
// (16-byte alignment is faster but not required). The host owns memory from heapBase() up.

export {
  gemmTileCount,
  gemmTileRows,
  gemmTileCols,
  gemmTileLoads,
  gemmKBlock,
  gemmScratchBytes,
  packedWeightsBytes,
  packWeights,
  gemmDense,
  gemmConv,
} from "./gemm";
export {
  winogradTileRows,
  winogradTileBlock,
  winogradOutputTile,
  winogradScratchBytes,
  winogradFilterBytes,
  winogradFilters,
  winogradConv,
} from "./winograd";
export { maxPool, avgPool } from "./pooling";
export { lrn } from "./lrn";
export { fullyConnected } from "./fc";
export { softmax } from "./softmax";
export { probePeak, probeTile, probeRegisterChains, probeRegisterPeak } from "./probe";

/** First byte the host may use: everything below belongs to the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}
