// The one importer of ONNX graphs: any graph of the Inception-v1 op family (the BVLC GoogLeNet
// in every exporter's style, torchvision's GoogLeNet, single-node test graphs) becomes an IR
// graph (src/host/ir/graph.ts) and its weight tensors, planned and run like GoogLeNet. The
// loader (detect.ts, the classifier) and the ONNX conformance suite both use it.
//
// Layout: the first axis of every data tensor is the batch (one IR run per item); the rest is
// one item's CHW tensor: [N, C, H, W] is C x H x W, [N, F] is F x 1 x 1 (a flattened CHW item has
// the same bytes), [N, C, L] is C x 1 x L. Reshape/Flatten/Squeeze to [N, features] are free.
//
// What is folded at import (so no IR op runs for it):
// - BatchNormalization after a Conv: W' = W * s, b' = (b - mean) * s + beta, s = scale /
//   sqrt(var + eps), in float64, rounded once (|error| <= 2^-24 relative per weight).
// - A per-channel Mul/Add/Sub/Div by a constant after a Conv or Gemm/MatMul: into its weights
//   and bias (MatMul + Add is one fully connected op).
// - Relu after a Conv: the convolution's fused ReLU.
// - Constant, Shape, Gather, Unsqueeze, Squeeze, Slice, Concat, Cast on constants (exporters'
//   shape arithmetic); Dropout (inference) and Identity.
// - A per-channel affine map of the input (Gather/Slice of channels, Unsqueeze, Mul/Add/Sub/Div
//   by constants, Concat of channels, BatchNormalization: torchvision's transform_input) becomes
//   Graph.inputTransform, applied by the engine before the first node: folding its shift into a
//   padded first convolution would be wrong at the borders (the padding is zeros after the map).
// Anything else is an UnsupportedOnnxError naming the node (op type, name, attribute), expected vs
// found; nothing is partly imported.

import { ArgumentError, WeightsError } from "../../host/errors.js";
import type {
  ConvNode,
  FcNode,
  Graph,
  GraphNode,
  InputTransform,
  PoolNode,
  Shape,
  Window2d,
} from "../../host/ir/graph.js";
import { inferShapes } from "../../host/ir/shapes.js";
import { poolOutSize } from "../../host/ir/window.js";
import { elementCount, type TensorMap } from "../../host/ir/tensors.js";
import { DEFAULT_INPUT_SIZE, googlenetGraph } from "../network/googlenet.js";
import { matchGraph, type FoundOp, type FoundTensor } from "./match.js";
import {
  type AttributeType,
  DATA_TYPES,
  readInitializer32,
  readInitializerInts,
  readOnnxModel,
  type Attribute,
  type ExternalDataReader,
  type Initializer,
  type OnnxModel,
  type OnnxNode,
  type ValueInfo,
} from "./onnx.js";

/** The ops the importer reads, for errors. */
export const SUPPORTED_OPS =
  "Conv, BatchNormalization, Relu, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, LRN, Concat, " +
  "Flatten, Reshape, Squeeze, Gemm, MatMul, Add, Sub, Mul, Div, Softmax, Dropout, Identity, Constant, Shape, " +
  "Gather, Unsqueeze, Slice, Cast";

/** The opsets read (the ONNX model zoo's googlenet-3 .. -12, current exporters, the node tests' opset 1). */
export const OPSETS = { min: 1, max: 21 } as const;

/** A node of an ONNX graph the IR cannot express: the node, the attribute (or input), expected vs found. */
export class UnsupportedOnnxError extends WeightsError {
  constructor(
    file: string,
    readonly node: string,
    readonly attribute: string,
    expected: string,
    found: unknown,
  ) {
    super(file, undefined, `ONNX node ${node}: '${attribute}' expected ${expected}, found ${String(found)}`);
  }
}

export interface ImportOptions {
  /** The data input's dims (batch first), instead of the model's declared ones (must agree in rank). */
  inputDims?: number[];
  /** Graph inputs bound to values (FLOAT, or integers), used as initializers (the ONNX node tests give weights as inputs). */
  bound?: ReadonlyMap<string, { dims: number[]; data: Float32Array | readonly number[] }>;
  /** Reads external data files beside the model (checked to be inside its folder); without it they are an error. */
  readExternal?: ExternalDataReader;
}

/** An imported graph: the IR graph, its weights, and how its ONNX inputs and output map to it. */
export interface ImportedGraph {
  graph: Graph;
  weights: TensorMap;
  opset: number;
  /** The data inputs (the first is graph.input; the others graph.extraInputs), dims batch first at the import size. */
  inputs: { name: string; dims: number[] }[];
  /** The ONNX output read (graph.probabilities) and its dims at the import size. */
  output: { name: string; dims: number[] };
  /** Whether the graph ends in a Softmax (graph.logits is its input), else graph.logits = graph.probabilities. */
  softmax: boolean;
  /** The ONNX op type of each IR node, by node name (for errors). */
  opTypes: Map<string, string>;
}

/** A constant (initializer, Constant or folded): dims and values (float32 values, or integers). */
interface ConstValue {
  kind: "const";
  dims: number[];
  values: ArrayLike<number>;
  float: boolean;
}
/** A tensor of the IR: its name and the ONNX dims (batch first) it stands for here. */
interface DataValue {
  kind: "data";
  tensor: string;
  dims: number[];
}
/** The graph input under a per-channel affine map (rank 4 [N, C, H, W], or 3 after a Gather of one channel). */
interface InputView {
  kind: "input";
  dims: number[];
  transform: InputTransform;
}
/** A value an IR fusion consumed (a convolution's output before its folded BatchNormalization or Relu). */
interface DeadValue {
  kind: "dead";
  why: string;
}
type Value = ConstValue | DataValue | InputView | DeadValue;

/** Reads and imports an ONNX model (see importOnnxModel). */
export function importOnnx(bytes: Uint8Array, file: string, options: ImportOptions = {}): ImportedGraph {
  return importOnnxModel(readOnnxModel(bytes, file), file, options);
}

/**
 * The IR graph and weights of an ONNX model (`file` names it in errors). The import size is the
 * data input's declared height and width (224 x 224 where symbolic) with batch 1 where symbolic;
 * the graph runs at any size its ops admit. Throws UnsupportedOnnxError (a WeightsError) naming
 * the first node outside the family, WeightsError for unusable tensors.
 */
export function importOnnxModel(model: OnnxModel, file: string, options: ImportOptions = {}): ImportedGraph {
  return new Importer(model, file, options).run();
}

class Importer {
  private readonly values = new Map<string, Value>();
  private readonly nodes: GraphNode[] = [];
  private readonly shapes = new Map<string, Shape>();
  private readonly producer = new Map<string, GraphNode>();
  private readonly irReaders = new Map<string, number>();
  private readonly weights = new Map<string, { shape: number[]; data: Float32Array }>();
  private readonly names = new Set<string>();
  private readonly opTypes = new Map<string, string>();
  private inputTransform: InputTransform | undefined;
  private inputUse: "raw" | "transformed" | undefined;
  private inputName = "";
  private inputChannels = 0;
  private batch = 1;
  private current: OnnxNode | undefined;
  private currentIndex = 0;

  constructor(
    private readonly model: OnnxModel,
    private readonly file: string,
    private readonly options: ImportOptions,
  ) {}

  run(): ImportedGraph {
    const { model } = this;
    if (model.opset !== 0 && (model.opset < OPSETS.min || model.opset > OPSETS.max)) {
      throw new WeightsError(
        this.file,
        undefined,
        `ONNX opset ${model.opset}: expected ${OPSETS.min} to ${OPSETS.max}`,
      );
    }
    const bound = this.options.bound ?? new Map();
    const dataInputs = model.inputs.filter((i) => !model.initializers.has(i.name) && !bound.has(i.name));
    if (dataInputs.length === 0)
      throw new WeightsError(this.file, undefined, "ONNX graph: expected a data input, found none");
    const outputName = model.outputs.find((o) => this.producedBySoftmax(o.name))?.name ?? model.outputs[0]?.name;
    if (!outputName) throw new WeightsError(this.file, undefined, "ONNX graph: expected an output, found none");
    const extraInputs: { name: string; shape: Shape }[] = [];
    const inputs: { name: string; dims: number[] }[] = [];
    dataInputs.forEach((info, i) => {
      if (info.elemType !== undefined && info.elemType !== 1) {
        throw new UnsupportedOnnxError(
          this.file,
          `graph input "${info.name}"`,
          "elem_type",
          "FLOAT (1)",
          DATA_TYPES[info.elemType] ?? info.elemType,
        );
      }
      const dims = this.inputDims(info.name, i === 0 ? this.options.inputDims : undefined, info.dims);
      inputs.push({ name: info.name, dims });
      if (i === 0) {
        this.batch = dims[0]!;
        this.inputName = info.name;
        if (dims.length !== 4) {
          // Not an image: a vector or sequence per item (node tests); no input preamble is possible.
          this.inputChannels = itemShape(dims).c;
          this.values.set(info.name, { kind: "data", tensor: info.name, dims });
          this.inputUse = "raw";
        } else {
          this.inputChannels = dims[1]!;
          const channels = Array.from({ length: dims[1]! }, (_, c) => c);
          const identity = { source: channels, scale: channels.map(() => 1), shift: channels.map(() => 0) };
          this.values.set(info.name, { kind: "input", dims, transform: identity });
        }
        this.shapes.set(info.name, itemShape(dims));
      } else {
        this.values.set(info.name, { kind: "data", tensor: info.name, dims });
        this.shapes.set(info.name, itemShape(dims));
        extraInputs.push({ name: info.name, shape: itemShape(dims) });
      }
      this.names.add(info.name);
    });
    for (const [name, t] of bound) {
      this.values.set(name, { kind: "const", dims: t.dims, values: t.data, float: t.data instanceof Float32Array });
    }
    const live = this.liveNodes(outputName);
    model.nodes.forEach((node, index) => {
      if (!live.has(node)) return;
      this.current = node;
      this.currentIndex = index;
      this.lower(node);
    });
    this.current = undefined;
    const out = this.values.get(outputName);
    if (!out)
      throw new WeightsError(this.file, undefined, `ONNX graph: output "${outputName}" is not computed by any node`);
    const outData = this.materialize(out, `output "${outputName}"`);
    const softmax = this.producer.get(outData.tensor)?.op === "softmax";
    const logits = softmax ? (this.producer.get(outData.tensor) as { input: string }).input : outData.tensor;
    const graph: Graph = {
      input: this.inputName,
      inputChannels: this.inputChannels,
      ...(extraInputs.length > 0 ? { extraInputs } : {}),
      nodes: this.nodes,
      logits,
      probabilities: outData.tensor,
      ...(this.inputTransform && this.inputUse === "transformed" ? { inputTransform: this.inputTransform } : {}),
    };
    return {
      graph,
      weights: this.weights,
      opset: model.opset,
      inputs,
      output: { name: outputName, dims: outData.dims },
      softmax,
      opTypes: this.opTypes,
    };
  }

  /** The data input's dims: the option's, else the declared ones (batch 1 and 224 x 224 where symbolic). */
  private inputDims(name: string, given: number[] | undefined, declared: ValueInfo["dims"]): number[] {
    const fail = (expected: string, found: unknown): UnsupportedOnnxError =>
      new UnsupportedOnnxError(this.file, `graph input "${name}"`, "shape", expected, found);
    const rank = given?.length ?? declared?.length;
    if (rank === undefined) throw fail("a declared shape [N, ...] of rank 2 to 4", "none");
    if (rank < 2 || rank > 4) throw fail("rank 2 to 4 (a batch axis, then one item)", `rank ${rank}`);
    if (given) return given;
    return declared!.map((d, i) => {
      const size = typeof d === "number" && d > 0 ? d : i === 0 ? 1 : rank === 4 && i >= 2 ? DEFAULT_INPUT_SIZE : NaN;
      if (Number.isNaN(size)) throw fail(`a fixed size at dimension ${i}`, d ?? "none");
      return size;
    });
  }

  private producedBySoftmax(name: string): boolean {
    return this.model.nodes.some((n) => n.type === "Softmax" && n.outputs[0] === name);
  }

  /** The nodes the output depends on (others, e.g. training heads, are never read). */
  private liveNodes(output: string): Set<OnnxNode> {
    const byOutput = new Map<string, OnnxNode>();
    for (const node of this.model.nodes) for (const o of node.outputs) if (o) byOutput.set(o, node);
    const live = new Set<OnnxNode>();
    const stack = [output];
    while (stack.length > 0) {
      const node = byOutput.get(stack.pop()!);
      if (!node || live.has(node)) continue;
      live.add(node);
      stack.push(...node.inputs.filter((i) => i !== ""));
    }
    return live;
  }

  // ---------------------------------------------------------------- errors and inputs

  private where(): string {
    const n = this.current!;
    return `${n.type} "${n.name}" (node #${this.currentIndex + 1})`;
  }

  private unsupported(attribute: string, expected: string, found: unknown): UnsupportedOnnxError {
    return new UnsupportedOnnxError(this.file, this.where(), attribute, expected, found);
  }

  private attr(name: string): Attribute | undefined {
    return this.current!.attributes.get(name);
  }

  private int(name: string, fallback: number): number {
    return this.attr(name)?.i ?? fallback;
  }

  /** The value of input `index` of the current node (undefined when absent or ""). */
  private input(index: number): Value | undefined {
    const name = this.current!.inputs[index];
    if (!name) return undefined;
    const v = (this.values.get(name) ?? this.initializer(name))!; // defined: checkArity saw to it
    if (v.kind === "dead") throw this.unsupported(`inputs[${index}]`, "a value the IR keeps", `"${name}", ${v.why}`);
    return v;
  }

  private initializer(name: string): ConstValue | undefined {
    if (this.model.sparse.has(name))
      throw this.unsupported("input", "a dense initializer", `sparse initializer "${name}"`);
    const init = this.model.initializers.get(name);
    if (!init) return undefined;
    const c = this.constOf(init, `initializer "${name}"`);
    this.values.set(name, c);
    return c;
  }

  private constOf(init: Initializer, where: string): ConstValue {
    if (init.dataType === 6 || init.dataType === 7) {
      const t = readInitializerInts(init, this.file, where);
      return { kind: "const", dims: t.shape, values: t.data, float: false };
    }
    // FLOAT, or an error naming the tensor and its type.
    const t = readInitializer32(init, this.file, where, init.name, this.options.readExternal);
    return { kind: "const", dims: t.shape, values: t.data, float: true };
  }

  private constInput(index: number, what: string): ConstValue {
    const v = this.input(index);
    if (v?.kind !== "const")
      throw this.unsupported(what, "a constant (initializer or folded)", v ? "a value computed by the graph" : "none");
    return v;
  }

  private floatInput(index: number, what: string, dims?: number[]): Float32Array {
    const c = this.constInput(index, what);
    if (!c.float) throw this.unsupported(what, "FLOAT values", "integers");
    if (dims && (c.dims.length !== dims.length || c.dims.some((d, i) => d !== dims[i]))) {
      throw this.unsupported(what, `shape [${dims}]`, `[${c.dims}]`);
    }
    return c.values instanceof Float32Array ? c.values : Float32Array.from(c.values);
  }

  /** Input `index` as a constant of INT32 or INT64 values (indices, axes, shapes: ONNX types them so). */
  private intInput(index: number, what: string): ConstValue {
    const c = this.constInput(index, what);
    if (c.float) throw this.unsupported(what, "INT32 or INT64 values", "FLOAT values");
    return c;
  }

  /** A constant 1-D integer list from input `index` (opset 10+ style) or attribute `name` (before). */
  private intsFrom(index: number, name: string): number[] | undefined {
    if (this.current!.inputs[index]) return Array.from(this.intInput(index, name).values);
    const a = this.attr(name);
    return a ? a.ints : undefined;
  }

  private output(value: Value, index = 0): void {
    const name = this.current!.outputs[index];
    if (name) this.values.set(name, value);
  }

  /** Marks outputs the IR does not compute (a Dropout's mask, a MaxPool's indices): reading them is an error. */
  private deadOutputs(from: number, why: string): void {
    this.current!.outputs.slice(from).forEach((name) => name && this.values.set(name, { kind: "dead", why }));
  }

  /** The IR tensor for a value read by an IR op: data as is; the graph input, under its preamble. */
  private materialize(v: Value, what: string): DataValue {
    if (v.kind === "data") return v;
    if (v.kind === "const") throw this.unsupported(what, "a value computed from the graph input", "a constant");
    if (v.kind === "dead") throw this.unsupported(what, "a value the IR keeps", v.why);
    const t = v.transform;
    const identity =
      t.source.every((s, c) => s === c) && t.scale.every((s) => s === 1) && t.shift.every((s) => s === 0);
    if (v.dims.length !== 4 || t.source.length !== this.inputChannels) {
      throw this.unsupported(
        what,
        `all ${this.inputChannels} channels of the input (a per-channel map of it)`,
        `[${v.dims}] from channels [${t.source}]`,
      );
    }
    const use = identity && t.source.length === this.inputChannels ? "raw" : "transformed";
    if (this.inputUse && this.inputUse !== use) {
      throw this.unsupported(what, "one form of the graph input (raw or under one preamble) for every reader", "both");
    }
    if (use === "transformed") {
      if (this.inputTransform && JSON.stringify(this.inputTransform) !== JSON.stringify(t)) {
        throw this.unsupported(what, "one preamble of the input", "two different ones");
      }
      this.inputTransform = t;
    }
    this.inputUse = use;
    return { kind: "data", tensor: this.inputName, dims: v.dims };
  }

  private dataInput(index: number, what: string, rank?: number): DataValue {
    const v = this.input(index);
    if (!v) throw this.unsupported(what, "an input", "none");
    const d = this.materialize(v, what);
    if (rank !== undefined && d.dims.length !== rank) {
      throw this.unsupported(what, rank === 4 ? "a 4-D [N, C, H, W] tensor" : `a ${rank}-D tensor`, `[${d.dims}]`);
    }
    return d;
  }

  // ---------------------------------------------------------------- IR emission

  private uniqueName(base: string): string {
    let name = base || `node${this.currentIndex + 1}`;
    for (let k = 2; this.names.has(name); k++) name = `${base}#${k}`;
    this.names.add(name);
    return name;
  }

  /** Appends an IR node (its output named after the current node's first output) and returns its output value. */
  private emit(node: GraphNode, rankOut: number): DataValue {
    const inputs = node.op === "concat" ? node.inputs : [node.input];
    const [first, ...rest] = inputs.map((t) => this.shapes.get(t)!);
    let shape: Shape;
    try {
      const mini: Graph = {
        input: inputs[0]!,
        inputChannels: first!.c,
        extraInputs: inputs.slice(1).map((name, i) => ({ name, shape: rest[i]! })),
        nodes: [node],
        logits: node.output,
        probabilities: node.output,
      };
      shape = inferShapes(mini, first!.h, first!.w).get(node.output)!;
    } catch (error) {
      if (error instanceof ArgumentError) throw this.unsupported("input", "an input this op can run on", error.message);
      throw error;
    }
    for (const t of inputs) this.irReaders.set(t, (this.irReaders.get(t) ?? 0) + 1);
    this.nodes.push(node);
    this.shapes.set(node.output, shape);
    this.producer.set(node.output, node);
    this.opTypes.set(node.name, this.current!.type);
    const dims =
      rankOut === 4
        ? [this.batch, shape.c, shape.h, shape.w]
        : rankOut === 3
          ? [this.batch, shape.c, shape.w]
          : [this.batch, shape.c * shape.h * shape.w];
    return { kind: "data", tensor: node.output, dims };
  }

  private outputTensor(): string {
    const name = this.current!.outputs[0] || `${this.current!.name}:out`;
    if (this.shapes.has(name)) throw this.unsupported("outputs", "a name no other value has", `"${name}" again`);
    return name;
  }

  /** The conv or fc node producing `v` when its output may still change (no IR reader, no ReLU yet). */
  private foldTarget(v: Value): ConvNode | FcNode | undefined {
    if (v.kind !== "data") return undefined;
    const node = this.producer.get(v.tensor);
    if (!node || (node.op !== "conv" && node.op !== "fc")) return undefined;
    if ((this.irReaders.get(v.tensor) ?? 0) > 0 || (node.op === "conv" && node.relu)) return undefined;
    return node;
  }

  /** After folding into `tensor`'s producer: every earlier name of it now means the folded value. */
  private retire(tensor: string, why: string): void {
    for (const [name, v] of this.values)
      if (v.kind === "data" && v.tensor === tensor) this.values.set(name, { kind: "dead", why });
  }

  // ---------------------------------------------------------------- lowering

  /**
   * The node's input and output counts are its op's (ARITY), every input names a value defined
   * before it (graph input, initializer or an earlier node's output: the graph is topologically
   * sorted) and no output redefines one (single assignment).
   */
  private checkArity(node: OnnxNode): void {
    const { inputs, outputs } = ARITY[node.type]!(this.model.opset);
    const range = ([min, max]: [number, number]): string =>
      min === max ? `${min}` : max === Number.POSITIVE_INFINITY ? `at least ${min}` : `${min} to ${max}`;
    if (node.inputs.length < inputs[0] || node.inputs.length > inputs[1])
      throw this.unsupported("inputs", `${range(inputs)} at opset ${this.model.opset}`, node.inputs.length);
    if (node.outputs.length < outputs[0] || node.outputs.length > outputs[1])
      throw this.unsupported("outputs", `${range(outputs)} at opset ${this.model.opset}`, node.outputs.length);
    const defined = (name: string): boolean =>
      this.values.has(name) || this.model.initializers.has(name) || this.model.sparse.has(name);
    node.inputs.forEach((name, i) => {
      if (name && !defined(name))
        throw this.unsupported(
          `inputs[${i}]`,
          "a graph input, an initializer or an earlier node's output",
          `"${name}"`,
        );
    });
    node.outputs.forEach((name, i) => {
      if (name && defined(name))
        throw this.unsupported(`outputs[${i}]`, "a name no other value has", `"${name}" again`);
    });
  }

  private lower(node: OnnxNode): void {
    const known = ATTRIBUTES[node.type];
    if (known === undefined) throw this.unsupported("op_type", `one of ${SUPPORTED_OPS}`, node.type);
    for (const [name, a] of node.attributes) {
      const type = known[name];
      if (type === undefined) {
        const names = Object.keys(known);
        throw this.unsupported("attribute", names.length > 0 ? `one of ${names.join(", ")}` : "no attributes", name);
      }
      if (a.type !== type) throw this.unsupported(name, `type ${type}`, a.type);
    }
    this.checkArity(node);
    switch (node.type) {
      case "Conv":
        return this.conv();
      case "BatchNormalization":
        return this.batchNorm();
      case "Relu":
        return this.relu();
      case "MaxPool":
      case "AveragePool":
        return this.pool(node.type === "MaxPool" ? "maxPool" : "avgPool");
      case "GlobalAveragePool":
      case "GlobalMaxPool":
        return this.globalPool(node.type === "GlobalMaxPool" ? "maxPool" : "avgPool");
      case "LRN":
        return this.lrn();
      case "Concat":
        return this.concat();
      case "Flatten":
      case "Reshape":
      case "Squeeze":
        return this.reshape(node.type);
      case "Unsqueeze":
        return this.unsqueeze();
      case "Gemm":
      case "MatMul":
        return this.fullyConnected(node.type);
      case "Add":
      case "Sub":
      case "Mul":
      case "Div":
        return this.arithmetic(node.type);
      case "Softmax":
        return this.softmax();
      case "Dropout":
        return this.dropout();
      case "Identity":
        return this.output(this.input(0)!);
      case "Constant":
        return this.constant();
      case "Shape":
        return this.shape();
      case "Gather":
        return this.gather();
      case "Slice":
        return this.slice();
      case "Cast":
        return this.cast();
      default:
        throw this.unsupported("op_type", `one of ${SUPPORTED_OPS}`, node.type);
    }
  }

  private conv(): void {
    const x = this.dataInput(0, "X", 4);
    const inC = this.shapes.get(x.tensor)!.c;
    const wc = this.constInput(1, "W");
    const [m, perGroup, kh, kw] = wc.dims as [number, number, number, number];
    const group = this.int("group", 1);
    if (group !== 1) throw this.unsupported("group", "1 (no grouped convolution)", group);
    if (wc.dims.length !== 4 || perGroup !== inC) throw this.unsupported("W", `[M, ${inC}, kH, kW]`, `[${wc.dims}]`);
    const w = this.floatInput(1, "W");
    this.checkDilations();
    const kernel = this.attr("kernel_shape")?.ints ?? [kh, kw];
    if (kernel[0] !== kh || kernel[1] !== kw)
      throw this.unsupported("kernel_shape", `[${kh},${kw}] (W's)`, `[${kernel}]`);
    const window = this.window([kh, kw], x);
    const b = this.current!.inputs[2] ? this.floatInput(2, "B", [m]) : new Float32Array(m);
    const name = this.uniqueName(this.current!.name);
    const square = isSquare(window);
    const conv: ConvNode = {
      op: "conv",
      name,
      input: x.tensor,
      output: this.outputTensor(),
      weights: name,
      outChannels: m,
      kernel: kh,
      stride: window.stride[0],
      pad: window.pads[0],
      relu: false,
      ...(square ? {} : { window }),
    };
    this.weights.set(`${name}.weight`, { shape: wc.dims, data: w });
    this.weights.set(`${name}.bias`, { shape: [m], data: b });
    this.output(this.emit(conv, 4));
  }

  private checkDilations(): void {
    const d = this.attr("dilations");
    if (d?.ints.some((v) => v !== 1)) throw this.unsupported("dilations", "all 1 (no dilation)", `[${d.ints}]`);
  }

  /** Strides and pads of a Conv or pooling node; auto_pad SAME is resolved for the import size. */
  private window(kernel: [number, number], x: DataValue): Window2d {
    const stride = (this.attr("strides")?.ints ?? [1, 1]) as [number, number];
    if (stride.length !== 2 || stride.some((s) => !(s >= 1)))
      throw this.unsupported("strides", "2 positive values", `[${stride}]`);
    if (kernel.some((k) => !(k >= 1))) throw this.unsupported("kernel_shape", "2 positive values", `[${kernel}]`);
    const autoPad = this.attr("auto_pad")?.s ?? "NOTSET";
    if (autoPad === "NOTSET") {
      const pads = (this.attr("pads")?.ints ?? [0, 0, 0, 0]) as [number, number, number, number];
      if (pads.length !== 4 || pads.some((p) => !(p >= 0)))
        throw this.unsupported("pads", "4 values >= 0 [top, left, bottom, right]", `[${pads}]`);
      return { kernel, stride, pads };
    }
    if (autoPad === "VALID") return { kernel, stride, pads: [0, 0, 0, 0] };
    if (autoPad !== "SAME_UPPER" && autoPad !== "SAME_LOWER") {
      throw this.unsupported("auto_pad", "NOTSET, VALID, SAME_UPPER or SAME_LOWER", autoPad);
    }
    const s = this.shapes.get(x.tensor)!;
    const total = [s.h, s.w].map((size, a) =>
      Math.max(0, (Math.ceil(size / stride[a]!) - 1) * stride[a]! + kernel[a]! - size),
    );
    const before = total.map((t) => (autoPad === "SAME_UPPER" ? Math.floor(t / 2) : Math.ceil(t / 2)));
    return { kernel, stride, pads: [before[0]!, before[1]!, total[0]! - before[0]!, total[1]! - before[1]!] };
  }

  private batchNorm(): void {
    const x = this.input(0)!;
    if (this.int("training_mode", 0) !== 0) throw this.unsupported("training_mode", "0 (inference)", 1);
    if (this.int("spatial", 1) !== 1) throw this.unsupported("spatial", "1 (statistics per channel)", 0);
    if (this.attr("is_test") !== undefined && this.int("is_test", 0) === 0)
      throw this.unsupported("is_test", "1 (inference)", 0);
    if (this.current!.outputs.slice(1).some((o) => o))
      throw this.unsupported("outputs", "one output (inference)", this.current!.outputs.length);
    const c = x.kind === "data" || x.kind === "input" ? (x.dims[1] ?? 0) : 0;
    const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i, k) =>
      this.floatInput(i, ["scale", "B", "mean", "var"][k]!, [c]),
    );
    const eps = this.attr("epsilon")?.f ?? 1e-5;
    const s = Array.from(scale!, (g, i) => g / Math.sqrt(variance![i]! + eps));
    const shift = s.map((si, i) => bias![i]! - mean![i]! * si);
    this.output(this.affine(x, s, shift, "BatchNormalization"));
  }

  /** x * scale[c] + shift[c] per channel (axis 1): folded into the producing Conv/Gemm or the input preamble. */
  private affine(x: Value, scale: number[], shift: number[], what: string): Value {
    if (x.kind === "input") {
      if (x.dims.length !== 4 || x.dims[1] !== scale.length)
        throw this.unsupported("input", `[N, ${scale.length}, H, W]`, `[${x.dims}]`);
      const t = x.transform;
      return {
        kind: "input",
        dims: x.dims,
        transform: {
          source: t.source,
          scale: t.scale.map((a, c) => a * scale[c]!),
          shift: t.shift.map((b, c) => b * scale[c]! + shift[c]!),
        },
      };
    }
    const target = this.foldTarget(x);
    if (!target || x.kind !== "data") {
      throw this.unsupported(
        "X",
        `the output of a Conv or Gemm read by nothing else, or the graph input (${what} is folded into it)`,
        x.kind === "data" ? `"${x.tensor}" from ${this.producer.get(x.tensor)?.op ?? "the graph input"}` : x.kind,
      );
    }
    const units = target.op === "conv" ? target.outChannels : target.outFeatures;
    if (units !== scale.length) throw this.unsupported("X", `${scale.length} channels`, units);
    const w = this.weights.get(`${target.weights}.weight`)!;
    const b = this.weights.get(`${target.weights}.bias`)!;
    const per = w.data.length / units;
    const nw = new Float32Array(w.data.length);
    const nb = new Float32Array(units);
    for (let o = 0; o < units; o++) {
      for (let i = 0; i < per; i++) nw[o * per + i] = w.data[o * per + i]! * scale[o]!;
      nb[o] = b.data[o]! * scale[o]! + shift[o]!;
    }
    this.weights.set(`${target.weights}.weight`, { shape: w.shape, data: nw });
    this.weights.set(`${target.weights}.bias`, { shape: b.shape, data: nb });
    this.retire(x.tensor, `the value before the ${what} folded into ${target.name}`);
    return { kind: "data", tensor: x.tensor, dims: x.dims };
  }

  private relu(): void {
    const x = this.input(0)!;
    const conv = x.kind === "data" ? this.producer.get(x.tensor) : undefined;
    if (x.kind !== "data" || conv?.op !== "conv" || conv.relu || (this.irReaders.get(x.tensor) ?? 0) > 0) {
      throw this.unsupported(
        "X",
        "the output of a Conv (after any folded BatchNormalization) read by nothing else: the IR fuses ReLU into the convolution",
        x.kind === "data"
          ? `"${x.tensor}" from ${conv ? `${this.opTypes.get(conv.name)} "${conv.name}"` : "the graph input"}`
          : x.kind,
      );
    }
    conv.relu = true;
    this.retire(x.tensor, `the convolution's output before the Relu fused into ${conv.name}`);
    this.output({ kind: "data", tensor: x.tensor, dims: x.dims });
  }

  private pool(op: "maxPool" | "avgPool"): void {
    const x = this.dataInput(0, "X", 4);
    const kernel = this.attr("kernel_shape")?.ints ?? [];
    if (kernel.length !== 2) throw this.unsupported("kernel_shape", "2 values (a 2-D window)", `[${kernel}]`);
    this.checkDilations();
    if (this.int("storage_order", 0) !== 0) throw this.unsupported("storage_order", "0", this.int("storage_order", 0));
    const window = this.window(kernel as [number, number], x);
    // A pad as large as the kernel lets a window lie wholly in the padding, where a pool has no
    // value (no taps to take the maximum or average of): onnxruntime, Caffe and PyTorch reject it too.
    if (window.pads.some((p, i) => p >= kernel[i % 2]!))
      throw this.unsupported("pads", `each less than its axis's kernel_shape [${kernel}]`, `[${window.pads}]`);
    const ceil = this.int("ceil_mode", 0) !== 0;
    const countPad = op === "avgPool" && this.int("count_include_pad", 0) !== 0;
    const caffe = caffePoolProblem(op, window, ceil ? "ceil" : "floor", countPad) === undefined;
    const node: PoolNode = {
      op,
      name: this.uniqueName(this.current!.name),
      input: x.tensor,
      output: this.outputTensor(),
      kernel: window.kernel[0],
      stride: window.stride[0],
      pad: window.pads[0],
      ...(caffe ? {} : { window, rounding: ceil ? "ceil" : "floor", ...(op === "avgPool" ? { countPad } : {}) }),
    };
    this.deadOutputs(1, "a MaxPool's indices (not computed)");
    this.output(this.emit(node, 4));
  }

  private globalPool(op: "maxPool" | "avgPool"): void {
    const x = this.dataInput(0, "X", 4);
    const node: PoolNode = {
      op,
      name: this.uniqueName(this.current!.name),
      input: x.tensor,
      output: this.outputTensor(),
      kernel: 1,
      stride: 1,
      pad: 0,
      global: true,
    };
    this.output(this.emit(node, 4));
  }

  private lrn(): void {
    const x = this.dataInput(0, "X", 4);
    const size = this.attr("size")?.i;
    if (size === undefined || size < 1) throw this.unsupported("size", "a positive integer", size ?? "none");
    const node: GraphNode = {
      op: "lrn",
      name: this.uniqueName(this.current!.name),
      input: x.tensor,
      output: this.outputTensor(),
      size,
      alpha: this.attr("alpha")?.f ?? Math.fround(1e-4),
      beta: this.attr("beta")?.f ?? 0.75,
      k: this.attr("bias")?.f ?? 1,
    };
    this.output(this.emit(node, 4));
  }

  private concat(): void {
    const parts = this.current!.inputs.map((_, i) => this.input(i)!);
    const rank = parts[0]!.kind === "dead" ? 0 : (parts[0] as ConstValue | DataValue | InputView).dims.length;
    const given = this.attr("axis")?.i;
    if (given === undefined) throw this.unsupported("axis", "an axis", "none");
    const axis = given < 0 ? given + rank : given;
    if (parts.every((p) => p.kind === "const")) {
      this.output(concatConsts(parts as ConstValue[], axis));
      return;
    }
    if (axis !== 1) throw this.unsupported("axis", `1 (the channel axis of [N, C, ...])`, given);
    if (parts.every((p) => p.kind === "input")) {
      const views = parts as InputView[];
      const source = views.flatMap((v) => v.transform.source);
      this.output({
        kind: "input",
        dims: [views[0]!.dims[0]!, source.length, ...views[0]!.dims.slice(2)],
        transform: {
          source,
          scale: views.flatMap((v) => v.transform.scale),
          shift: views.flatMap((v) => v.transform.shift),
        },
      });
      return;
    }
    const data = parts.map((p, i) => this.materialize(p, `inputs[${i}]`));
    if (data.some((d) => d.dims.length !== rank))
      throw this.unsupported("inputs", `tensors of rank ${rank}`, data.map((d) => `[${d.dims}]`).join(", "));
    for (const [i, d] of data.entries()) {
      const concatOf = [...this.nodes].find((n) => n.op === "concat" && n.inputs.includes(d.tensor));
      if (concatOf || data.findIndex((e) => e.tensor === d.tensor) !== i) {
        throw this.unsupported(
          `inputs[${i}]`,
          "a tensor that feeds no other Concat (the IR plans concat inputs in place)",
          `"${d.tensor}"`,
        );
      }
    }
    const node: GraphNode = {
      op: "concat",
      name: this.uniqueName(this.current!.name),
      inputs: data.map((d) => d.tensor),
      output: this.outputTensor(),
    };
    this.output(this.emit(node, rank));
  }

  /** Flatten, Reshape and Squeeze: free when the result is [N, features] (or the same dims); constants are reshaped. */
  private reshape(type: string): void {
    const x = this.input(0)!;
    const dims = (x as ConstValue | DataValue | InputView).dims;
    let target: number[];
    if (type === "Flatten") {
      const given = this.int("axis", 1);
      const axis = given < 0 ? given + dims.length : given;
      target = [elementCount(dims.slice(0, axis)), elementCount(dims.slice(axis))];
    } else if (type === "Squeeze") {
      const axes = (this.intsFrom(1, "axes") ?? dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) =>
        a < 0 ? a + dims.length : a,
      );
      target = dims.filter((_, i) => !axes.includes(i));
    } else {
      const shape = this.intsFrom(1, "shape");
      if (!shape) throw this.unsupported("shape", "a target shape", "none");
      const allowZero = this.int("allowzero", 0) !== 0;
      target = shape.map((d, i) => (d === 0 && !allowZero ? (dims[i] ?? 0) : d));
      const known = elementCount(target.filter((d) => d !== -1));
      if (target.filter((d) => d === -1).length > 1) throw this.unsupported("shape", "at most one -1", `[${shape}]`);
      target = target.map((d) => (d === -1 ? (known > 0 ? elementCount(dims) / known : NaN) : d));
      if (!target.every((d) => Number.isInteger(d) && d >= 0) || elementCount(target) !== elementCount(dims)) {
        throw this.unsupported("shape", `a shape of ${elementCount(dims)} values`, `[${shape}] for [${dims}]`);
      }
    }
    if (x.kind === "const") {
      this.output({ ...x, dims: target });
      return;
    }
    const same = target.length === dims.length && target.every((d, i) => d === dims[i]);
    const features = elementCount(dims.slice(1));
    if (!same && !(target.length === 2 && target[0] === dims[0] && target[1] === features)) {
      throw this.unsupported(
        type === "Flatten" ? "axis" : "shape",
        `[N, ${features}] or [${dims}] (the batch axis kept, an item's values in order)`,
        `[${target}]`,
      );
    }
    const d = this.materialize(x, "data");
    this.output({ kind: "data", tensor: d.tensor, dims: target });
  }

  private unsqueeze(): void {
    const x = this.input(0)!;
    const axes = this.intsFrom(1, "axes");
    if (!axes) throw this.unsupported("axes", "axes", "none");
    const dims = [...(x as ConstValue | DataValue | InputView).dims];
    const rank = dims.length + axes.length;
    for (const a of axes.map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q)) dims.splice(a, 0, 1);
    if (x.kind === "const") this.output({ ...x, dims });
    else if (x.kind === "input" && x.dims.length === 3 && dims.length === 4 && dims[1] === 1)
      this.output({ ...x, dims });
    else
      throw this.unsupported(
        "data",
        "a constant, or one channel of the input ([N, H, W] -> [N, 1, H, W])",
        `[${(x as DataValue).dims}]`,
      );
  }

  private fullyConnected(type: "Gemm" | "MatMul"): void {
    const a = this.dataInput(0, "A", 2);
    const k = a.dims[1]!;
    const b = this.constInput(1, "B");
    const transB = type === "Gemm" && this.int("transB", 0) !== 0;
    if (type === "Gemm" && this.int("transA", 0) !== 0)
      throw this.unsupported("transA", "0 (the rows of A are the batch)", 1);
    if (b.dims.length !== 2 || b.dims[transB ? 1 : 0] !== k) {
      throw this.unsupported("B", `a 2-D matrix with ${k} ${transB ? "columns" : "rows"}`, `[${b.dims}]`);
    }
    const values = this.floatInput(1, "B");
    const n = b.dims[transB ? 0 : 1]!;
    const alpha = type === "Gemm" ? (this.attr("alpha")?.f ?? 1) : 1;
    const beta = type === "Gemm" ? (this.attr("beta")?.f ?? 1) : 1;
    const weight = new Float32Array(n * k);
    for (let o = 0; o < n; o++)
      for (let i = 0; i < k; i++) weight[o * k + i] = alpha * values[transB ? o * k + i : i * n + o]!;
    const bias = new Float32Array(n);
    if (type === "Gemm" && this.current!.inputs[2]) {
      const c = this.constInput(2, "C");
      const count = elementCount(c.dims);
      if (!((count === 1 || count === n) && c.dims.slice(0, -1).every((d) => d === 1))) {
        throw this.unsupported("C", `a bias shared by every row: [], [1], [${n}] or [1, ${n}]`, `[${c.dims}]`);
      }
      const cv = this.floatInput(2, "C");
      for (let o = 0; o < n; o++) bias[o] = beta * cv[count === 1 ? 0 : o]!;
    }
    const name = this.uniqueName(this.current!.name);
    const fc: FcNode = { op: "fc", name, input: a.tensor, output: this.outputTensor(), weights: name, outFeatures: n };
    this.weights.set(`${name}.weight`, { shape: [n, k], data: weight });
    this.weights.set(`${name}.bias`, { shape: [n], data: bias });
    this.output(this.emit(fc, 2));
  }

  private arithmetic(type: "Add" | "Sub" | "Mul" | "Div"): void {
    const p = this.input(0)!,
      q = this.input(1)!;
    if (p.kind === "const" && q.kind === "const") {
      this.output(
        binaryConsts(p, q, type, () =>
          this.unsupported("inputs", "broadcastable constants", `[${p.dims}] and [${q.dims}]`),
        ),
      );
      return;
    }
    const commutes = type === "Add" || type === "Mul";
    const [x, c] = q.kind === "const" ? [p, q] : commutes && p.kind === "const" ? [q, p] : [undefined, undefined];
    if (!x || !c || !c.float) {
      throw this.unsupported(
        "inputs",
        `a tensor ${type === "Sub" || type === "Div" ? "then" : "and"} a per-channel FLOAT constant`,
        "two computed tensors or integers",
      );
    }
    const dims = (x as DataValue | InputView).dims;
    const channels = dims[1] ?? 1;
    // Opsets before 7: broadcast 1 with `axis` aligns the constant's dims at that axis, else at the end.
    const legacyAxis = this.model.opset < 7 && this.int("broadcast", 0) !== 0 ? this.attr("axis")?.i : undefined;
    const vector = perChannel(c, dims.length, channels, legacyAxis);
    if (!vector)
      throw this.unsupported(
        "inputs",
        `a constant per channel of [${dims}]: [], [1], [${channels}, 1, 1] or [1, ${channels}, 1, 1]`,
        `[${c.dims}]`,
      );
    const ones = vector.map(() => 1),
      zeros = vector.map(() => 0);
    const [scale, shift] =
      type === "Add"
        ? [ones, vector]
        : type === "Sub"
          ? [ones, vector.map((v) => -v)]
          : type === "Mul"
            ? [vector, zeros]
            : [vector.map((v) => 1 / v), zeros];
    this.output(this.affine(x, scale, shift, type));
  }

  private softmax(): void {
    const x = this.dataInput(0, "input");
    const rank = x.dims.length;
    const oneAxis = this.model.opset >= 13;
    const given = this.int("axis", oneAxis ? -1 : 1);
    const axis = given < 0 ? given + rank : given;
    const wholeItem = oneAxis
      ? axis >= 1 && x.dims.slice(1, axis).every((d) => d === 1) && x.dims.slice(axis + 1).every((d) => d === 1)
      : axis === 1;
    if (!wholeItem) {
      throw this.unsupported(
        "axis",
        `the axis that normalises one batch item's values together (1${oneAxis ? ", or one with only 1s around it" : ""}) for [${x.dims}]`,
        given,
      );
    }
    const node: GraphNode = {
      op: "softmax",
      name: this.uniqueName(this.current!.name),
      input: x.tensor,
      output: this.outputTensor(),
    };
    const out = this.emit(node, 2);
    this.output({ ...out, dims: x.dims });
  }

  private dropout(): void {
    const training = this.current!.inputs[2];
    if (training) {
      const t = this.constInput(2, "training_mode");
      if (Array.from(t.values).some((v) => v !== 0))
        throw this.unsupported("training_mode", "false (inference: identity)", "true");
    }
    if (this.attr("is_test") !== undefined && this.int("is_test", 0) === 0)
      throw this.unsupported("is_test", "1 (inference)", 0);
    this.deadOutputs(1, "a Dropout's mask (not computed at inference)");
    this.output(this.input(0)!);
  }

  private constant(): void {
    const a = (name: string): Attribute | undefined => this.attr(name);
    const v = a("value");
    if (v?.t) {
      this.output(this.constOf(v.t, "Constant value"));
      return;
    }
    if (a("value_float")?.f !== undefined)
      this.output({ kind: "const", dims: [], values: [Math.fround(a("value_float")!.f!)], float: true });
    else if (a("value_floats"))
      this.output({
        kind: "const",
        dims: [a("value_floats")!.floats.length],
        values: Float32Array.from(a("value_floats")!.floats),
        float: true,
      });
    else if (a("value_int")?.i !== undefined)
      this.output({ kind: "const", dims: [], values: [a("value_int")!.i!], float: false });
    else if (a("value_ints"))
      this.output({ kind: "const", dims: [a("value_ints")!.ints.length], values: a("value_ints")!.ints, float: false });
    else
      throw this.unsupported(
        "value",
        "value, value_float(s) or value_int(s)",
        [...this.current!.attributes.keys()].join(", ") || "none",
      );
  }

  private shape(): void {
    const x = this.input(0)!;
    const dims = (x as ConstValue | DataValue | InputView).dims;
    const start = this.int("start", 0),
      end = this.attr("end")?.i ?? dims.length;
    const norm = (i: number): number => Math.min(Math.max(i < 0 ? i + dims.length : i, 0), dims.length);
    const values = dims.slice(norm(start), norm(end));
    this.output({ kind: "const", dims: [values.length], values, float: false });
  }

  private gather(): void {
    const x = this.input(0)!;
    const indices = this.intInput(1, "indices");
    const dims = (x as ConstValue | DataValue | InputView).dims;
    const given = this.int("axis", 0);
    const axis = given < 0 ? given + dims.length : given;
    const idx = Array.from(indices.values, (i) => (i < 0 ? i + (dims[axis] ?? 0) : i));
    if (idx.some((i) => !(i >= 0 && i < (dims[axis] ?? 0))))
      throw this.unsupported("indices", `indices in 0..${(dims[axis] ?? 0) - 1}`, `[${Array.from(indices.values)}]`);
    if (x.kind === "const") {
      this.output(gatherConst(x, axis, idx, indices.dims));
      return;
    }
    if (x.kind !== "input" || axis !== 1 || x.dims.length !== 4 || indices.dims.length > 1) {
      throw this.unsupported("data", "a constant, or channels (axis 1) of the input", `[${dims}] axis ${given}`);
    }
    const t = x.transform;
    const transform = {
      source: idx.map((i) => t.source[i]!),
      scale: idx.map((i) => t.scale[i]!),
      shift: idx.map((i) => t.shift[i]!),
    };
    const out =
      indices.dims.length === 0
        ? [x.dims[0]!, x.dims[2]!, x.dims[3]!]
        : [x.dims[0]!, idx.length, x.dims[2]!, x.dims[3]!];
    this.output({ kind: "input", dims: out, transform });
  }

  private slice(): void {
    const x = this.input(0)!;
    const dims = (x as ConstValue | DataValue | InputView).dims;
    const starts = this.intsFrom(1, "starts"),
      ends = this.intsFrom(2, "ends");
    if (!starts || !ends || starts.length !== ends.length)
      throw this.unsupported("starts", "starts and ends of one length", `${starts} / ${ends}`);
    const axes = (this.intsFrom(3, "axes") ?? starts.map((_, i) => i)).map((a) => (a < 0 ? a + dims.length : a));
    const steps = this.current!.inputs[4] ? Array.from(this.intInput(4, "steps").values) : starts.map(() => 1);
    const ranges = dims.map((d) => Array.from({ length: d }, (_, i) => i));
    axes.forEach((axis, j) => {
      const d = dims[axis]!;
      const step = steps[j]!;
      if (step === 0) throw this.unsupported("steps", "non-zero steps", 0);
      const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
      const picked: number[] = [];
      if (step > 0) for (let i = clamp(starts[j]!, 0, d); i < clamp(ends[j]!, 0, d); i += step) picked.push(i);
      else for (let i = clamp(starts[j]!, -1, d - 1); i > clamp(ends[j]!, -1, d - 1); i += step) picked.push(i);
      ranges[axis] = picked;
    });
    if (x.kind === "const") {
      let c: ConstValue = x;
      ranges.forEach((r, axis) => {
        if (r.length !== dims[axis]) c = gatherConst(c, axis, r, [r.length]);
      });
      this.output(c);
      return;
    }
    const changed = ranges.flatMap((r, axis) => (r.length !== dims[axis] || r.some((v, i) => v !== i) ? [axis] : []));
    if (changed.length === 0) {
      this.output(x);
      return;
    }
    if (x.kind !== "input" || changed.some((a) => a !== 1)) {
      throw this.unsupported("axes", "a constant, or channels (axis 1) of the input", `axes [${changed}] of [${dims}]`);
    }
    const t = x.transform;
    const idx = ranges[1]!;
    this.output({
      kind: "input",
      dims: [dims[0]!, idx.length, ...dims.slice(2)],
      transform: {
        source: idx.map((i) => t.source[i]!),
        scale: idx.map((i) => t.scale[i]!),
        shift: idx.map((i) => t.shift[i]!),
      },
    });
  }

  private cast(): void {
    const x = this.input(0)!;
    const to = this.int("to", 0);
    if (x.kind !== "const") {
      if (to === 1) return this.output(x); // FLOAT to FLOAT
      throw this.unsupported("to", "FLOAT (1) for a computed tensor", DATA_TYPES[to] ?? to);
    }
    const float = to === 1 || to === 10 || to === 11;
    const ints = to === 6 || to === 7;
    if (!float && !ints) throw this.unsupported("to", "FLOAT, DOUBLE, INT32 or INT64", DATA_TYPES[to] ?? to);
    this.output({
      kind: "const",
      dims: x.dims,
      values: float ? Float32Array.from(x.values) : Array.from(x.values, Math.trunc),
      float,
    });
  }
}

/**
 * The attributes each op may carry (of any opset) and their AttributeType; any other name, or
 * another type, is an error rather than ignored, so a model never runs as something it does not
 * say. Attributes of old opsets that change nothing at inference (consumed_inputs, is_test,
 * spatial 1, momentum, seed) are read or accepted.
 */
const ATTRIBUTES: Readonly<Record<string, Readonly<Record<string, AttributeType>>>> = {
  Conv: { auto_pad: "STRING", dilations: "INTS", group: "INT", kernel_shape: "INTS", pads: "INTS", strides: "INTS" },
  BatchNormalization: {
    epsilon: "FLOAT",
    momentum: "FLOAT",
    spatial: "INT",
    is_test: "INT",
    consumed_inputs: "INTS",
    training_mode: "INT",
  },
  Relu: { consumed_inputs: "INTS" },
  MaxPool: {
    auto_pad: "STRING",
    ceil_mode: "INT",
    dilations: "INTS",
    kernel_shape: "INTS",
    pads: "INTS",
    storage_order: "INT",
    strides: "INTS",
  },
  AveragePool: {
    auto_pad: "STRING",
    ceil_mode: "INT",
    count_include_pad: "INT",
    dilations: "INTS",
    kernel_shape: "INTS",
    pads: "INTS",
    strides: "INTS",
  },
  GlobalAveragePool: {},
  GlobalMaxPool: {},
  LRN: { alpha: "FLOAT", beta: "FLOAT", bias: "FLOAT", size: "INT" },
  Concat: { axis: "INT" },
  Flatten: { axis: "INT" },
  Reshape: { shape: "INTS", allowzero: "INT", consumed_inputs: "INTS" },
  Squeeze: { axes: "INTS" },
  Unsqueeze: { axes: "INTS" },
  Gemm: { alpha: "FLOAT", beta: "FLOAT", transA: "INT", transB: "INT", broadcast: "INT" },
  MatMul: {},
  Add: { broadcast: "INT", axis: "INT", consumed_inputs: "INTS" },
  Sub: { broadcast: "INT", axis: "INT", consumed_inputs: "INTS" },
  Mul: { broadcast: "INT", axis: "INT", consumed_inputs: "INTS" },
  Div: { broadcast: "INT", axis: "INT", consumed_inputs: "INTS" },
  Softmax: { axis: "INT" },
  Dropout: { ratio: "FLOAT", is_test: "INT", seed: "INT", consumed_inputs: "INTS" },
  Identity: {},
  Constant: { value: "TENSOR", value_float: "FLOAT", value_floats: "FLOATS", value_int: "INT", value_ints: "INTS" },
  Shape: { start: "INT", end: "INT" },
  Gather: { axis: "INT" },
  Slice: { starts: "INTS", ends: "INTS", axes: "INTS" },
  Cast: { to: "INT", saturate: "INT" },
};

/** How many inputs and outputs (each [min, max]) an op's schema admits; "" entries count, as in ONNX. */
interface Arity {
  inputs: [number, number];
  outputs: [number, number];
}
const arity = (inputs: [number, number], outputs: [number, number] = [1, 1]): Arity => ({ inputs, outputs });
const UNARY = (): Arity => arity([1, 1]);
const BINARY = (): Arity => arity([2, 2]);

/**
 * Each op's inputs and outputs at an opset (ONNX Operators.md; opset 0, none named, reads as the
 * oldest): a node with more or fewer is invalid (the ONNX checker rejects it), never read in part.
 */
const ARITY: Readonly<Record<string, (opset: number) => Arity>> = {
  Conv: () => arity([2, 3]),
  BatchNormalization: (opset) => arity([5, 5], [1, opset >= 14 ? 3 : 5]),
  Relu: UNARY,
  MaxPool: (opset) => arity([1, 1], [1, opset >= 8 ? 2 : 1]),
  AveragePool: UNARY,
  GlobalAveragePool: UNARY,
  GlobalMaxPool: UNARY,
  LRN: UNARY,
  Concat: () => arity([1, Number.POSITIVE_INFINITY]),
  Flatten: UNARY,
  Reshape: (opset) => arity(opset >= 5 ? [2, 2] : [1, 1]),
  Squeeze: (opset) => arity(opset >= 13 ? [1, 2] : [1, 1]),
  Unsqueeze: (opset) => arity(opset >= 13 ? [2, 2] : [1, 1]),
  Gemm: (opset) => arity(opset >= 11 ? [2, 3] : [3, 3]),
  MatMul: BINARY,
  Add: BINARY,
  Sub: BINARY,
  Mul: BINARY,
  Div: BINARY,
  Softmax: UNARY,
  Dropout: (opset) => arity(opset >= 12 ? [1, 3] : [1, 1], [1, 2]),
  Identity: UNARY,
  Constant: () => arity([0, 0]),
  Shape: UNARY,
  Gather: BINARY,
  Slice: (opset) => arity(opset >= 10 ? [3, 5] : [1, 1]),
  Cast: UNARY,
};

/** One item's IR shape for ONNX dims [N, ...]: [N, C, H, W] -> C x H x W, [N, C, L] -> C x 1 x L, [N, F] -> F x 1 x 1. */
function itemShape(dims: readonly number[]): Shape {
  if (dims.length === 4) return { c: dims[1]!, h: dims[2]!, w: dims[3]! };
  if (dims.length === 3) return { c: dims[1]!, h: 1, w: dims[2]! };
  return { c: elementCount(dims.slice(1)), h: 1, w: 1 };
}

function isSquare(w: Window2d): boolean {
  return w.kernel[0] === w.kernel[1] && w.stride[0] === w.stride[1] && w.pads.every((p) => p === w.pads[0]);
}

/** A constant's values per channel (axis 1) of a rank-`rank` tensor with `channels` channels, or undefined if it varies along another axis. */
function perChannel(c: ConstValue, rank: number, channels: number, axis?: number): number[] | undefined {
  const count = elementCount(c.dims);
  if (count === 1) return Array.from({ length: channels }, () => c.values[0]!);
  const at = axis === undefined ? rank - c.dims.length : axis < 0 ? axis + rank : axis;
  if (at < 0 || at + c.dims.length > rank) return undefined;
  const aligned = [...Array(at).fill(1), ...c.dims, ...Array(rank - at - c.dims.length).fill(1)] as number[];
  if (aligned[1] !== channels || aligned.some((d, i) => i !== 1 && d !== 1)) return undefined;
  return Array.from(c.values);
}

/** Elementwise Add/Sub/Mul/Div of two constants under numpy broadcasting (float32 results when either is float). */
function binaryConsts(p: ConstValue, q: ConstValue, type: string, fail: () => Error): ConstValue {
  const rank = Math.max(p.dims.length, q.dims.length);
  const pad = (d: number[]): number[] => [...Array(rank - d.length).fill(1), ...d];
  const pd = pad(p.dims),
    qd = pad(q.dims);
  const dims = pd.map((d, i) => (d === qd[i] ? d : d === 1 ? qd[i]! : qd[i] === 1 ? d : NaN));
  if (dims.some(Number.isNaN)) throw fail();
  const count = elementCount(dims);
  const index = (d: number[], flat: number): number => {
    let at = 0,
      rest = flat;
    const coords = dims.map((_, i) => {
      const stride = elementCount(dims.slice(i + 1));
      const v = Math.floor(rest / stride);
      rest -= v * stride;
      return v;
    });
    coords.forEach((v, i) => (at = at * d[i]! + (d[i] === 1 ? 0 : v)));
    return at;
  };
  const float = p.float || q.float;
  const out = float ? new Float32Array(count) : new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const a = p.values[index(pd, i)]!,
      b = q.values[index(qd, i)]!;
    const r =
      type === "Add" ? a + b : type === "Sub" ? a - b : type === "Mul" ? a * b : float ? a / b : Math.trunc(a / b);
    out[i] = r;
  }
  return { kind: "const", dims, values: out, float };
}

function concatConsts(parts: ConstValue[], axis: number): ConstValue {
  const dims = [...parts[0]!.dims];
  dims[axis] = parts.reduce((s, p) => s + (p.dims[axis] ?? 1), 0);
  const outer = elementCount(dims.slice(0, axis));
  const values: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const inner = elementCount(p.dims.slice(axis));
      for (let i = 0; i < inner; i++) values.push(p.values[o * inner + i]!);
    }
  }
  const float = parts.some((p) => p.float);
  return { kind: "const", dims, values: float ? Float32Array.from(values) : values, float };
}

/** Gather along `axis` of a constant; `indexDims` is the indices' shape (a scalar removes the axis). */
function gatherConst(x: ConstValue, axis: number, idx: number[], indexDims: number[]): ConstValue {
  const outer = elementCount(x.dims.slice(0, axis));
  const inner = elementCount(x.dims.slice(axis + 1));
  const size = x.dims[axis]!;
  const values: number[] = [];
  for (let o = 0; o < outer; o++)
    for (const i of idx) for (let j = 0; j < inner; j++) values.push(x.values[(o * size + i) * inner + j]!);
  const dims = [...x.dims.slice(0, axis), ...indexDims, ...x.dims.slice(axis + 1)];
  return { kind: "const", dims, values: x.float ? Float32Array.from(values) : values, float: x.float };
}

/** The largest spatial size for which ONNX pooling is checked against Caffe's rounding. */
const MAX_CHECKED_SIZE = 1024;

/**
 * Why an ONNX pooling window differs from Caffe's square pooling with pad = its begin pad (output
 * size for some input size up to MAX_CHECKED_SIZE, or the average's divisor), or undefined when
 * it is the same operation at every size. Max pooling ignores padded taps as Caffe's clipped
 * windows do; Caffe's average divides by the window clipped to the image plus the begin pad.
 */
export function caffePoolProblem(
  op: "maxPool" | "avgPool",
  window: Window2d,
  rounding: "floor" | "ceil",
  countPad: boolean,
): string | undefined {
  const { kernel, stride, pads } = window;
  if (!isSquare({ kernel, stride, pads: [pads[0], pads[0], pads[0], pads[0]] }) || pads[0] !== pads[1]) {
    return `a ${kernel.join("x")} window, strides [${stride}], pads [${pads}] (not square)`;
  }
  for (const axis of [0, 1]) {
    const k = kernel[axis]!,
      s = stride[axis]!,
      begin = pads[axis]!,
      end = pads[axis + 2]!;
    for (let size = Math.max(1, k - 2 * begin); size <= MAX_CHECKED_SIZE; size++) {
      const span = size + begin + end - k;
      let onnx = (rounding === "ceil" ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
      if (rounding === "ceil" && (onnx - 1) * s >= size + begin) onnx--; // ONNX 19+, onnxruntime: no window starts in the end pad
      const caffe = poolOutSize(size, k, s, begin);
      if (onnx !== caffe) {
        return (
          `pads [${pads.join(",")}] with ceil_mode ${rounding === "ceil" ? 1 : 0} give ${onnx} outputs for a ${size}-pixel ` +
          `input, Caffe's pooling gives ${caffe}`
        );
      }
    }
  }
  const [top, left, bottom, right] = pads;
  const caffeDivisor =
    top === 0 && left === 0 ? !countPad || (bottom === 0 && right === 0) : countPad && bottom <= top && right <= left;
  if (op === "avgPool" && !caffeDivisor)
    return `count_include_pad ${countPad ? 1 : 0} with pads [${pads.join(",")}] divides unlike Caffe`;
  return undefined;
}

// ---------------------------------------------------------------- GoogLeNet (BVLC) binding

/**
 * The weights of `graph` (GoogLeNet's) from an imported ONNX graph, matched by structure
 * (match.ts: names are never trusted, identical sibling branches are told apart by their
 * readers). Throws WeightsError naming the first GoogLeNet node the imported graph differs at.
 */
export function bindToGraph(imported: ImportedGraph, graph: Graph, file: string): TensorMap {
  const format = `ONNX model${imported.opset ? ` (opset ${imported.opset})` : ""}`;
  if (imported.graph.inputTransform) {
    throw new WeightsError(
      file,
      undefined,
      `${format} differs from GoogLeNet: it maps its input per channel before the first convolution (a preamble), GoogLeNet does not`,
    );
  }
  return matchGraph(foundOps(imported), graph, file, format);
}

/** The imported graph's nodes as match.ts's FoundOps (pools in Caffe's terms where they are Caffe's). */
function foundOps(imported: ImportedGraph): FoundOp[] {
  const { graph, weights, opTypes } = imported;
  const shapes = inferShapes(graph, DEFAULT_INPUT_SIZE, DEFAULT_INPUT_SIZE);
  const tensor = (name: string): FoundTensor => ({
    where: `initializer of ${name.replace(/\.(weight|bias)$/, "")}`,
    read: () => weights.get(name)!,
  });
  const ops: FoundOp[] = [];
  for (const node of graph.nodes) {
    const base = { name: node.name, type: opTypes.get(node.name) ?? node.op, outputs: [node.output] };
    switch (node.op) {
      case "conv": {
        const w = node.window ?? {
          kernel: [node.kernel, node.kernel],
          stride: [node.stride, node.stride],
          pads: [node.pad, node.pad, node.pad, node.pad],
        };
        const pre = `${node.output}\u0000linear`;
        ops.push({
          ...base,
          kind: "conv",
          inputs: [node.input],
          outputs: node.relu ? [pre] : [node.output],
          units: node.outChannels,
          kernel: w.kernel,
          stride: w.stride,
          pad: [w.pads[0], w.pads[1]],
          weight: tensor(`${node.weights}.weight`),
          bias: tensor(`${node.weights}.bias`),
          problem:
            w.pads[0] !== w.pads[2] || w.pads[1] !== w.pads[3] ? `asymmetric pads [${w.pads.join(",")}]` : undefined,
        });
        if (node.relu)
          ops.push({ name: `${node.name}:relu`, type: "Relu", kind: "relu", inputs: [pre], outputs: [node.output] });
        break;
      }
      case "maxPool":
      case "avgPool": {
        const s = shapes.get(node.input)!;
        const w: Window2d = node.global
          ? { kernel: [s.h, s.w], stride: [1, 1], pads: [0, 0, 0, 0] }
          : (node.window ?? {
              kernel: [node.kernel, node.kernel],
              stride: [node.stride, node.stride],
              pads: [node.pad, node.pad, node.pad, node.pad],
            });
        const problem = node.window
          ? caffePoolProblem(node.op, w, node.rounding ?? "floor", node.countPad ?? false)
          : undefined;
        ops.push({
          ...base,
          kind: node.op,
          inputs: [node.input],
          kernel: w.kernel,
          stride: w.stride,
          pad: [w.pads[0], w.pads[1]],
          problem,
        });
        break;
      }
      case "lrn":
        ops.push({
          ...base,
          kind: "lrn",
          inputs: [node.input],
          lrn: { size: node.size, alpha: node.alpha, beta: node.beta, k: node.k },
        });
        break;
      case "concat":
        ops.push({ ...base, kind: "concat", inputs: node.inputs });
        break;
      case "fc":
        ops.push({
          ...base,
          kind: "fc",
          inputs: [node.input],
          units: node.outFeatures,
          weight: tensor(`${node.weights}.weight`),
          bias: tensor(`${node.weights}.bias`),
        });
        break;
      case "softmax":
        ops.push({ ...base, kind: "softmax", inputs: [node.input] });
        break;
    }
  }
  return ops;
}

/**
 * GoogLeNet's weights from an ONNX model (the model zoo's googlenet-*.onnx, this library's export,
 * any exporter's BVLC graph): imported, then bound to `graph` by structure (bindToGraph).
 */
export function decodeOnnxWeights(
  bytes: Uint8Array,
  file: string,
  graph: Graph,
  readExternal?: ExternalDataReader,
): TensorMap {
  return bindToGraph(importOnnx(bytes, file, { readExternal }), graph, file);
}

/**
 * The network an imported graph is: GoogLeNet's own graph (exact Table 1 and activations by
 * Caffe's names) with the bound weights when the graph is GoogLeNet's, else the imported graph.
 */
export function canonicalNetwork(
  imported: ImportedGraph,
  file: string,
): { graph: Graph; weights: TensorMap; googlenet: boolean } {
  const googlenet = googlenetGraph();
  try {
    return { graph: googlenet, weights: bindToGraph(imported, googlenet, file), googlenet: true };
  } catch (error) {
    if (!(error instanceof WeightsError)) throw error;
    return { graph: imported.graph, weights: imported.weights, googlenet: false };
  }
}
