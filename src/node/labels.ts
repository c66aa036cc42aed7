// Reading a labels file (one class name per line) from disk.

import { readFile } from "node:fs/promises";
import { parseLabels } from "../model/network/labels.js";

/**
 * Reads a UTF-8 labels file and parses it
 * with parseLabels. File-system errors (ENOENT, EACCES) propagate unchanged.
 */
export async function readLabelsFile(path: string): Promise<string[]> {
  return parseLabels(await readFile(path, "utf8"), path);
}
