// One HTTP(S) download into a file, for `inception-wasm weights fetch`: follows a bounded number
// of redirects, bounds the size, aborts a stalled connection, checks published digests and
// writes atomically, so the destination holds the whole verified file or nothing.

import { createHash } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import * as http from "node:http";
import * as https from "node:https";
import { WeightsError } from "../host/errors.js";
import { partialName } from "./files.js";

/** Redirects followed before giving up (a loop, or a chain no real mirror needs). */
export const DEFAULT_MAX_REDIRECTS = 5;
/** A connection that delivers nothing (no connect, no headers, no body bytes) for this long is aborted. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** Size bound when the exact size is not known in advance; GoogLeNet files are 28-54 MB. */
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface DownloadOptions {
  /** An http: or https: URL. */
  url: string;
  /** The destination; bytes go to a temporary sibling (see partialName) renamed over it once verified. */
  file: string;
  /** The exact size when it is published: a different Content-Length or more bytes fail the download. */
  expectedBytes?: number;
  /** The size bound when `expectedBytes` is not given (default DEFAULT_MAX_BYTES). */
  maxBytes?: number;
  /** Published digests, lower-case hex; each one given must match. */
  sha1?: string;
  sha256?: string;
  /** Default DEFAULT_MAX_REDIRECTS. */
  maxRedirects?: number;
  /** Default DEFAULT_IDLE_TIMEOUT_MS. */
  idleTimeoutMs?: number;
  /** Aborts the download (e.g. on Ctrl-C); it then fails with "interrupted" and leaves nothing. */
  signal?: AbortSignal;
  /** Called after the headers (received 0) and after each chunk; `total` is undefined when unknown. */
  onProgress?: (received: number, total: number | undefined) => void;
  /** Appended to every failure message: what the user can do instead (e.g. download by hand). */
  hint?: string;
}

/** A finished, verified download. */
export interface Download {
  file: string;
  /** The URL the bytes came from, after redirects. */
  url: string;
  bytes: number;
  /** Lower-case hex digests of the bytes, both computed whatever was published. */
  sha1: string;
  sha256: string;
}

/**
 * Downloads `options.url` into `options.file` (see DownloadOptions). Resolves once the file is
 * complete, fsynced, matches every given digest and size, and has been renamed into place.
 * Throws WeightsError naming the URL (and expected versus found) for: an unreachable host, a
 * non-200 status, too many redirects, a non-HTTP(S) URL, a Content-Length other than the
 * expected size or above the bound, more bytes than expected, a connection closed early, a
 * stalled connection, an abort, or a digest mismatch; naming `file` instead when it cannot be
 * saved (disk full, no permission). The temporary file is removed first.
 */
export async function download(options: DownloadOptions): Promise<Download> {
  const tmp = partialName(options.file);
  try {
    const { response, url, cancel, watchdog } = await openFollowingRedirects(options);
    try {
      const received = await receive(response, tmp, url, options, cancel, watchdog);
      checkDigest(options, url, "SHA-1", options.sha1, received.sha1);
      checkDigest(options, url, "SHA-256", options.sha256, received.sha256);
      await rename(tmp, options.file).catch((cause: unknown) => {
        throw fileError(options, cause);
      });
      return { file: options.file, url, ...received };
    } finally {
      watchdog.stop();
    }
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** The WeightsError for a failed download of `url`, with the options' hint appended. */
function failure(options: DownloadOptions, url: string, message: string, cause?: unknown): WeightsError {
  return new WeightsError(url, undefined, options.hint ? `${message} ${options.hint}` : message, { cause });
}

/** The WeightsError for a local file-system failure (disk full, no permission) while saving the download. */
function fileError(options: DownloadOptions, cause: unknown): WeightsError {
  return new WeightsError(options.file, undefined, `cannot save the download: ${(cause as Error).message}`, { cause });
}

/** Fires `onStall` when not kicked for `ms`; `stalled` tells whether it fired. */
class Watchdog {
  stalled = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  constructor(
    private readonly ms: number,
    private readonly onStall: () => void,
  ) {
    this.kick();
  }
  kick(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.stalled = true;
      this.onStall();
    }, this.ms);
  }
  stop(): void {
    clearTimeout(this.timer);
  }
}

interface Opened {
  response: http.IncomingMessage;
  url: string;
  /** Destroys the connection (to stop reading). */
  cancel: () => void;
  watchdog: Watchdog;
}

/** GETs the URL, following redirects; resolves with the 200 response, its stall watchdog still running. */
async function openFollowingRedirects(options: DownloadOptions): Promise<Opened> {
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const chain = [options.url];
  for (;;) {
    const url = chain[chain.length - 1];
    const opened = await get(url, options);
    const { response } = opened;
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (REDIRECTS.has(status) && location) {
      opened.watchdog.stop();
      opened.cancel();
      if (chain.length > maxRedirects) {
        throw failure(
          options,
          options.url,
          `too many redirects: expected at most ${maxRedirects}, found more (${[...chain, location].join(" -> ")})`,
        );
      }
      chain.push(new URL(location, url).href);
      continue;
    }
    if (status !== 200) {
      opened.watchdog.stop();
      opened.cancel();
      throw failure(options, url, `${`HTTP ${status} ${response.statusMessage ?? ""}`.trimEnd()}: expected 200 OK.`);
    }
    return opened;
  }
}

/** One GET; resolves with the response (any status) once its headers arrived. */
function get(url: string, options: DownloadOptions): Promise<Opened> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.reject(failure(options, url, "not a valid URL: expected http://... or https://..."));
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return Promise.reject(failure(options, url, `expected an http: or https: URL, found ${parsed.protocol}`));
  }
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const request = (parsed.protocol === "https:" ? https : http).get(parsed, {
      headers: { "user-agent": "inception-wasm", "accept-encoding": "identity" },
      signal: options.signal,
    });
    const watchdog = new Watchdog(idleMs, () => request.destroy());
    request.on("response", (response) => {
      watchdog.kick();
      resolve({ response, url, cancel: () => request.destroy(), watchdog });
    });
    request.on("error", (cause) => {
      watchdog.stop();
      reject(networkError(options, url, cause, watchdog));
    });
  });
}

/** Streams the body into `tmp` (hashing it and bounding its size), then fsyncs and closes it. */
async function receive(
  response: http.IncomingMessage,
  tmp: string,
  url: string,
  options: DownloadOptions,
  cancel: () => void,
  watchdog: Watchdog,
): Promise<{ bytes: number; sha1: string; sha256: string }> {
  const header = response.headers["content-length"];
  const announced = header === undefined ? undefined : Number(header);
  const limit = options.expectedBytes ?? options.maxBytes ?? DEFAULT_MAX_BYTES;
  const fail = (message: string): never => {
    cancel();
    throw failure(options, url, message);
  };
  if (announced !== undefined) {
    if (!Number.isSafeInteger(announced) || announced < 0) fail(`invalid Content-Length "${header}"`);
    if (options.expectedBytes !== undefined && announced !== options.expectedBytes) {
      fail(`wrong size: expected ${bytesText(options.expectedBytes)}, the server announces ${bytesText(announced)}.`);
    }
    if (announced > limit) {
      fail(`too large: expected at most ${bytesText(limit)}, the server announces ${bytesText(announced)}.`);
    }
  }
  const total = options.expectedBytes ?? announced;
  const sha1 = createHash("sha1");
  const sha256 = createHash("sha256");
  let received = 0;
  const handle = await open(tmp, "wx").catch((cause: unknown) => {
    throw fileError(options, cause);
  });
  try {
    options.onProgress?.(0, total);
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        watchdog.kick();
        received += chunk.length;
        if (received > limit) fail(`too large: expected at most ${bytesText(limit)}, received more; stopped.`);
        sha1.update(chunk);
        sha256.update(chunk);
        await handle.write(chunk).catch((cause: unknown) => {
          cancel();
          throw fileError(options, cause);
        });
        options.onProgress?.(received, total);
      }
    } catch (cause) {
      if (cause instanceof WeightsError) throw cause;
      throw networkError(options, url, cause, watchdog, received, total);
    }
    if (total !== undefined && received !== total) {
      fail(`truncated: the connection closed after ${bytesText(received)} of ${bytesText(total)}.`);
    }
    await handle.sync().catch((cause: unknown) => {
      throw fileError(options, cause);
    });
  } finally {
    await handle.close();
  }
  return { bytes: received, sha1: sha1.digest("hex"), sha256: sha256.digest("hex") };
}

/** The WeightsError for a failed connection: interrupted, stalled, closed early, or the system's error. */
function networkError(
  options: DownloadOptions,
  url: string,
  cause: unknown,
  watchdog: Watchdog,
  received?: number,
  total?: number,
): WeightsError {
  if (options.signal?.aborted) return new WeightsError(url, undefined, "interrupted; nothing was kept.", { cause });
  const of = total === undefined ? "" : ` of ${bytesText(total)}`;
  const after = received === undefined ? "" : ` after ${bytesText(received)}${of}`;
  if (watchdog.stalled) {
    const seconds = (options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS) / 1000;
    return failure(options, url, `stalled: no data for ${seconds} s${after}; aborted.`, cause);
  }
  const { code, message } = cause as { code?: unknown; message?: unknown };
  const text = typeof message === "string" ? message : String(cause);
  const what = typeof code === "string" && !text.includes(code) ? `${code} ${text}` : text;
  if (received !== undefined) return failure(options, url, `truncated: the connection failed${after}: ${what}.`, cause);
  return failure(options, url, `cannot connect: ${what}.`, cause);
}

function checkDigest(
  options: DownloadOptions,
  url: string,
  algorithm: string,
  expected: string | undefined,
  found: string,
): void {
  if (expected !== undefined && expected !== found) {
    throw failure(
      options,
      url,
      `${algorithm} mismatch: expected ${expected}, found ${found} ` +
        "(a corrupt or different file); nothing was kept.",
    );
  }
}

/** "53,533,754 bytes". */
export function bytesText(n: number): string {
  return `${n.toLocaleString("en-US")} bytes`;
}
