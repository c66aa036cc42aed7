// Command-line options of the bench scripts: a bad option stops the script with a usage error
// (status 2) that names the script, the option, what was expected and what was found.

/** Prints `<script>: <message>` to stderr and exits with status 2. */
export function usageError(script: string, message: string): never {
  console.error(`${script}: ${message}`);
  process.exit(2);
}

/** Option `--name`'s `text` as an integer of at least `min`, else a usage error of `script`. */
export function intOption(script: string, name: string, text: string, min = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) usageError(script, `--${name}: expected an integer >= ${min}, found "${text}"`);
  return n;
}
