// Crash-safe file writes for the weight caches: readers see the old file or the whole new one,
// never a partial one.

import { randomBytes } from "node:crypto";
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { WeightsError } from "../host/errors.js";

/** Suffix of every temporary file written here; nothing that reads the caches ever opens one. */
const PARTIAL_SUFFIX = ".part";

/** Bytes of each read of fileChunks and each write of writeFileAtomic. */
const FILE_CHUNK_BYTES = 1 << 20;

/** A fresh temporary sibling of `file`: `<file>.<pid>-<random>.part`, in the same folder so a rename is atomic. */
export function partialName(file: string): string {
  return `${file}.${process.pid}-${randomBytes(4).toString("hex")}${PARTIAL_SUFFIX}`;
}

/**
 * Creates `dir` and its missing parents, one mkdir each, outermost first. Unlike
 * `mkdir(dir, { recursive: true })`, which spins forever on paths under /proc (Node 20), every
 * step is bounded: a parent that cannot hold folders fails with its node:fs error.
 */
export async function makeDirectories(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = resolve(dir); !(await stat(d).catch(() => undefined)); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    await mkdir(d).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    });
  }
}

/**
 * Writes `parts` one after another to `file` atomically: creates the parent folders, writes a
 * temporary sibling (FILE_CHUNK_BYTES at a time; parts in shared memory, such as a network's, are
 * copied through one buffer of that size), fsyncs it and renames it over `file`. On any failure the
 * temporary file is removed and the error (from node:fs) propagates; `file` is then untouched.
 */
export async function writeFileAtomic(file: string, ...parts: Uint8Array[]): Promise<void> {
  await makeDirectories(dirname(file));
  const tmp = partialName(file);
  try {
    const handle = await open(tmp, "wx");
    try {
      let buffer: Uint8Array | undefined;
      for (const part of parts) {
        for (let at = 0; at < part.length; ) {
          let chunk = part.subarray(at, at + FILE_CHUNK_BYTES);
          if (!(chunk.buffer instanceof ArrayBuffer)) {
            buffer ??= new Uint8Array(FILE_CHUNK_BYTES);
            buffer.set(chunk);
            chunk = buffer.subarray(0, chunk.length);
          }
          at += (await handle.write(chunk, 0, chunk.length)).bytesWritten;
        }
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/**
 * Removes the temporary files (PARTIAL_SUFFIX) in `dir` not modified for `olderThanMs`: files
 * of writers that were killed. A live writer touches its file more often than that (a download
 * that stalls that long aborts and removes its own). A missing folder or a file that vanishes
 * meanwhile is not an error.
 */
export async function removeStalePartials(dir: string, olderThanMs: number): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const now = Date.now();
  for (const name of names.filter((n) => n.endsWith(PARTIAL_SUFFIX))) {
    const file = join(dir, name);
    const s = await stat(file).catch(() => undefined);
    if (s?.isFile() && now - s.mtimeMs > olderThanMs) await rm(file, { force: true });
  }
}

/**
 * The contents of the open file `handle` (from its start) as a stream of chunks of FILE_CHUNK_BYTES,
 * each read only when the reader asks for it (no read-ahead), so at most one chunk is held at a
 * time; the caller closes `handle`. A read that fails errors the stream with a WeightsError naming
 * `file`.
 */
export function fileChunks(handle: FileHandle, file: string): ReadableStream<Uint8Array> {
  let position = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const chunk = new Uint8Array(FILE_CHUNK_BYTES);
        try {
          const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
          position += bytesRead;
          if (bytesRead === 0) controller.close();
          else controller.enqueue(chunk.subarray(0, bytesRead));
        } catch (cause) {
          controller.error(
            new WeightsError(file, undefined, `cannot read file: ${(cause as Error).message}`, { cause }),
          );
        }
      },
    },
    { highWaterMark: 0 },
  );
}

const warnedNotCached = new Set<string>();

/**
 * Warns, once per process for each kind of cache entry (`what`), that it could not be written to
 * `file`: loads go on without it, later loads are slower.
 */
export function warnNotCached(what: string, file: string, error: unknown): void {
  if (warnedNotCached.has(what)) return;
  warnedNotCached.add(what);
  console.warn(
    `inception-wasm: not caching ${what}: cannot write ${file} ` +
      `(${error instanceof Error ? error.message : String(error)}); set INCEPTION_WASM_CACHE to a writable folder ` +
      "to make later loads faster.",
  );
}
