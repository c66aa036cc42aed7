// Reading a labels file (one class name per line) from disk.

import { readFile } from "node:fs/promises";
import { ArgumentError } from "../host/errors.js";
import { parseLabels } from "../model/network/labels.js";

/**
 * Reads a UTF-8 labels file and parses it with parseLabels. Throws ArgumentError naming the
 * file for one that cannot be read (missing, a folder, no permission) or does not parse.
 */
export async function readLabelsFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    throw new ArgumentError("readLabelsFile", "path", `a readable labels file`, `${path} (${code})`);
  }
  return parseLabels(text, path);
}
