// What the JavaScript runtime is, told from its globals without calling anything runtime-specific.
// Several runtimes imitate others: Deno and Bun define `process`, Cloudflare's workerd defines
// `process.versions.node` with the nodejs_compat flag, Vercel's edge-runtime runs on Node's VM.
// So the specific signs are checked first and "node" is what is left with a Node `process`.

/** The runtime this code runs in. "browser-worker" is a Web Worker (dedicated, shared or service) of a browser. */
export type RuntimeName = "node" | "deno" | "bun" | "workerd" | "edge-light" | "browser" | "browser-worker" | "other";

interface RuntimeGlobals {
  Deno?: unknown;
  Bun?: unknown;
  EdgeRuntime?: unknown;
  process?: { versions?: { node?: string }; release?: { name?: string } };
  window?: unknown;
  document?: unknown;
  navigator?: { userAgent?: string };
  WorkerGlobalScope?: unknown;
  importScripts?: unknown;
}

/** Detects the runtime from its globals (see the header for the order). */
export function runtimeName(): RuntimeName {
  const g = globalThis as RuntimeGlobals;
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  if (g.navigator?.userAgent === "Cloudflare-Workers") return "workerd";
  if (typeof g.EdgeRuntime === "string") return "edge-light";
  if (typeof g.process?.versions?.node === "string" && g.process.release?.name === "node") return "node";
  if (g.window !== undefined && g.document !== undefined) return "browser";
  if (typeof g.WorkerGlobalScope === "function" && typeof g.importScripts === "function") return "browser-worker";
  return "other";
}

/** The runtime and its version, e.g. "node 20.20.2", "deno 2.9.6", "bun 1.4.5", a browser's user agent. */
export function runtimeLabel(): string {
  const g = globalThis as RuntimeGlobals & {
    Deno?: { version?: { deno?: string } };
    Bun?: { version?: string };
  };
  switch (runtimeName()) {
    case "deno":
      return `deno ${g.Deno?.version?.deno ?? "?"}`;
    case "bun":
      return `bun ${g.Bun?.version ?? "?"}`;
    case "node":
      return `node ${g.process?.versions?.node ?? "?"}`;
    case "workerd":
      return "workerd";
    case "edge-light":
      return "edge-runtime";
    default:
      return g.navigator?.userAgent ?? "unknown runtime";
  }
}

/** Node's version (e.g. "20.20.2") when the runtime is Node itself, else undefined. */
export function nodeVersion(): string | undefined {
  return runtimeName() === "node" ? (globalThis as RuntimeGlobals).process?.versions?.node : undefined;
}

/** The major version of Node when the runtime is Node itself, else undefined. */
export function nodeMajor(): number | undefined {
  const version = nodeVersion();
  return version === undefined ? undefined : Number(version.split(".")[0]);
}
