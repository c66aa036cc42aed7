// Which crops of the paper's 144-crop protocol vote for which class: for one photo, the mean
// probability of a few classes over every group of crops (scale x square, crop position, mirror),
// so a 144-crop result that differs from the centre crop can be traced to the crops that carry it.
// The groups come from cropViews (the geometry tested against an independent reference in
// test/crops.test.ts); the network runs the crops as batches, as probabilities() does.
// --resize picks the resize filter (antialias, the default, or bilinear: see ResizeFilter): how much
// the votes depend on the resize.
//
//   node dist/bench/cropVotes.js [photo] [--classes 657,668] [--resize antialias|bilinear] [--threads 2] [--json]

import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { cropInputs, cropViews, type CropView } from "../src/model/image/crops.js";
import { checkFilter } from "../src/model/image/preprocess.js";
import { decodeImage, GoogLeNet, ILSVRC2012_CLASSES, shortLabel } from "../src/node/index.js";
import { PHOTOS_DIR } from "../test/support/data.js";

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    classes: { type: "string" },
    threads: { type: "string", default: "2" },
    resize: { type: "string", default: "antialias" },
    json: { type: "boolean", default: false },
  },
});
const file = positionals[0] ?? join(PHOTOS_DIR, "rocket.jpg");
const net = await GoogLeNet.load({ threads: Number(opts.threads) });
const image = decodeImage(new Uint8Array(readFileSync(file)), file, net.decodeOptions(144));
const views = cropViews(image.width, image.height, 144);

const filter = checkFilter("crop-votes", "--resize", opts.resize);
const inputs = cropInputs(image, 144, 224, filter);
const centre = (await net.runBatch(cropInputs(image, 1, 224, filter)))[0].probabilities;
const probs = (await net.runBatch(inputs)).map((r) => r.probabilities);
await net.dispose();

const mean = (members: number[], k: number): number => members.reduce((s, i) => s + probs[i][k], 0) / members.length;
const argmax = (members: number[]): number => {
  let best = 0;
  for (let k = 1; k < ILSVRC2012_CLASSES.length; k++) if (mean(members, k) > mean(members, best)) best = k;
  return best;
};
const all = views.map((_, i) => i);
const classes = opts.classes ? opts.classes.split(",").map(Number) : [...new Set([...topOf(centre, 2), argmax(all)])];

/** The k most probable classes of a vector. */
function topOf(p: Float32Array, k: number): number[] {
  return Array.from(p.keys())
    .sort((a, b) => p[b] - p[a])
    .slice(0, k);
}

/**
 * The groups crop i belongs to, from the order cropViews documents (scale, square, position, each
 * crop's mirror right after it): 36 crops per scale, 12 per square, 2 per position.
 */
function groups(v: CropView, i: number): Record<"scale" | "square" | "position" | "mirror", string> {
  const squares = v.resizeW >= v.resizeH ? ["left", "centre", "right"] : ["top", "middle", "bottom"];
  const positions = [
    "top-left 224",
    "top-right 224",
    "bottom-left 224",
    "bottom-right 224",
    "centre 224",
    "whole square",
  ];
  return {
    scale: `short side ${Math.min(v.resizeW, v.resizeH)}`,
    square: `${squares[Math.floor((i % 36) / 12)]} square`,
    position: positions[Math.floor((i % 12) / 2)],
    mirror: v.mirror ? "mirrored" : "as is",
  };
}

const label = (k: number): string => `${k} ${shortLabel(ILSVRC2012_CLASSES[k])}`;
const rows: { group: string; crops: number; means: number[]; top1: string }[] = [];
const add = (group: string, members: number[]): void => {
  rows.push({
    group,
    crops: members.length,
    means: classes.map((k) => mean(members, k)),
    top1: label(argmax(members)),
  });
};
rows.push({
  group: "centre crop alone (1-crop protocol)",
  crops: 1,
  means: classes.map((k) => centre[k]),
  top1: label(topOf(centre, 1)[0]),
});
add("all 144", all);
const tags = views.map(groups);
for (const key of ["scale", "square", "position", "mirror"] as const) {
  for (const value of [...new Set(tags.map((t) => t[key]))])
    add(
      value,
      all.filter((i) => tags[i][key] === value),
    );
}
for (const scale of [...new Set(tags.map((t) => t.scale))]) {
  for (const square of [...new Set(tags.map((t) => t.square))]) {
    add(
      `${scale}, ${square}`,
      all.filter((i) => tags[i].scale === scale && tags[i].square === square),
    );
  }
}

if (opts.json) {
  console.log(JSON.stringify({ file: basename(file), size: [image.width, image.height], classes, rows }, null, 2));
} else {
  console.log(
    `${basename(file)}, decoded ${image.width}x${image.height}, ${opts.resize} resize; mean probability per group of crops`,
  );
  console.log(`| crops | n | ${classes.map(label).join(" | ")} | group's top-1 |`);
  console.log(`|---|---|${classes.map(() => "---|").join("")}---|`);
  for (const r of rows)
    console.log(`| ${r.group} | ${r.crops} | ${r.means.map((m) => m.toFixed(3)).join(" | ")} | ${r.top1} |`);
}
