// Which pixel normalization a network's weights were trained with, and the change from this
// library's Caffe-style input to it. BVLC weights (Caffe) take B, G, R minus the ILSVRC-2012 mean
// (0..255 scale) of a 256 x 256 resize, centre-cropped; torchvision-style weights take R, G, B
// scaled to 0..1, minus the ImageNet mean, divided by the ImageNet std, of a resize whose short
// side is 256 (aspect kept), centre-cropped. The images pipeline (preprocess.ts, crops.ts) makes
// the Caffe tensor; "imagenet" maps it per channel (preamble.ts), exact up to one rounding.

import { ArgumentError } from "../../host/errors.js";
import type { Graph, InputTransform } from "../../host/ir/graph.js";
import { applyChannelMap } from "../../host/ir/preamble.js";
import { BGR_MEAN } from "./preprocess.js";

/** "caffe": BGR minus the ILSVRC mean, square resize. "imagenet": RGB mean/std of 0..1 pixels, short-side resize. */
export type PreprocessingName = "caffe" | "imagenet";
export const PREPROCESSINGS: readonly PreprocessingName[] = ["caffe", "imagenet"];

/** The preprocessing a network uses and why (detected from its graph, or the load option). */
export interface Preprocessing {
  name: PreprocessingName;
  reason: string;
}

/** torchvision's ImageNet statistics, R, G, B, of pixels scaled to 0..1. */
export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/**
 * The preprocessing of a graph: GoogLeNet's own (BVLC) graph and graphs with LRN (Caffe-trained
 * Inception-v1) are "caffe"; graphs without LRN (BatchNormalization-trained, torchvision's) are
 * "imagenet", with or without their transform_input preamble (which expects ImageNet-normalized input).
 */
export function detectPreprocessing(graph: Graph, googlenet: boolean): Preprocessing {
  if (googlenet)
    return { name: "caffe", reason: "GoogLeNet's BVLC graph: Caffe weights take BGR minus the ILSVRC-2012 mean" };
  if (graph.nodes.some((n) => n.op === "lrn")) {
    return {
      name: "caffe",
      reason: "an imported graph with LRN (Caffe's Inception-v1): BGR minus the ILSVRC-2012 mean",
    };
  }
  const preamble = graph.inputTransform ? " and an input preamble (torchvision's transform_input)" : "";
  return {
    name: "imagenet",
    reason: `an imported graph without LRN${preamble} (torchvision-style): RGB ImageNet mean/std, short side 256, centre crop`,
  };
}

/** Checks the preprocessing load option (undefined or a PreprocessingName); throws ArgumentError otherwise. */
export function checkPreprocessing(option: unknown): PreprocessingName | undefined {
  if (option !== undefined && !PREPROCESSINGS.includes(option as PreprocessingName)) {
    throw new ArgumentError(
      "GoogLeNet.load",
      "preprocessing",
      PREPROCESSINGS.map((p) => `"${p}"`).join(" or "),
      String(option),
    );
  }
  return option as PreprocessingName | undefined;
}

/** The load option's preprocessing (checked), or the detected one. */
export function choosePreprocessing(option: unknown, detected: Preprocessing): Preprocessing {
  const name = checkPreprocessing(option);
  return name === undefined ? detected : { name, reason: "the preprocessing load option" };
}

/** The map from the Caffe tensor (B, G, R minus BGR_MEAN) to ImageNet's (R, G, B: (p / 255 - mean) / std). */
const CAFFE_TO_IMAGENET: InputTransform = {
  source: [2, 1, 0],
  scale: IMAGENET_STD.map((s) => 1 / (255 * s)),
  shift: IMAGENET_MEAN.map((m, c) => (BGR_MEAN[2 - c]! / 255 - m) / IMAGENET_STD[c]!),
};

/** A Caffe-style input tensor (3 channels) in the preprocessing's convention: itself for "caffe", else a new array. */
export function normalizeInput(p: Preprocessing, caffeInput: Float32Array): Float32Array {
  return p.name === "caffe" ? caffeInput : applyChannelMap(CAFFE_TO_IMAGENET, 3, caffeInput);
}
