// Weight files from the network or a stream, for browsers and edge runtimes: a URL fetched with
// progress, kept in Cache Storage (browsers) so a second visit does not download it again, and
// checked against a SHA-256; or a Response, ReadableStream, Blob, or anything with arrayBuffer()
// (an R2 object body, a KV value read as a stream). Only web APIs: no `node:` module.

import { hex, sha256 } from "../host/digest.js";
import type { Runtime } from "../host/engine/runtime.js";
import { WeightsError } from "../host/errors.js";
import { runtimeName } from "../host/runtimeName.js";

/** What reading remote weights needs of the runtime: non-HTTP URLs (file:) and the streamed SHA-256. */
export type RemoteReader = Pick<Runtime, "readUrl" | "createSha256">;

/** Progress of a weights download: bytes so far, the total when the server said it, and whether it came from the cache. */
export interface WeightsProgress {
  loaded: number;
  total: number | undefined;
  fromCache: boolean;
}

/** How URL weights are fetched and checked. */
export interface WeightsFetchOptions {
  /** Called as bytes arrive (and once at the end). */
  onProgress?: (progress: WeightsProgress) => void;
  /** Expected SHA-256 (hex) of the file; a mismatch is a WeightsError and nothing is cached. */
  sha256?: string;
  /** Cache Storage name (default "inception-wasm"); false: neither read nor write the cache. */
  cache?: string | false;
}

/** Weights the network or a stream delivers. */
export type RemoteWeights =
  | URL
  | Response
  | ReadableStream<Uint8Array>
  | Blob
  | { arrayBuffer(): Promise<ArrayBuffer> };

/** Whether `source` is weights to fetch or read from a stream (strings are URLs only without file access). */
export function isRemoteWeights(source: unknown): source is RemoteWeights {
  if (source instanceof URL) return true;
  // Paths and bytes before the web classes: the first use of the global Response loads Node 20's fetch (60-70 ms).
  if (typeof source !== "object" || source === null || ArrayBuffer.isView(source) || source instanceof ArrayBuffer)
    return false;
  if (typeof Response === "function" && source instanceof Response) return true;
  if (typeof ReadableStream === "function" && source instanceof ReadableStream) return true;
  if (typeof Blob === "function" && source instanceof Blob) return true;
  return (
    typeof source === "object" &&
    source !== null &&
    !(source instanceof Map) &&
    typeof (source as { arrayBuffer?: unknown }).arrayBuffer === "function"
  );
}

/** Reads a stream whole, reporting progress; one buffer of `total` bytes when the size is known. */
async function readStream(
  stream: ReadableStream<Uint8Array>,
  total: number | undefined,
  report: (loaded: number) => void,
  name: string,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  let out = new Uint8Array(total ?? 1 << 20);
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (loaded + value.length > out.length) {
      if (total !== undefined) {
        throw new WeightsError(name, undefined, `expected ${total} bytes (Content-Length), found more`);
      }
      const grown = new Uint8Array(Math.max(out.length * 2, loaded + value.length));
      grown.set(out.subarray(0, loaded));
      out = grown;
    }
    out.set(value, loaded);
    loaded += value.length;
    report(loaded);
  }
  if (total !== undefined && loaded !== total) {
    throw new WeightsError(name, undefined, `truncated download: expected ${total} bytes, found ${loaded}`);
  }
  return loaded === out.length ? out : out.subarray(0, loaded);
}

function contentLength(response: Response): number | undefined {
  const n = Number(response.headers.get("content-length") ?? NaN);
  const encoded = response.headers.get("content-encoding");
  return Number.isSafeInteger(n) && n >= 0 && (encoded === null || encoded === "identity") ? n : undefined;
}

async function readResponse(
  response: Response,
  name: string,
  fromCache: boolean,
  onProgress?: (p: WeightsProgress) => void,
): Promise<Uint8Array> {
  if (!response.ok) {
    throw new WeightsError(name, undefined, `HTTP ${response.status} ${response.statusText}: expected a weight file`);
  }
  const total = contentLength(response);
  if (response.body === null) return new Uint8Array(await response.arrayBuffer());
  let last = 0;
  const bytes = await readStream(
    response.body,
    total,
    (loaded) => {
      const now = Date.now();
      if (now - last >= 50) {
        last = now;
        onProgress?.({ loaded, total, fromCache });
      }
    },
    name,
  );
  onProgress?.({ loaded: bytes.length, total: total ?? bytes.length, fromCache });
  return bytes;
}

async function checkSha256(bytes: Uint8Array, want: string | undefined, name: string): Promise<void> {
  if (want !== undefined) checkDigest(await sha256(bytes), want, name);
}

/** Throws WeightsError unless `digest` is the SHA-256 `want` (hex). */
function checkDigest(digest: Uint8Array, want: string, name: string): void {
  const found = hex(digest);
  if (found !== want.toLowerCase()) {
    throw new WeightsError(name, undefined, `SHA-256 mismatch: expected ${want.toLowerCase()}, found ${found}`);
  }
}

/** Cache Storage, in browsers that offer it (secure contexts); undefined elsewhere or when it fails. */
async function openCache(name: string | false | undefined): Promise<Cache | undefined> {
  if (name === false) return undefined;
  const runtime = runtimeName();
  const storage = (globalThis as { caches?: CacheStorage }).caches;
  if ((runtime !== "browser" && runtime !== "browser-worker") || storage === undefined) return undefined;
  return storage.open(name ?? "inception-wasm").catch(() => undefined);
}

/**
 * Fetches weights from a URL: from Cache Storage when a verified copy is there, else over the
 * network with progress, checked against options.sha256 and then stored in the cache (a failed
 * cache write only costs the next visit a download). Non-HTTP URLs (file:) go through the
 * runtime's reader.
 */
export async function fetchWeights(
  url: URL,
  runtime: RemoteReader,
  options: WeightsFetchOptions = {},
): Promise<Uint8Array> {
  const name = url.href;
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    const bytes = await runtime.readUrl(url);
    options.onProgress?.({ loaded: bytes.length, total: bytes.length, fromCache: false });
    await checkSha256(bytes, options.sha256, name);
    return bytes;
  }
  const cache = await openCache(options.cache);
  const cached = await cache?.match(url).catch(() => undefined);
  if (cached) {
    const bytes = await readResponse(cached, name, true, options.onProgress);
    try {
      await checkSha256(bytes, options.sha256, name);
      return bytes;
    } catch {
      await cache?.delete(url); // a stale or damaged copy: download again
    }
  }
  let response: Response;
  try {
    response = await fetch(url);
  } catch (cause) {
    throw new WeightsError(name, undefined, `cannot download: ${(cause as Error).message}`, { cause });
  }
  const bytes = await readResponse(response, name, false, options.onProgress);
  await checkSha256(bytes, options.sha256, name);
  if (cache) {
    const headers = { "content-type": "application/octet-stream", "content-length": String(bytes.length) };
    await cache.put(url, new Response(bytes as Uint8Array<ArrayBuffer>, { headers })).catch(() => undefined);
  }
  return bytes;
}

/** Remote weights as a stream, and what names them in errors. */
export interface WeightStream {
  stream: ReadableStream<Uint8Array>;
  name: string;
}

/**
 * Remote weights as a stream to read while they arrive (so the whole file is never held beside
 * the network's memory): an HTTP(S) URL fetched where no Cache Storage is used (outside
 * browsers, or with cache: false), a Response, a ReadableStream, a Blob, or an object with a
 * `body` stream (an R2 object). Progress is reported as bytes pass, and options.sha256 checked
 * when the stream ends (a mismatch errors the stream with a WeightsError). Undefined where the
 * whole bytes are read instead (browsers' Cache Storage, file: URLs, objects with only arrayBuffer()).
 */
export async function openWeightStream(
  source: RemoteWeights,
  runtime: RemoteReader,
  options: WeightsFetchOptions = {},
): Promise<WeightStream | undefined> {
  let response: Response | undefined;
  let name: string;
  if (source instanceof URL) {
    if (source.protocol !== "http:" && source.protocol !== "https:") return undefined;
    if (await openCache(options.cache)) return undefined;
    name = source.href;
    try {
      response = await fetch(source);
    } catch (cause) {
      throw new WeightsError(name, undefined, `cannot download: ${(cause as Error).message}`, { cause });
    }
  } else if (typeof Response === "function" && source instanceof Response) {
    response = source;
    name = source.url || "weights option (Response)";
  } else name = "weights option (stream)";
  let body: ReadableStream<Uint8Array> | null | undefined;
  let total: number | undefined;
  if (response) {
    if (!response.ok) {
      throw new WeightsError(name, undefined, `HTTP ${response.status} ${response.statusText}: expected a weight file`);
    }
    body = response.body;
    total = contentLength(response);
  } else if (typeof ReadableStream === "function" && source instanceof ReadableStream) body = source;
  else if (typeof Blob === "function" && source instanceof Blob) {
    body = source.stream() as ReadableStream<Uint8Array>;
    total = source.size;
  } else {
    const object = source as { body?: unknown; size?: unknown };
    if (typeof ReadableStream === "function" && object.body instanceof ReadableStream) {
      body = object.body as ReadableStream<Uint8Array>;
      total = typeof object.size === "number" ? object.size : undefined;
    }
  }
  if (!body) return undefined;
  let loaded = 0;
  let last = 0;
  const hasher = options.sha256 === undefined ? undefined : runtime.createSha256();
  // A pull source over chunkReader rather than pipeThrough, which could only use the default reader.
  const read = chunkReader(body);
  const counted = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await read.next();
        if (done) {
          options.onProgress?.({ loaded, total: total ?? loaded, fromCache: false });
          if (hasher) checkDigest(hasher.digest(), options.sha256!, name);
          controller.close();
          return;
        }
        loaded += value.length;
        hasher?.update(value);
        const now = Date.now();
        if (now - last >= 50) {
          last = now;
          options.onProgress?.({ loaded, total, fromCache: false });
        }
        controller.enqueue(value);
      },
      cancel: (reason) => read.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  return { stream: counted, name };
}

/** Bytes asked of a byte stream per read: few chunks, each in a fresh buffer the reader keeps. */
const BYOB_CHUNK_BYTES = 1 << 16;

/**
 * Reads `body` chunk by chunk: with a BYOB reader into 64 KB buffers when it is a byte stream
 * (fetch bodies, Blob streams), else with its default reader. workerd's bodies come in 4 KB chunks
 * to a default reader (6836 for the weights), each its own allocation; a BYOB reader fills 64 KB
 * (workerd's process grew by 190-230 MB loading the weights from a disk service with the default
 * reader, 137-175 MB with this; test/workerd.test.ts prints the figure).
 */
function chunkReader(body: ReadableStream<Uint8Array>): {
  next(): Promise<ReadableStreamReadResult<Uint8Array>>;
  cancel(reason: unknown): Promise<void>;
} {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    const reader = body.getReader();
    return { next: () => reader.read(), cancel: (reason) => reader.cancel(reason) };
  }
  const reader = byob;
  return {
    next: () => reader.read(new Uint8Array(BYOB_CHUNK_BYTES)),
    cancel: (reason) => reader.cancel(reason),
  };
}

/** The bytes of remote weights (see RemoteWeights), with progress and the SHA-256 check. */
export async function readRemoteWeights(
  source: RemoteWeights,
  runtime: RemoteReader,
  options: WeightsFetchOptions = {},
): Promise<Uint8Array> {
  if (source instanceof URL) return fetchWeights(source, runtime, options);
  let bytes: Uint8Array;
  let name = "weights option";
  if (typeof Response === "function" && source instanceof Response) {
    name = source.url || "weights option (Response)";
    bytes = await readResponse(source, name, false, options.onProgress);
  } else if (typeof ReadableStream === "function" && source instanceof ReadableStream) {
    name = "weights option (ReadableStream)";
    bytes = await readStream(
      source,
      undefined,
      (loaded) => options.onProgress?.({ loaded, total: undefined, fromCache: false }),
      name,
    );
  } else {
    name = "weights option (arrayBuffer())";
    bytes = new Uint8Array(await (source as { arrayBuffer(): Promise<ArrayBuffer> }).arrayBuffer());
    options.onProgress?.({ loaded: bytes.length, total: bytes.length, fromCache: false });
  }
  await checkSha256(bytes, options.sha256, name);
  return bytes;
}
