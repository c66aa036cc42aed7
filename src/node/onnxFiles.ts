// ONNX models read by path, with their external data files: a tensor's `location` must name a
// file inside the model's own folder (checkExternalLocation rejects absolute paths, drive
// letters, backslashes and `..`; here the resolved real path, symlinks followed, must also stay
// inside the folder's real path).

import { readFileSync, realpathSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, sep } from "node:path";
import { WeightsError } from "../host/errors.js";
import type { ExternalDataReader } from "../model/formats/onnx.js";

/** The reader of external data files for the model at `modelPath` (each file read once, when first named). */
export function externalDataReader(modelPath: string): ExternalDataReader {
  const files = new Map<string, Uint8Array>();
  return (location) => {
    let bytes = files.get(location);
    if (bytes) return bytes;
    const folder = dirname(modelPath);
    const path = join(folder, location);
    let real: string, base: string;
    try {
      real = realpathSync(path);
      base = realpathSync(folder);
    } catch (cause) {
      throw new WeightsError(
        modelPath,
        undefined,
        `external data "${location}": cannot read ${path}: ${(cause as Error).message}`,
        { cause },
      );
    }
    if (!real.startsWith(base + sep)) {
      throw new WeightsError(
        modelPath,
        undefined,
        `external data "${location}": expected a file inside the model's folder ${base}, found ${real}`,
      );
    }
    bytes = new Uint8Array(readFileSync(real));
    files.set(location, bytes);
    return bytes;
  };
}

/** An ONNX model file's bytes and the reader of the external data beside it. */
export async function readModelFile(path: string): Promise<{ bytes: Uint8Array; readExternal: ExternalDataReader }> {
  const bytes = await readFile(path).catch((cause: unknown) => {
    throw new WeightsError(path, undefined, `cannot read file: ${(cause as Error).message}`, { cause });
  });
  return {
    bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    readExternal: externalDataReader(path),
  };
}
