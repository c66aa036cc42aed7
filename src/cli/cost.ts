// What a network costs per image (GoogLeNet.summary) as the command line prints it.

import type { NetworkCost } from "../node/index.js";

/** "2 models x 144 crops = 288 passes, 455.81 G multiply-adds/image, 55.9 MB weights, 102.3 MB memory". */
export function formatCost(c: NetworkCost): string {
  const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
  return (
    `${c.models} model(s) x ${c.crops} crop(s) = ${c.passesPerImage} pass(es), ` +
    `${(c.multiplyAddsPerImage / 1e9).toFixed(2)} G multiply-adds/image, ${mb(c.weightBytes)} weights, ` +
    `${mb(c.memoryBytes)} memory`
  );
}
