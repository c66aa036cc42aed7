// ILSVRC2012 class names: line i of labels.txt is the name of class i.

import { ArgumentError } from "../../host/errors.js";

/** Number of classes of the BVLC GoogLeNet classifier. */
export const LABEL_COUNT = 1000;

const EXPECTED = `${LABEL_COUNT} class names, one per line`;

/**
 * Parses a labels file: exactly LABEL_COUNT non-empty lines, LF or CRLF, an optional
 * trailing newline and UTF-8 BOM. Names are trimmed. `file` names the source in errors
 * (ArgumentError for a wrong line count or an empty line).
 */
export function parseLabels(text: string, file: string): string[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  if (lines.length !== LABEL_COUNT) throw new ArgumentError("labels", file, EXPECTED, `${lines.length} lines`);
  const labels = lines.map((line) => line.trim());
  const empty = labels.indexOf("");
  if (empty >= 0) throw new ArgumentError("labels", file, EXPECTED, `an empty line ${empty + 1}`);
  return labels;
}

/** The name before the first comma: "tabby, tabby cat" -> "tabby". */
export function shortLabel(label: string): string {
  return label.split(",", 1)[0].trim();
}
