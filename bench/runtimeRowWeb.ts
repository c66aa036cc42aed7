// The runtime table's probe for Chromium (page main thread, then a module worker of the same file)
// and edge-runtime: weights and coffee.png fetched from the table's local server, whose URL is the
// page's origin or the global PROBE_BASE. Bundled with esbuild over the inline entry.

import { GoogLeNet } from "../src/inline.js";
import { probe, type ProbeRow } from "./runtimeRow.js";

const g = globalThis as unknown as {
  PROBE_BASE?: string;
  location?: { href: string };
  document?: unknown;
  probeResult?: unknown;
  postMessage?: (m: unknown) => void;
};
const base = g.PROBE_BASE ?? g.location!.href;

async function measure(): Promise<ProbeRow> {
  const png = new Uint8Array(await (await fetch(new URL("coffee.png", base))).arrayBuffer());
  return probe(GoogLeNet, new URL("weights.iwnet", base), () => png);
}

async function main(): Promise<void> {
  if (g.document !== undefined) {
    const mainThread = await measure().catch((e: Error) => ({ error: e.message }));
    const worker = new Worker(new URL("./runtimeRowWeb.js", g.location!.href), { type: "module" });
    const inWorker = await new Promise((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
    });
    worker.terminate();
    g.probeResult = { mainThread, worker: inWorker };
  } else if (g.PROBE_BASE !== undefined) {
    g.probeResult = await measure().catch((e: Error) => ({ error: e.message }));
  } else {
    g.postMessage!(await measure().catch((e: Error) => ({ error: e.message })));
  }
}

void main();
