// SHA-256 through node:crypto (OpenSSL; Node, Deno and Bun provide it), for the Node entry's hashing.

import { createHash } from "node:crypto";
import type { Sha256Hasher } from "../host/digest.js";

/** A fresh incremental SHA-256 over node:crypto. */
export function nodeSha256(): Sha256Hasher {
  const hash = createHash("sha256");
  return { update: (bytes) => hash.update(bytes), digest: () => new Uint8Array(hash.digest()) };
}
