// The demo page: talks to the network's worker (src/netWorker.js), shows the weights' download,
// the top-5 classes as bars, latency, threads, kernel build and why; the Benchmark tab runs the
// standard benchmark in the worker and draws it. URL parameters: weights (default ./weights.iwnet),
// build (auto, baseline, relaxed), threads.

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const worker = new Worker(new URL("./netWorker.js", import.meta.url), { type: "module" });
/** State the page shows, also read by the tests (window.demo). */
const demo = { state: "loading", progress: undefined, info: undefined, result: undefined, verified: undefined, bench: undefined };
window.demo = demo;
let nextId = 1;
let pendingHash;
/** The SHA-256 of an image's RGBA pixels and network input as the worker decodes it (for the tests). */
demo.hashInput = (image) =>
  new Promise((resolve) => {
    pendingHash = resolve;
    worker.postMessage({ type: "input-hash", image });
  });

function setState(state) {
  demo.state = state;
  document.body.dataset.state = state;
}

function status(text, fraction) {
  $("status-text").textContent = text;
  if (fraction !== undefined) $("progress-bar").style.width = `${Math.round(fraction * 100)}%`;
}

const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

worker.onmessage = (e) => {
  const m = e.data;
  if (m.type === "progress") {
    demo.progress = m;
    const where = m.fromCache ? "from the browser cache" : "downloading";
    status(
      `Weights ${where}: ${mb(m.loaded)}${m.total ? ` of ${mb(m.total)}` : ""}`,
      m.total ? (0.9 * m.loaded) / m.total : undefined,
    );
  } else if (m.type === "loaded") {
    demo.info = m.info;
    const i = m.info;
    status(`Ready: GoogLeNet loaded in ${i.loadMs.toFixed(0)} ms. Pick a photo.`, 1);
    $("fact-threads").textContent = `${i.threads} of ${i.cores} cores`;
    $("fact-build").textContent = i.build;
    $("fact-load").textContent = `${i.loadMs.toFixed(0)} ms`;
    $("fact-why").textContent = `Threads: ${i.reason}. Build: ${i.buildReason}.`;
    $("footer").textContent =
      `${i.crossOriginIsolated ? "cross-origin isolated" : "not cross-origin isolated"} · network in a ${i.runtime} · ${i.userAgent}`;
    $("verify-button").disabled = false;
    $("bench-button").disabled = false;
    setState("ready");
  } else if (m.type === "result") {
    demo.result = m;
    showTop(m.top, m.ms);
    setState("classified");
  } else if (m.type === "verified") {
    demo.verified = m;
    const ok = m.results.every((r) => r.reproduces);
    const el = $("verify-result");
    el.className = `why ${ok ? "ok" : m.build === "baseline" ? "bad" : ""}`;
    el.textContent = ok
      ? `The ${m.build} build on ${m.threads} thread(s) reproduces the reference bits of all ${m.results.length} golden inputs (SHA-256).`
      : m.build === "baseline"
        ? `Mismatch: ${m.results.filter((r) => !r.reproduces).map((r) => r.name).join(", ")} differ from the reference bits.`
        : `The ${m.build} build differs from the baseline's reference bits by design (fused multiply-add); load with ?build=baseline to verify.`;
    setState("verified");
  } else if (m.type === "input-hash") {
    pendingHash?.(m);
  } else if (m.type === "bench-progress") {
    $("bench-status").textContent = m.text;
  } else if (m.type === "bench-row") {
    addBenchRow(m.row);
  } else if (m.type === "bench-done") {
    demo.bench = m.result;
    drawChart(m.result);
    const blob = new Blob([JSON.stringify(m.result, null, 2)], { type: "application/json" });
    const link = $("bench-json");
    link.href = URL.createObjectURL(blob);
    link.hidden = false;
    $("bench-status").textContent = `Done on ${m.result.cores} core(s). Compare with \`inception-wasm bench --json\` on the same machine.`;
    $("bench-button").disabled = false;
    setState("benchmarked");
  } else if (m.type === "error") {
    demo.error = m;
    status(`${m.name ?? "Error"}: ${m.message}`, undefined);
    $("status-text").className = "why bad";
    setState("error");
  }
};

function showTop(top, ms) {
  const list = $("top5");
  list.replaceChildren(
    ...top.map((p) => {
      const li = document.createElement("li");
      li.dataset.index = String(p.index);
      const label = document.createElement("div");
      label.className = "label";
      const name = document.createElement("b");
      name.textContent = p.label.split(",")[0];
      name.title = p.label;
      const value = document.createElement("span");
      value.textContent = `${(p.probability * 100).toFixed(1)} %`;
      label.append(name, value);
      const bar = document.createElement("div");
      bar.className = "bar";
      const fill = document.createElement("div");
      fill.style.width = `${Math.max(0.5, p.probability * 100)}%`;
      bar.append(fill);
      li.append(label, bar);
      return li;
    }),
  );
  $("fact-latency").textContent = `${ms.toFixed(1)} ms (decode, preprocess and network)`;
}

function classify(image) {
  setState("classifying");
  worker.postMessage({ type: "classify", id: nextId++, image }, image instanceof ImageBitmap ? [image] : []);
}

function showFile(file) {
  const img = $("preview");
  img.src = URL.createObjectURL(file);
  img.hidden = false;
  $("camera").hidden = true;
  $("drop-hint").hidden = true;
  classify(file);
}

$("file").addEventListener("change", (e) => {
  const file = e.target.files?.[0];
  if (file) showFile(file);
});
const drop = $("drop");
drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  const file = e.dataTransfer?.files?.[0];
  if (file) showFile(file);
});
$("camera-button").addEventListener("click", async () => {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    const video = $("camera");
    video.srcObject = stream;
    video.hidden = false;
    $("preview").hidden = true;
    $("snap-button").hidden = false;
  } catch (error) {
    status(`No camera: ${error.message}`);
  }
});
$("snap-button").addEventListener("click", async () => classify(await createImageBitmap($("camera"))));
$("verify-button").addEventListener("click", () => {
  setState("verifying");
  worker.postMessage({ type: "verify" });
});

for (const tab of document.querySelectorAll(".tab")) {
  tab.addEventListener("click", () => {
    for (const t of document.querySelectorAll(".tab")) t.classList.toggle("active", t === tab);
    $("panel-classify").hidden = tab.dataset.tab !== "classify";
    $("panel-bench").hidden = tab.dataset.tab !== "bench";
  });
}

$("bench-button").addEventListener("click", () => {
  $("bench-button").disabled = true;
  $("bench-table").querySelector("tbody").replaceChildren();
  $("bench-chart").replaceChildren();
  setState("benchmarking");
  worker.postMessage({ type: "bench", runs: Number($("bench-runs").value), warmup: Number($("bench-warmup").value) });
});

function addBenchRow(r) {
  const table = $("bench-table");
  table.hidden = false;
  const tr = document.createElement("tr");
  for (const v of [r.threads, r.build, r.medianMs.toFixed(1), r.minMs.toFixed(1), r.gflops.toFixed(1), (1000 / r.medianMs).toFixed(1)]) {
    const td = document.createElement("td");
    td.textContent = String(v);
    tr.append(td);
  }
  table.querySelector("tbody").append(tr);
}

/** A bar per thread count: median latency (bars) with GFLOP/s written on each. */
function drawChart(result) {
  const rows = result.results;
  const W = 640;
  const H = 300;
  const left = 70;
  const bottom = 40;
  const top = 36;
  const max = Math.max(...rows.map((r) => r.medianMs)) * 1.15;
  const slot = (W - left - 20) / rows.length;
  const y = (ms) => H - bottom - ((H - bottom - top) * ms) / max;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="system-ui" font-size="12">`,
    `<text x="${left}" y="22" fill="#e6edf3" font-size="14" font-weight="600">Median latency per image (lower is better)</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const ms = (max * i) / 4;
    parts.push(
      `<line x1="${left}" x2="${W - 20}" y1="${y(ms)}" y2="${y(ms)}" stroke="#2a3542"/>`,
      `<text x="${left - 8}" y="${y(ms) + 4}" fill="#8b9aab" text-anchor="end">${ms.toFixed(0)} ms</text>`,
    );
  }
  rows.forEach((r, i) => {
    const x = left + i * slot + slot * 0.2;
    const w = slot * 0.6;
    parts.push(
      `<rect x="${x}" y="${y(r.medianMs)}" width="${w}" height="${H - bottom - y(r.medianMs)}" rx="6" fill="${i === 0 ? "#4fb3ff" : "#7ee0a1"}"/>`,
      `<text x="${x + w / 2}" y="${y(r.medianMs) - 8}" fill="#e6edf3" text-anchor="middle">${r.medianMs.toFixed(1)} ms · ${r.gflops.toFixed(1)} GFLOP/s</text>`,
      `<text x="${x + w / 2}" y="${H - bottom + 18}" fill="#8b9aab" text-anchor="middle">${r.threads} thread${r.threads > 1 ? "s" : ""} (${r.build})</text>`,
    );
  });
  parts.push("</svg>");
  $("bench-chart").innerHTML = parts.join("");
}

setState("loading");
status("Loading the network…", 0);
worker.postMessage({
  type: "load",
  weights: new URL(params.get("weights") ?? "./weights.iwnet", location.href).href,
  build: params.get("build") ?? "auto",
  threads: params.has("threads") ? Number(params.get("threads")) : undefined,
});
