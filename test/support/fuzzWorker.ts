// The fuzz runner's worker: runs the cases it is sent, one at a time, posting "start" before and
// the result after each, so the runner can time every case and tell which one crashed or hung.

import { parentPort } from "node:worker_threads";
import { runCase, type Format } from "./fuzz.js";

parentPort!.on("message", async (job: { format: Format; seed: number; from: number; to: number }) => {
  for (let i = job.from; i < job.to; i++) {
    parentPort!.postMessage({ type: "start", index: i });
    parentPort!.postMessage({ type: "result", result: await runCase(job.format, job.seed, i) });
  }
  parentPort!.postMessage({ type: "done" });
});
