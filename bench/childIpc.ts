// The suite <-> child protocol over Node's IPC channel (fork; Deno's and Bun's process.send speak
// it too): the settings a child starts with, its messages, and the helpers both kinds of child
// (engineChild.ts, browserChild.ts) use.

import type { Loaded, Measured } from "./childCore.js";
import { EngineUnavailable } from "./childCore.js";
import type { EngineConfig } from "./engines.js";

/** What the suite asks of a child. */
export interface ChildSettings {
  config: EngineConfig;
  /** The photo: classified by the first inference (accuracy) and the input of every timed run. */
  photo: string;
  warmup: number;
  /** Timed runs per batch size. */
  runs: Record<number, number>;
}

/** The runtime a child ran in: its name, version and JavaScript engine version (V8's, or JavaScriptCore's under Bun). */
export interface ChildRuntime {
  name: string;
  version: string;
  engine: string;
}

/** Child -> suite. Probabilities and logits are the photo's (batch 1, first inference). */
export type ChildMessage =
  | ({ type: "ready"; runtime: ChildRuntime; peakRssBytes: number } & Loaded)
  | { type: "unavailable"; reason: string }
  | ({ type: "result"; peakRssBytes: number } & Measured)
  | { type: "error"; message: string };

/** Suite -> child. */
export type ParentMessage = { type: "measure" };

/** Sends a message to the suite (resolves once sent). */
export function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) =>
    process.send!(message, undefined, undefined, (e) => (e ? reject(e) : resolve())),
  );
}

/** The next message from the suite. */
export function nextMessage(): Promise<ParentMessage> {
  return new Promise((resolve) => process.once("message", (m: ParentMessage) => resolve(m)));
}

/** Reports `error` to the suite (EngineUnavailable as "unavailable") and exits. */
export async function reportFailure(error: unknown): Promise<never> {
  const message = error instanceof Error ? error.message : String(error);
  await send(
    error instanceof EngineUnavailable
      ? { type: "unavailable", reason: message }
      : { type: "error", message: error instanceof Error && error.stack ? error.stack : message },
  );
  process.exit(error instanceof EngineUnavailable ? 0 : 1);
}
