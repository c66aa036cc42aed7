// Debian's Chromium (/usr/bin/chromium, installed by scripts/provision.mjs) driven by playwright-core,
// which never downloads a browser: headless, no sandbox (root in CI), nothing that reaches the
// network on its own, a fresh profile per launch (so Cache Storage starts empty).

import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

/** The browser: $CHROMIUM_PATH, else Debian's (the default scripts/provision.mjs installs). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * For a suite's before hook: throws when there is no Chromium, after printing why (uvu counts an
 * error thrown in a hook as a failure without printing it).
 */
export function requireChromium(): void {
  const missing = chromiumMissing();
  if (missing === undefined) return;
  console.error(`\n  ${missing}`);
  throw new Error(missing);
}

/** Why Chromium cannot be launched, naming the command that installs it; undefined when it is there. */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  return (
    `no Chromium at ${CHROMIUM}: install Debian's chromium with \`node scripts/provision.mjs chromium\` ` +
    "(npm test does it; apt-get install -y chromium as root), or set CHROMIUM_PATH"
  );
}

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A launched Chromium with its own profile folder; close() removes the profile. */
export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh --user-data-dir. */
export async function launchChromium(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), "inception-wasm-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1200, height: 760 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
