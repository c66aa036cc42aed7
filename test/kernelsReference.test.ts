// The float64 reference ops on hand-computed examples (Caffe semantics), and the tolerance
// policy checked against float32 emulations: sound (an emulated f32 kernel passes) and sharp
// (a kernel that drops one term fails).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { avgPoolRef, convRef, fcRef, lrnRef, maxPoolRef, softmaxRef } from "../src/host/reference/ops.js";
import { announceSeed, randomArray, rngFor } from "./support/rng.js";
import { avgPoolTolerance, dotTolerance, gamma, lrnTolerance, softmaxTolerance, U32 } from "./support/tolerance.js";

const seed = announceSeed("kernels-reference");
const f = Math.fround;

function close(got: Float64Array, want: number[], msg: string): void {
  assert.is(got.length, want.length, `${msg}: length`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(
      Math.abs(got[i] - want[i]) <= 1e-12 * Math.max(1, Math.abs(want[i])),
      `${msg}: [${i}] = ${got[i]}, want ${want[i]}`,
    );
  }
}

const nine = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);

test("convRef: 3x3 box, pad 1, stride 1 and 2, bias and relu", () => {
  const w = new Float32Array(9).fill(1);
  const r = convRef(nine, { c: 1, h: 3, w: 3 }, w, undefined, 1, 3, 3, 1, 1, false);
  assert.equal(r.shape, { c: 1, h: 3, w: 3 });
  close(r.data, [12, 21, 16, 27, 45, 33, 24, 39, 28], "stride 1");
  const s = convRef(nine, { c: 1, h: 3, w: 3 }, w, new Float32Array([-20]), 1, 3, 3, 2, 1, true);
  assert.equal(s.shape, { c: 1, h: 2, w: 2 });
  close(s.data, [0, 0, 4, 8], "stride 2, bias -20, relu");
});

test("convRef: 1x2 and 2x1 kernels (kh != kw), OIHW order over channels", () => {
  const x = new Float32Array([1, 2, 3, 4, 5, 6]); // 1 x 2 x 3
  const a = convRef(x, { c: 1, h: 2, w: 3 }, new Float32Array([1, -1]), undefined, 1, 1, 2, 1, 0, false);
  assert.equal(a.shape, { c: 1, h: 2, w: 2 });
  close(a.data, [-1, -1, -1, -1], "1x2");
  const b = convRef(x, { c: 1, h: 2, w: 3 }, new Float32Array([1, 10]), undefined, 1, 2, 1, 1, 0, false);
  assert.equal(b.shape, { c: 1, h: 1, w: 3 });
  close(b.data, [41, 52, 63], "2x1");
  // 2 in, 2 out, 1x1: out0 = x0 + 2 x1, out1 = 3 x0 + 4 x1
  const two = new Float32Array([1, 2, 10, 20]); // 2 x 1 x 2
  const c = convRef(
    two,
    { c: 2, h: 1, w: 2 },
    new Float32Array([1, 2, 3, 4]),
    new Float32Array([0.5, -0.5]),
    2,
    1,
    1,
    1,
    0,
    false,
  );
  close(c.data, [21.5, 42.5, 42.5, 85.5], "1x1 over channels");
  // pad 2 with a 1x1 kernel: a border of bias
  const d = convRef(
    new Float32Array([3]),
    { c: 1, h: 1, w: 1 },
    new Float32Array([2]),
    new Float32Array([1]),
    1,
    1,
    1,
    1,
    1,
    false,
  );
  close(d.data, [1, 1, 1, 1, 7, 1, 1, 1, 1], "pad 1 around one pixel");
});

test("maxPoolRef: ceil mode, the last window clipped to the image", () => {
  const x = Float32Array.from({ length: 16 }, (_, i) => i); // 4x4
  const r = maxPoolRef(x, { c: 1, h: 4, w: 4 }, 3, 2, 0);
  assert.equal(r.shape, { c: 1, h: 2, w: 2 });
  close(r.data, [10, 11, 14, 15], "3x3 s2 on 4x4");
  const neg = Float32Array.from({ length: 9 }, (_, i) => -1 - i);
  close(
    maxPoolRef(neg, { c: 1, h: 3, w: 3 }, 3, 1, 1).data,
    [-1, -1, -2, -1, -1, -2, -4, -4, -5],
    "padding is ignored, not a zero",
  );
});

test("avgPoolRef: Caffe divisor counts padding, not the part past the padded edge", () => {
  const ones = new Float32Array(16).fill(1); // 4x4, k3 s2 p1 -> 3x3
  const r = avgPoolRef(ones, { c: 1, h: 4, w: 4 }, 3, 2, 1);
  assert.equal(r.shape, { c: 1, h: 3, w: 3 });
  // rows: window -1..1 (3 counted, 2 in image), 1..3 (3, 3), 3..4 (2 counted: clipped at H + pad = 5, 1 in image)
  close(r.data, [4 / 9, 6 / 9, 2 / 6, 6 / 9, 1, 3 / 6, 2 / 6, 3 / 6, 1 / 4], "k3 s2 p1 on ones");
  const g = Float32Array.from({ length: 49 }, (_, i) => i);
  close(avgPoolRef(g, { c: 1, h: 7, w: 7 }, 7, 1, 0).data, [24], "global 7x7");
  // no padding, ceil mode: the overhanging window divides by its clipped size
  close(avgPoolRef(nine, { c: 1, h: 3, w: 3 }, 2, 2, 0).data, [3, 4.5, 7.5, 9], "2x2 s2 on 3x3");
});

test("lrnRef: window [c - (size-1)/2, c + size/2] clipped, scale k + alpha/size * sumsq", () => {
  const x = new Float32Array([1, 2, 3]); // 3 channels, 1 pixel
  close(lrnRef(x, { c: 3, h: 1, w: 1 }, 3, 3, 1, 1).data, [1 / 6, 2 / 15, 3 / 14], "size 3 alpha 3 beta 1");
  // C < size: every window is all channels
  const y = new Float32Array([1, 2]);
  const s = 1 + (5 / 5) * 5;
  close(lrnRef(y, { c: 2, h: 1, w: 1 }, 5, 5, 0.75, 1).data, [1 * s ** -0.75, 2 * s ** -0.75], "C 2 < size 5");
  // size 1: only the channel itself; two pixels per channel stay apart
  close(
    lrnRef(new Float32Array([2, 3]), { c: 1, h: 1, w: 2 }, 1, 1, 0.5, 2).data,
    [2 / Math.sqrt(6), 3 / Math.sqrt(11)],
    "size 1, beta 0.5, k 2",
  );
});

test("fcRef and softmaxRef", () => {
  close(
    fcRef(new Float32Array([1, 2, 3]), new Float32Array([1, 0, -1, 2, 2, 2]), new Float32Array([10, 0]), 2).data,
    [8, 12],
    "fc 3 -> 2",
  );
  close(fcRef(new Float32Array([1, 2]), new Float32Array([3, 4]), undefined, 1).data, [11], "fc without bias");
  close(softmaxRef(new Float64Array([0, Math.log(3)])).data, [0.25, 0.75], "softmax [0, ln 3]");
  const big = softmaxRef(new Float64Array([1000, 1000 + Math.log(3)])).data;
  close(big, [0.25, 0.75], "softmax [1000, 1000 + ln 3] stays finite");
  close(softmaxRef(new Float32Array([-5])).data, [1], "softmax of one element");
});

// ---- the tolerance policy against float32 emulations

/** f32 dot product with a bias, sequential, mul then add (each rounded), optionally skipping term `drop`. */
function f32Dot(a: Float32Array, b: Float32Array, bias: number, drop = -1): number {
  let acc = 0;
  for (let i = 0; i < a.length; i++) if (i !== drop) acc = f(acc + f(a[i] * b[i]));
  return f(acc + bias);
}

/** The same, fused: a*b is exact in f64, so one rounding (bar double rounding, far below the bound). */
function f32DotFused(a: Float32Array, b: Float32Array, bias: number): number {
  let acc = 0;
  for (let i = 0; i < a.length; i++) acc = f(a[i] * b[i] + acc);
  return f(acc + bias);
}

test("dotTolerance: sound for emulated f32 dot products (mul+add and fused), sharp for a dropped term", () => {
  const rng = rngFor(seed, "dot policy");
  for (const K of [1, 7, 147, 511, 832, 1728]) {
    for (let t = 0; t < 40; t++) {
      const a = randomArray(rng, K, -1, 1),
        b = randomArray(rng, K, -1, 1),
        bias = f(rng() - 0.5);
      let exact = bias,
        sumAbs = Math.abs(bias);
      for (let i = 0; i < K; i++) {
        exact += a[i] * b[i];
        sumAbs += Math.abs(a[i] * b[i]);
      }
      const tol = dotTolerance(K, sumAbs, exact);
      for (const got of [f32Dot(a, b, bias), f32DotFused(a, b, bias)]) {
        assert.ok(
          Math.abs(got - exact) <= tol,
          `K ${K} (seed ${seed}): emulated f32 error ${Math.abs(got - exact)} > tolerance ${tol}`,
        );
      }
      // dropping the largest term (a typical one: |a_i b_i| near 1 of the ~K/4 average) is caught
      let drop = 0;
      for (let i = 1; i < K; i++) if (Math.abs(a[i] * b[i]) > Math.abs(a[drop] * b[drop])) drop = i;
      const dropped = f32Dot(a, b, bias, drop);
      assert.ok(
        Math.abs(dropped - exact) > tol,
        `K ${K} (seed ${seed}): dropping term ${a[drop] * b[drop]} gives error ${Math.abs(dropped - exact)}, within tolerance ${tol}`,
      );
    }
  }
});

test("avgPoolTolerance: sound for an emulated f32 window sum and division", () => {
  const rng = rngFor(seed, "avg policy");
  for (const k of [2, 3, 5, 7]) {
    for (let t = 0; t < 200; t++) {
      const x = randomArray(rng, k * k, -100, 100);
      const count = k * k + Math.floor(rng() * 3);
      let s32 = 0,
        s = 0,
        sAbs = 0;
      for (const v of x) {
        s32 = f(s32 + v);
        s += v;
        sAbs += Math.abs(v);
      }
      const got = f(s32 / count),
        want = s / count;
      const tol = avgPoolTolerance(k, sAbs / count, want);
      assert.ok(Math.abs(got - want) <= tol, `k ${k} (seed ${seed}): ${Math.abs(got - want)} > ${tol}`);
    }
  }
});

test("lrnTolerance: sound for emulated f32 chains (sqrt*sqrt(sqrt) for beta 0.75, pow otherwise)", () => {
  const rng = rngFor(seed, "lrn policy");
  for (const size of [1, 3, 5, 7]) {
    for (const beta of [0.75, 0.5, 1]) {
      for (let t = 0; t < 300; t++) {
        const xs = randomArray(rng, size, -4, 4);
        const alpha = [1e-4, 0.5, 2][t % 3],
          k = 1 + (t % 2);
        let ss32 = 0,
          ss = 0;
        for (const v of xs) {
          ss32 = f(ss32 + f(v * v));
          ss += v * v;
        }
        const s = f(f(k) + f(f(f(alpha) / size) * ss32));
        const d = beta === 0.75 ? f(f(Math.sqrt(s)) * f(Math.sqrt(f(Math.sqrt(s))))) : f(Math.pow(s, beta));
        const x = xs[Math.floor(size / 2)];
        const got = f(x / d),
          want = x * Math.pow(k + (alpha / size) * ss, -beta);
        const tol = lrnTolerance(size, beta, want);
        assert.ok(
          Math.abs(got - want) <= tol,
          `size ${size} beta ${beta} (seed ${seed}): ${Math.abs(got - want)} > ${tol}`,
        );
      }
    }
  }
  assert.ok(lrnTolerance(5, 0.75, 1) < 20 * U32, "GoogLeNet's LRN tolerance stays under 20 u relative");
});

test("softmaxTolerance: sound for an emulated kernel (f32 subtraction, f64 exp and sum)", () => {
  const rng = rngFor(seed, "softmax policy");
  for (const [lo, hi] of [
    [-1, 1],
    [990, 1010],
    [-1e4, 1e4],
  ]) {
    const x = randomArray(rng, 100, lo, hi);
    let m = -Infinity,
      mn = Infinity;
    for (const v of x) {
      m = Math.max(m, v);
      mn = Math.min(mn, v);
    }
    let sum = 0;
    for (const v of x) sum += Math.exp(f(v - m));
    const want = softmaxRef(x).data;
    for (let i = 0; i < x.length; i++) {
      const got = f(Math.exp(f(x[i] - m)) / sum);
      const tol = softmaxTolerance(x.length, m - x[i], m - mn, want[i]);
      assert.ok(
        Math.abs(got - want[i]) <= tol,
        `range [${lo}, ${hi}] [${i}] (seed ${seed}): ${Math.abs(got - want[i])} > ${tol}`,
      );
    }
  }
  assert.ok(gamma(1) > U32 && gamma(1) < 1.000001 * U32, "gamma(1) is about u");
});

test.run();
