// Export of a graph and its weights as a standard ONNX model (opset 13), so other engines
// (onnxruntime-web / -node) run exactly this network on exactly these weights.
//
// Op mapping: conv -> Conv (+ Relu), maxPool -> MaxPool, avgPool -> AveragePool,
// lrn -> LRN, concat -> Concat (axis 1), fc -> Flatten + Gemm (transB), softmax -> Softmax.
// The batch dimension is dynamic ("N"); tensors keep the graph's names.

import onnxProto from "onnx-proto";
import { ArgumentError } from "../../host/errors.js";
import type { Graph, PoolNode } from "../../host/ir/graph.js";
import { inferShapes } from "../../host/ir/shapes.js";
import { poolOutSize } from "../../host/ir/window.js";
import { checkTensors, expectedWeights, type TensorMap } from "../../host/ir/tensors.js";

const { onnx } = onnxProto;

/** The ONNX opset the exported model declares. */
export const ONNX_OPSET = 13;

/**
 * ONNX pads [begin, end] along one axis for a Caffe pooling (ceil-mode size, with Caffe's rule
 * that the last window starts inside the image or the begin padding): begin is Caffe's pad, end
 * makes the last window end exactly at the padded edge, or is 0 when Caffe's last window ends
 * before it. With these pads ONNX's floor-mode size (ceil_mode 0) equals Caffe's size, so the
 * model does not depend on how a runtime rounds in ceil mode (runtimes disagree on windows that
 * start in the end padding). For max pooling the pads never win (ONNX pads max pooling with -inf).
 */
export function caffePoolPads(size: number, kernel: number, stride: number, pad: number): [number, number] {
  const out = poolOutSize(size, kernel, stride, pad);
  return [pad, Math.max(0, (out - 1) * stride + kernel - size - pad)];
}

/** ONNX's ceil_mode 0 pooling size: floor((size + begin + end - kernel) / stride) + 1. */
export function onnxPoolOutSize(size: number, kernel: number, stride: number, pads: [number, number]): number {
  return Math.floor((size + pads[0] + pads[1] - kernel) / stride) + 1;
}

type Attribute = { name: string } & ({ i: number } | { f: number } | { ints: number[] });

function attribute(a: Attribute): onnxProto.onnx.IAttributeProto {
  const type =
    "i" in a
      ? onnx.AttributeProto.AttributeType.INT
      : "f" in a
        ? onnx.AttributeProto.AttributeType.FLOAT
        : onnx.AttributeProto.AttributeType.INTS;
  return { ...a, type };
}

function floatTensor(name: string, shape: number[], data: Float32Array): onnxProto.onnx.ITensorProto {
  return {
    name,
    dims: shape,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), // ONNX raw data is little-endian, as are wasm and x86/ARM hosts
  };
}

function valueInfo(name: string, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: {
          dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}

/**
 * Caffe average pooling divides by the window clipped to the padded image (padding counted,
 * ceil-mode overflow not): without padding that is count_include_pad 0; with padding it is
 * count_include_pad 1 as long as no window passes the padded edge. Other cases have no ONNX form.
 */
function avgPoolCountsPad(node: PoolNode, hPads: [number, number], wPads: [number, number]): number {
  if (node.pad === 0) return 0;
  if (hPads[1] <= node.pad && wPads[1] <= node.pad) return 1;
  throw new ArgumentError(
    node.name,
    "avgPool",
    "windows that end inside the padded input (Caffe's divisor has no ONNX equivalent otherwise)",
    `end padding ${hPads[1]}x${wPads[1]} beyond pad ${node.pad}`,
  );
}

/**
 * The ONNX model (serialized ModelProto, opset 13) of `graph` with `weights` for square inputs
 * of inputSize (input "data" [N, C, inputSize, inputSize]; outputs the graph's logits and
 * probabilities, [N, classes]). Throws WeightsError when a tensor is missing or misshapen.
 */
export function exportOnnx(graph: Graph, weights: TensorMap, inputSize: number): Uint8Array {
  const expected = expectedWeights(graph, inputSize, inputSize);
  checkTensors(weights, expected, "exportOnnx weights");
  const shapes = inferShapes(graph, inputSize, inputSize);
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const flat = new Set<string>(); // tensors that are already [N, features]
  const add = (opType: string, name: string, input: string[], output: string, attrs: Attribute[] = []): void => {
    nodes.push({ opType, name, input, output: [output], attribute: attrs.map(attribute) });
  };
  const flatten = (tensor: string, consumer: string): string => {
    if (flat.has(tensor)) return tensor;
    const out = `${tensor}:flat`;
    add("Flatten", `${consumer}:flatten`, [tensor], out, [{ name: "axis", i: 1 }]);
    return out;
  };
  for (const node of graph.nodes) {
    switch (node.op) {
      case "conv": {
        const k = node.kernel,
          p = node.pad;
        const out = node.relu ? `${node.output}:linear` : node.output;
        add("Conv", node.name, [node.input, `${node.weights}.weight`, `${node.weights}.bias`], out, [
          { name: "kernel_shape", ints: [k, k] },
          { name: "strides", ints: [node.stride, node.stride] },
          { name: "pads", ints: [p, p, p, p] },
        ]);
        if (node.relu) add("Relu", `${node.name}:relu`, [out], node.output);
        break;
      }
      case "maxPool":
      case "avgPool": {
        const s = shapes.get(node.input)!;
        const h = caffePoolPads(s.h, node.kernel, node.stride, node.pad);
        const w = caffePoolPads(s.w, node.kernel, node.stride, node.pad);
        const attrs: Attribute[] = [
          { name: "kernel_shape", ints: [node.kernel, node.kernel] },
          { name: "strides", ints: [node.stride, node.stride] },
          { name: "pads", ints: [h[0], w[0], h[1], w[1]] },
          { name: "ceil_mode", i: 0 },
        ];
        if (node.op === "avgPool") attrs.push({ name: "count_include_pad", i: avgPoolCountsPad(node, h, w) });
        add(node.op === "maxPool" ? "MaxPool" : "AveragePool", node.name, [node.input], node.output, attrs);
        break;
      }
      case "lrn":
        // Both Caffe (ACROSS_CHANNELS) and ONNX divide alpha by size: x / (k + alpha/size * sum x^2)^beta.
        add("LRN", node.name, [node.input], node.output, [
          { name: "size", i: node.size },
          { name: "alpha", f: node.alpha },
          { name: "beta", f: node.beta },
          { name: "bias", f: node.k },
        ]);
        break;
      case "concat":
        add("Concat", node.name, node.inputs, node.output, [{ name: "axis", i: 1 }]);
        break;
      case "fc":
        add(
          "Gemm",
          node.name,
          [flatten(node.input, node.name), `${node.weights}.weight`, `${node.weights}.bias`],
          node.output,
          [{ name: "transB", i: 1 }],
        );
        flat.add(node.output);
        break;
      case "softmax":
        add("Softmax", node.name, [flatten(node.input, node.name)], node.output, [{ name: "axis", i: 1 }]);
        flat.add(node.output);
        break;
    }
  }
  const outputInfo = (t: string): onnxProto.onnx.IValueInfoProto => {
    const s = shapes.get(t)!;
    return valueInfo(t, flat.has(t) ? ["N", s.c * s.h * s.w] : ["N", s.c, s.h, s.w]);
  };
  const model: onnxProto.onnx.IModelProto = {
    irVersion: onnx.Version.IR_VERSION,
    opsetImport: [{ domain: "", version: ONNX_OPSET }],
    producerName: "inception-wasm",
    graph: {
      name: "googlenet",
      node: nodes,
      initializer: expected.map(({ name, shape }) => floatTensor(name, shape, weights.get(name)!.data)),
      input: [valueInfo(graph.input, ["N", graph.inputChannels, inputSize, inputSize])],
      output: [outputInfo(graph.logits), outputInfo(graph.probabilities)],
    },
  };
  return onnx.ModelProto.encode(model).finish();
}
