// SHA-256 and hex over Web Crypto: every runtime this library supports has it.

/** SHA-256 digest via Web Crypto (which does not take views of shared memory: those are copied). */
export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  const input = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : bytes.slice();
  return new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", input));
}

/** Lower-case hex of bytes. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** An incremental SHA-256: update() with each piece in order, then digest() once. */
export interface Sha256Hasher {
  update(bytes: Uint8Array): unknown;
  digest(): Uint8Array;
}
