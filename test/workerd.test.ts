// The Cloudflare Worker example (examples/cloudflare-worker) under workerd from npm, with the packed
// package installed as a Workers developer would: bundled with the "workerd" export condition, the
// kernels imported as compiled wasm modules, the weights as a binding, on the default compatibility
// date's nodejs_compat (process.versions.node defined: the library must still take its web path).
// A POSTed coffee.png answers 967; a second request reuses the isolate's network; a non-image is a 400.

import { cp, readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { encodeWeightFile } from "../src/model/formats/iwnet.js";
import { readMatWeights } from "../src/node/weights.js";
import { installPackedApp, ROOT, type App } from "./support/app.js";
import { DATA_DIR } from "./support/data.js";

interface Workerd {
  url: string;
  log(): string;
  stop(): Promise<void>;
}
let app: App | undefined;
let workerd: Workerd | undefined;

/** A port free on 127.0.0.1 right now (workerd takes a fixed address). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

test.before(async () => {
  app = await installPackedApp("workerd");
  await cp(join(ROOT, "examples", "cloudflare-worker", "src"), join(app.dir, "src"), { recursive: true });
  const { runWorkerd } = (await import(join(ROOT, "examples", "cloudflare-worker", "workerd.mjs"))) as {
    runWorkerd(o: { app: string; port: number; weights: Uint8Array }): Promise<Workerd>;
  };
  const weights = await encodeWeightFile(await readMatWeights(DATA_DIR));
  workerd = await runWorkerd({ app: app.dir, port: await freePort(), weights });
});

test.after(async () => {
  await workerd?.stop();
  await app?.remove();
});

type Answer = { top: { index: number; label: string }[]; threads: number; build: string; why: string };

test("workerd: a POSTed coffee.png answers espresso (967), twice, from one network per isolate", async () => {
  const photo = await readFile(join(DATA_DIR, "photos", "coffee.png"));
  for (let i = 0; i < 2; i++) {
    const response = await fetch(workerd!.url, { method: "POST", body: photo });
    const text = await response.text();
    assert.is(response.status, 200, `${text}\n${workerd!.log()}`);
    const answer = JSON.parse(text) as Answer;
    assert.is(answer.top.length, 5);
    assert.is(answer.top[0].index, 967, answer.top[0].label);
    assert.is(answer.threads, 1);
    assert.match(answer.why, /no Worker/);
  }
  assert.not.match(workerd!.log(), /setFlagsFromString|not implemented/);
});

test("workerd: a body that is not an image is a 400 naming the problem", async () => {
  const response = await fetch(workerd!.url, { method: "POST", body: "<html>hello</html>" });
  assert.is(response.status, 400);
  const answer = (await response.json()) as { error: string; message: string };
  assert.is(answer.error, "ImageError");
  assert.match(answer.message, /expected/);
});

test.run();
