// File-name parts of benchmark reports (bench/results/): lower case, runs of other characters as one "-".

/** `s` as a file-name part, e.g. "Intel(R) Xeon(R) Processor" -> "intel-r-xeon-r-processor". */
export const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, "-")
    .replace(/^-|-$/g, "");
