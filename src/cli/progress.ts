// Download progress for the command line, drawn by cli-progress (terminal handling, redraw
// throttling and the not-a-terminal schedule); the byte, rate and ETA texts are ours because
// cli-progress counts abstract units and estimates from its last 10 updates only.

import { SingleBar } from "cli-progress";

/** A progress display: feed it with update() (e.g. as a download's onProgress) and stop() it once. */
export interface Progress {
  update(received: number, total: number | undefined): void;
  stop(): void;
}

/** Seconds of history the displayed rate and ETA are averaged over. */
const RATE_WINDOW_MS = 5000;

/**
 * A progress display for a download called `label`, written to `stream` (default stderr). On a
 * terminal: a bar redrawn in place with bytes, rate and ETA. Elsewhere (a pipe, a file, CI
 * logs): one plain line every `intervalMs` (default 2000), and a last one at stop(). Shows
 * nothing until the first update().
 */
export function downloadProgress(
  label: string,
  options: { stream?: NodeJS.WritableStream; intervalMs?: number } = {},
): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = (stream as { isTTY?: boolean }).isTTY === true;
  const samples: { t: number; bytes: number }[] = [];
  let text = { received: "", rate: "", eta: "" };
  let known = false;
  const bar = new SingleBar({
    stream,
    noTTYOutput: true,
    clearOnComplete: !tty, // off a terminal: no blank line after the last progress line
    notTTYSchedule: options.intervalMs ?? 2000,
    barsize: 30,
    format: (barOptions, params) => {
      if (!known) return `${label}: ${text.received}, ${text.rate}`;
      const percent = `${Math.floor(params.progress * 100)}%`.padStart(4);
      const width = barOptions.barsize ?? 30;
      const barText = tty ? ` [${"=".repeat(Math.round(params.progress * width)).padEnd(width, "-")}]` : "";
      return `${label}:${barText} ${percent} ${text.received}, ${text.rate}, ETA ${text.eta}`;
    },
  });
  let started = false;
  return {
    update(received, total) {
      const t = Date.now();
      samples.push({ t, bytes: received });
      while (samples.length > 2 && t - samples[1].t > RATE_WINDOW_MS) samples.shift();
      const first = samples[0];
      const rate = t > first.t ? ((received - first.bytes) * 1000) / (t - first.t) : 0;
      known = total !== undefined && total > 0;
      text = {
        received: known ? `${megabytes(received)} of ${megabytes(total!)}` : megabytes(received),
        rate: rate > 0 ? `${megabytes(rate)}/s` : "-- MB/s",
        eta: known && rate > 0 ? seconds((total! - received) / rate) : "--",
      };
      if (!started) {
        started = true;
        bar.start(known ? total! : 1, received);
      }
      bar.update(known ? received : 0);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

const megabytes = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;

function seconds(s: number): string {
  const whole = Math.ceil(s);
  return whole < 60 ? `${whole} s` : `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, "0")} s`;
}
