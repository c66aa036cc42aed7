// Which JavaScript runtime this is: its name and version (for reports and build reasons).

/** The runtime this code runs in. */
export type RuntimeName = "node" | "deno" | "bun" | "browser" | "other";

interface RuntimeGlobals {
  Deno?: unknown;
  Bun?: unknown;
  process?: { versions?: { node?: string } };
  window?: unknown;
}

/** Detects the runtime from its globals (Bun and Deno also define `process`). */
export function runtimeName(): RuntimeName {
  const g = globalThis as RuntimeGlobals;
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  if (g.process?.versions?.node) return "node";
  if (g.window !== undefined) return "browser";
  return "other";
}

/** The runtime and its version, e.g. "node 20.20.2", "deno 2.9.6", "bun 1.4.5". */
export function runtimeLabel(): string {
  const g = globalThis as RuntimeGlobals & {
    Deno?: { version?: { deno?: string } };
    Bun?: { version?: string };
    navigator?: { userAgent?: string };
  };
  switch (runtimeName()) {
    case "deno":
      return `deno ${g.Deno?.version?.deno ?? "?"}`;
    case "bun":
      return `bun ${g.Bun?.version ?? "?"}`;
    case "node":
      return `node ${g.process?.versions?.node ?? "?"}`;
    default:
      return g.navigator?.userAgent ?? "unknown runtime";
  }
}
