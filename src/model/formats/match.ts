// Matching a network read from a foreign file (Caffe, ONNX) against our graph: the weights are
// taken by STRUCTURE, not by name. Caffe's layers and the ONNX importer's IR nodes
// (onnxImport.ts, bindToGraph) become FoundOps (kind, kernel/stride/pad, widths, weight and bias
// blobs, data inputs and outputs); matchGraph then
// walks our graph in order and, for each node, takes the file's op that reads the same data
// (the tensor the previous match produced) and has the same kind and parameters. Ops the graph
// does not use (Caffe's data, loss and accuracy layers, the auxiliary loss1/loss2 heads) are
// never reached and are ignored. The first node with no such op is reported with what the file
// has there instead.

import { WeightsError } from "../../host/errors.js";
import { nodeInputs, type Graph, type GraphNode } from "../../host/ir/graph.js";
import { expectedWeights, type TensorMap } from "../../host/ir/tensors.js";
import { DEFAULT_INPUT_SIZE } from "../network/googlenet.js";

/** A weight tensor as stored in the file: where it is (for errors) and a reader, called only if the graph uses it. */
export interface FoundTensor {
  where: string;
  /** The stored dims and as many values; `tensor` (the graph's name for it) is named in errors. */
  read(tensor: string): { shape: number[]; data: Float32Array };
}

/**
 * What an op of the file does, as far as GoogLeNet is concerned. "relu" and "identity" (dropout,
 * split, reshape, flatten) only relabel their input; "other" is anything else (listed in errors).
 */
export type FoundKind =
  | "conv"
  | "maxPool"
  | "avgPool"
  | "lrn"
  | "concat"
  | "fc"
  | "softmax"
  | "relu"
  | "identity"
  | "other";

/** One layer or node of the file, normalized. Pairs are [height, width]; pad is Caffe's (begin) padding. */
export interface FoundOp {
  /** The file's name for it (layer name, node name or first output). */
  name: string;
  /** The file's type name ("Convolution", "Conv", ...). */
  type: string;
  kind: FoundKind;
  /** Data inputs (not weights), in order, and outputs: the file's tensor names. */
  inputs: string[];
  outputs: string[];
  kernel?: [number, number];
  stride?: [number, number];
  pad?: [number, number];
  /** Output channels (conv) or features (fc). */
  units?: number;
  lrn?: { size: number; alpha: number; beta: number; k: number };
  weight?: FoundTensor;
  bias?: FoundTensor;
  /** Why this op cannot stand for the graph's node although its kind and sizes fit (e.g. "group 2"). */
  problem?: string;
}

/** The problems that apply, joined ("; "), or undefined when there are none. */
export function joinProblems(problems: readonly (string | undefined)[]): string | undefined {
  const list = problems.filter((p): p is string => p !== undefined);
  return list.length > 0 ? list.join("; ") : undefined;
}

/**
 * A tensor of the file: the op output it is (`base`: "op<index>:<port>", or "input:<name>" for
 * an input of the network, whose `op` is undefined), whether a ReLU was applied, and the file's
 * name for it. Identity ops (dropout, split, ...) give the same value under another name.
 */
interface Value {
  base: string;
  relu: boolean;
  op: FoundOp | undefined;
  name: string;
}

const keyOf = (v: Value): string => (v.relu ? `${v.base}:relu` : v.base);

/**
 * The weights of `graph` from the file's ops (in the file's order, which must be a topological
 * order, as Caffe and ONNX require). `format` names the file type in errors ("Caffe model").
 * Throws WeightsError naming `file`, the graph node (and its weight tensor) where the file's
 * network first differs from the graph, what was expected and what was found, or a weight
 * tensor whose shape differs from the graph's.
 */
export function matchGraph(ops: readonly FoundOp[], graph: Graph, file: string, format: string): TensorMap {
  const values = resolveValues(ops);
  const size = DEFAULT_INPUT_SIZE;
  const expected = new Map(expectedWeights(graph, size, size).map((t) => [t.name, t.shape]));
  const ourReaders = new Map<string, GraphNode["op"][]>();
  for (const node of graph.nodes) {
    for (const t of nodeInputs(node)) ourReaders.set(t, [...(ourReaders.get(t) ?? []), node.op]);
  }
  const mapped = new Map<string, Value>(); // our tensor -> the file's
  const used = new Set<FoundOp>();
  const tensors: TensorMap = new Map();
  for (const node of graph.nodes) {
    const inputs = nodeInputs(node);
    const first = mapped.get(inputs[0]!); // undefined: the graph's input, matched by any input of the file
    const readsInput = (op: FoundOp): boolean =>
      first ? keyOf(values.inputOf(op, 0)) === keyOf(first) : values.inputOf(op, 0).op === undefined;
    const readers = ops.filter(
      (op) => !used.has(op) && op.kind !== "relu" && op.kind !== "identity" && op.inputs.length > 0 && readsInput(op),
    );
    const fitting = readers.filter((op) =>
      fits(
        op,
        node,
        inputs.map((t) => mapped.get(t)),
        values,
      ),
    );
    // Identical siblings (inception_3b's 1x1 and 3x3_reduce, both 128 wide): take the one read like ours.
    const wanted = ourReaders.get(node.output) ?? [];
    const op = fitting.find((o) => covers(values.readerKinds(outputValue(o, node, values)), wanted)) ?? fitting[0];
    const where = `${format} differs from GoogLeNet at ${node.name}`;
    const tensor = node.op === "conv" || node.op === "fc" ? `${node.weights}.weight` : undefined;
    if (!op) {
      const on = first ? `"${first.name}"${first.relu ? " (after its ReLU)" : ""}` : "the network input";
      const found =
        readers.length > 0
          ? `found ${readers.map((r) => describeOp(r) + (r.problem ? ` (${r.problem})` : "")).join("; ")}`
          : "found nothing that reads it (the network ends there: a different network or a truncated file)";
      throw new WeightsError(file, tensor, `${where}: expected ${describeNode(node)} reading ${on}; ${found}`);
    }
    if (op.problem) throw new WeightsError(file, tensor, `${where}: ${describeOp(op)}: ${op.problem}`);
    if (node.op === "conv" && node.relu && !values.hasRelu(op)) {
      throw new WeightsError(file, tensor, `${where}: expected a ReLU after ${describeOp(op)}, found none`);
    }
    used.add(op);
    if (!first) mapped.set(inputs[0]!, values.inputOf(op, 0));
    mapped.set(node.output, outputValue(op, node, values));
    if (node.op === "conv" || node.op === "fc") {
      for (const [part, found] of [
        ["weight", op.weight],
        ["bias", op.bias],
      ] as const) {
        const name = `${node.weights}.${part}`;
        if (!found) throw new WeightsError(file, name, `${where}: ${describeOp(op)} has no ${part}`);
        tensors.set(name, readShaped(found, expected.get(name)!, file, name));
      }
    }
  }
  return tensors;
}

/** The file's tensors as values (following ReLU and identity ops), and which ops read each value. */
function resolveValues(ops: readonly FoundOp[]) {
  const current = new Map<string, Value>(); // the file's tensor name -> its latest value (Caffe works in place)
  const inputs = new Map<FoundOp, Value[]>();
  const withRelu = new Set<string>(); // bases of values a ReLU is applied to
  const readers = new Map<string, FoundOp[]>(); // value key -> ops reading it
  const ids = new Map<FoundOp, number>(ops.map((op, i) => [op, i]));
  const networkInput = (name: string): Value => ({ base: `input:${name}`, relu: false, op: undefined, name });
  for (const op of ops) {
    const ins = op.inputs.map((name) => current.get(name) ?? networkInput(name));
    inputs.set(op, ins);
    for (const v of ins) readers.set(keyOf(v), [...(readers.get(keyOf(v)) ?? []), op]);
    const source = ins[0];
    op.outputs.forEach((name, port) => {
      if (!source) {
        // a data or input layer
        current.set(name, networkInput(name));
      } else if (op.kind === "relu" || op.kind === "identity") {
        if (op.kind === "relu") withRelu.add(source.base);
        current.set(name, { ...source, relu: source.relu || op.kind === "relu", name });
      } else {
        current.set(name, { base: `op${ids.get(op)}:${port}`, relu: false, op, name });
      }
    });
  }
  return {
    /** The value op reads as its data input `index`. */
    inputOf: (op: FoundOp, index: number): Value => inputs.get(op)![index]!,
    /** Whether a ReLU is applied to op's first output. */
    hasRelu: (op: FoundOp): boolean => withRelu.has(`op${ids.get(op)}:0`),
    /** The value of op's first output, with or without the ReLU. */
    output: (op: FoundOp, relu: boolean): Value => ({
      base: `op${ids.get(op)}:0`,
      relu,
      op,
      name: op.outputs[0] ?? op.name,
    }),
    /** The kinds of the ops that read a value. */
    readerKinds: (v: Value): FoundKind[] => (readers.get(keyOf(v)) ?? []).map((op) => op.kind),
  };
}

type Values = ReturnType<typeof resolveValues>;

/** The value our node's output corresponds to: the op's output, after its ReLU when our node has one. */
function outputValue(op: FoundOp, node: GraphNode, values: Values): Value {
  return values.output(op, node.op === "conv" && node.relu);
}

/** Whether `found` holds every kind of `ours`, as often (a multiset inclusion). */
function covers(found: readonly FoundKind[], ours: readonly GraphNode["op"][]): boolean {
  const left = [...found];
  return ours.every((kind) => {
    const i = left.indexOf(kind);
    if (i >= 0) left.splice(i, 1);
    return i >= 0;
  });
}

/** Whether the file's op has our node's kind, parameters and inputs (weights' shapes are checked after). */
function fits(op: FoundOp, node: GraphNode, inputs: (Value | undefined)[], values: Values): boolean {
  if (op.kind !== node.op) return false;
  const pair = (p: [number, number] | undefined, n: number): boolean => p !== undefined && p[0] === n && p[1] === n;
  switch (node.op) {
    case "conv":
      return (
        op.units === node.outChannels &&
        pair(op.kernel, node.kernel) &&
        pair(op.stride, node.stride) &&
        pair(op.pad, node.pad)
      );
    case "maxPool":
    case "avgPool":
      return pair(op.kernel, node.kernel) && pair(op.stride, node.stride) && pair(op.pad, node.pad);
    case "lrn":
      return (
        op.lrn !== undefined &&
        op.lrn.size === node.size &&
        op.lrn.alpha === Math.fround(node.alpha) &&
        op.lrn.beta === Math.fround(node.beta) &&
        op.lrn.k === Math.fround(node.k)
      );
    case "concat":
      return (
        op.inputs.length === inputs.length &&
        inputs.every((v, i) => v !== undefined && keyOf(values.inputOf(op, i)) === keyOf(v))
      );
    case "fc":
      return op.units === node.outFeatures;
    case "softmax":
      return true;
  }
}

/** Reads a found tensor with the graph's shape: its dims must be the same once leading 1s (legacy 4-D) are dropped. */
function readShaped(
  found: FoundTensor,
  shape: number[],
  file: string,
  name: string,
): { shape: number[]; data: Float32Array } {
  const t = found.read(name);
  const dims = [...t.shape];
  while (dims.length > shape.length && dims[0] === 1) dims.shift();
  if (dims.length !== shape.length || dims.some((d, i) => d !== shape[i])) {
    throw new WeightsError(
      file,
      name,
      `${found.where}: expected shape [${shape.join(",")}], found [${t.shape.join(",")}]`,
    );
  }
  return { shape, data: t.data };
}

const square = (p: [number, number] | undefined): string => (p ? (p[0] === p[1] ? `${p[0]}` : `${p[0]}x${p[1]}`) : "?");
const area = (p: [number, number] | undefined): string => (p ? `${p[0]}x${p[1]}` : "?");

/** How the file's op reads in an error, e.g. `Convolution "conv1_1" 3x3 stride 1 pad 1, 64 outputs`. */
function describeOp(op: FoundOp): string {
  const head = `${op.type} "${op.name}"`;
  switch (op.kind) {
    case "conv":
      return `${head} ${area(op.kernel)} stride ${square(op.stride)} pad ${square(op.pad)}, ${op.units ?? "?"} outputs`;
    case "maxPool":
    case "avgPool":
      return (
        `${head} ${op.kind === "maxPool" ? "max" : "average"} ${area(op.kernel)} ` +
        `stride ${square(op.stride)} pad ${square(op.pad)}`
      );
    case "lrn":
      return op.lrn ? `${head} size ${op.lrn.size} alpha ${op.lrn.alpha} beta ${op.lrn.beta} k ${op.lrn.k}` : head;
    case "concat":
      return `${head} of ${op.inputs.length} inputs`;
    case "fc":
      return `${head}, ${op.units ?? "?"} outputs`;
    default:
      return head;
  }
}

/** How our node reads in an error, e.g. `convolution 7x7 stride 2 pad 3, 64 outputs, then ReLU`. */
function describeNode(node: GraphNode): string {
  switch (node.op) {
    case "conv":
      return (
        `convolution ${node.kernel}x${node.kernel} stride ${node.stride} pad ${node.pad}, ` +
        `${node.outChannels} outputs${node.relu ? ", then ReLU" : ""}`
      );
    case "maxPool":
    case "avgPool":
      return (
        `${node.op === "maxPool" ? "max" : "average"} pooling ${node.kernel}x${node.kernel} ` +
        `stride ${node.stride} pad ${node.pad} (Caffe's rounding)`
      );
    case "lrn":
      return `LRN across channels size ${node.size} alpha ${node.alpha} beta ${node.beta} k ${node.k}`;
    case "concat":
      return `a concatenation of ${node.inputs.join(", ")} (in this order)`;
    case "fc":
      return `a fully connected layer with ${node.outFeatures} outputs`;
    case "softmax":
      return "a softmax";
  }
}
