// The runtime table's probe under Node, Deno and Bun (the Node entry): argv weights file, photo.
// Prints the row as JSON.

import { readFile } from "node:fs/promises";
import { GoogLeNet } from "../src/node/index.js";
import { probe } from "./runtimeRow.js";

const [weights, photo] = (globalThis as unknown as { process: { argv: string[] } }).process.argv.slice(2);
const png = new Uint8Array(await readFile(photo));
console.log(JSON.stringify(await probe(GoogLeNet, weights, () => png)));
