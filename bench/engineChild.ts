// One engine in a process of its own under Node, Deno or Bun (its memory, threads and V8 flags
// are its own), driven by the suite over IPC. Started with the settings as JSON in argv[2]; it
// loads the engine (timing each cold-start phase; the first inference classifies the photo),
// warms up on single images and sends "ready" with its peak RSS so far; on "measure" it times
// single images, then each larger batch, and sends "result" with its peak RSS; then it exits.
// An engine that cannot run here sends "unavailable", a failure "error". browserChild.ts speaks
// the same protocol for Chromium.

import { readFile } from "node:fs/promises";
import { runtimeName } from "../src/host/runtimeName.js";
import { decodeImage } from "../src/model/image/decode.js";
import { toNetworkInput } from "../src/model/image/preprocess.js";
import { loadAndWarm, timeBatches } from "./childCore.js";
import { nextMessage, reportFailure, send, type ChildRuntime, type ChildSettings } from "./childIpc.js";
import { loadEngine } from "./engines.js";

function childRuntime(): ChildRuntime {
  const name = runtimeName();
  const versions: Partial<Record<string, string>> = process.versions;
  return {
    name,
    version: versions[name] ?? "?",
    engine:
      name === "bun" ? `JavaScriptCore (WebKit ${versions.webkit?.slice(0, 10) ?? "?"})` : `V8 ${process.versions.v8}`,
  };
}

const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

async function main(settings: ChildSettings): Promise<void> {
  const image = toNetworkInput(decodeImage(new Uint8Array(await readFile(settings.photo)), settings.photo));
  const { engine, loaded } = await loadAndWarm((time) => loadEngine(settings.config, time), image, settings.warmup);
  await send({ type: "ready", runtime: childRuntime(), peakRssBytes: peakRss(), ...loaded });
  await nextMessage();
  const samples = await timeBatches(engine, image, settings.runs);
  const registerPeak = await engine.registerPeak?.();
  await send({ type: "result", samples, registerPeak, peakRssBytes: peakRss() });
  await engine.dispose();
}

main(JSON.parse(process.argv[2]) as ChildSettings).then(() => process.exit(0), reportFailure);
