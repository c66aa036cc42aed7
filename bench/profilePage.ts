// The profile's Chromium page (bundled by bench/profileChromium.ts): bench/profileCore.ts on the
// inline entry's embedded kernel builds and pool workers (inlineRuntime), the weights fetched as
// IWNET from the page's server, timed on performance.now() (a page has no CPU-time clock). The
// driver calls globalThis.profile(settings) and gets the report.

import { inlineRuntime } from "../src/host/inline/runtime.js";
import { compileKernels, type BuildChoice } from "../src/host/wasm/kernels.js";
import { decodeWeights } from "../src/model/formats/detect.js";
import { googlenetGraph } from "../src/model/network/googlenet.js";
import { profileNetwork, type ProfileReport } from "./profileCore.js";

/** What the driver passes to globalThis.profile. */
export interface ProfilePageSettings {
  build: BuildChoice;
  tile: string;
  fast: boolean;
  rounds: number;
  threads: number;
  /** The machine's CPU (the page cannot read it). */
  cpu: string;
}

async function profile(s: ProfilePageSettings): Promise<ProfileReport> {
  const compiled = await compileKernels(s.build, inlineRuntime);
  const response = await fetch("weights.iwnet");
  if (!response.ok) throw new Error(`weights.iwnet: HTTP ${response.status}`);
  const tensors = await decodeWeights(new Uint8Array(await response.arrayBuffer()), "weights.iwnet", googlenetGraph());
  // The user agent's version is reduced to the major (156.0.0.0); the client hints have the full one.
  const hints = (
    navigator as { userAgentData?: { getHighEntropyValues(h: string[]): Promise<{ uaFullVersion?: string }> } }
  ).userAgentData;
  const version =
    (await hints?.getHighEntropyValues(["uaFullVersion"]))?.uaFullVersion ??
    /Chrome\/([\d.]+)/.exec(navigator.userAgent)?.[1] ??
    "?";
  return profileNetwork({
    compiled,
    tile: s.tile,
    fast: s.fast,
    rounds: s.rounds,
    threads: s.threads,
    cpu: s.cpu,
    tensors,
    now: () => performance.now(),
    clock: "wall",
    host: inlineRuntime,
    runtime: `chromium ${version}`,
    kernels: "inline entry (build/ embedded)",
  });
}
(globalThis as unknown as { profile: typeof profile }).profile = profile;
