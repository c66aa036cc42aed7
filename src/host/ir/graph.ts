// The network as a graph of ops over named tensors: what the host plans and runs.
// Every tensor is one image in CHW layout (f32); ops run in list order (a topological order).

/** Shape of one image's tensor: channels x height x width. */
export interface Shape {
  c: number;
  h: number;
  w: number;
}

/**
 * A window's geometry per axis, for nodes read from other tools (ONNX node graphs); GoogLeNet's
 * nodes leave it out. When present it replaces the node's square `kernel`, `stride` and
 * symmetric `pad`, which then hold its height-axis values (what summaries print). Rules:
 * src/host/ir/window.ts.
 */
export interface Window2d {
  /** [height, width]. */
  kernel: [number, number];
  /** [height, width]. */
  stride: [number, number];
  /** [top, left, bottom, right]: zeros for a convolution; for pooling, positions with no tap. */
  pads: [number, number, number, number];
}

/** Convolution (+ bias, + optional fused ReLU). Weights `${weights}.weight` OIHW, `${weights}.bias` [out]. */
export interface ConvNode {
  op: "conv";
  name: string;
  input: string;
  output: string;
  weights: string;
  outChannels: number;
  kernel: number;
  stride: number;
  pad: number;
  relu: boolean;
  window?: Window2d;
}
/** Max or average pooling, k x k window, Caffe's ceil-mode output size (unless `window` and `rounding` say otherwise). */
export interface PoolNode {
  op: "maxPool" | "avgPool";
  name: string;
  input: string;
  output: string;
  kernel: number;
  stride: number;
  pad: number;
  window?: Window2d;
  /** Output size: absent, Caffe's; "floor" (ONNX ceil_mode 0) or "ceil" (ONNX ceil_mode 1): see window.ts. */
  rounding?: "floor" | "ceil";
  /** avgPool's divisor: absent or true, padded taps count (Caffe; ONNX count_include_pad 1); false, image taps only. */
  countPad?: boolean;
  /** ONNX GlobalAveragePool: the window is the whole input (kernel = its height x width, stride 1, no pads); `kernel`, `stride`, `pad` and `window` are ignored. */
  global?: boolean;
}
/** Local response normalisation across channels (Caffe ACROSS_CHANNELS). */
export interface LrnNode {
  op: "lrn";
  name: string;
  input: string;
  output: string;
  size: number;
  alpha: number;
  beta: number;
  k: number;
}
/** Channel concatenation: free at run time (each input is planned as a channel range of the output). */
export interface ConcatNode {
  op: "concat";
  name: string;
  inputs: string[];
  output: string;
}
/** Fully connected over the flattened input. Weights `${weights}.weight` [out][in], `${weights}.bias` [out]. */
export interface FcNode {
  op: "fc";
  name: string;
  input: string;
  output: string;
  weights: string;
  outFeatures: number;
}
/** Softmax over the flattened input. */
export interface SoftmaxNode {
  op: "softmax";
  name: string;
  input: string;
  output: string;
}

export type GraphNode = ConvNode | PoolNode | LrnNode | ConcatNode | FcNode | SoftmaxNode;

/** A network: its input tensor, its ops in execution order, and which tensors are its results. */
export interface Graph {
  input: string;
  inputChannels: number;
  /** Further inputs with fixed shapes (an ONNX node graph's, e.g. a Concat's second input); GoogLeNet has none. */
  extraInputs?: { name: string; shape: Shape }[];
  nodes: GraphNode[];
  logits: string;
  probabilities: string;
  /**
   * A per-channel affine map applied to the input before the first node (an ONNX graph's input
   * preamble that no node of the IR expresses exactly, e.g. torchvision's transform_input before a
   * padded convolution): channel c of the planned input is input[source[c]] * scale[c] + shift[c],
   * computed in float64 and rounded once (preamble.ts). GoogLeNet has none.
   */
  inputTransform?: InputTransform;
}

/** See Graph.inputTransform: one entry per channel of the planned input (as many as the graph input has). */
export interface InputTransform {
  source: number[];
  scale: number[];
  shift: number[];
}

/** The input tensors of a node. */
export function nodeInputs(node: GraphNode): string[] {
  return node.op === "concat" ? node.inputs : [node.input];
}
