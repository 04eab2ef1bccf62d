package org.longctx.kernels;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Checks of the native kernels against references built from DJL ops (and, for AdamW, the
 * update formula evaluated on the host), plus the attention micro-benchmark. Used by
 * {@link GpuCheck} (a main for GPU nodes) and {@link NativeKernelsLibraryTest} (skipped without
 * the library). Every parity check compares a kernel in some dtype with a float32 reference fed
 * the same (already rounded) inputs; errors are max |got - ref| / max |ref|.
 */
final class KernelChecks {

  /** One compared quantity. */
  record Check(String name, double error, double tolerance) {
    boolean passed() {
      return error <= tolerance; // NaN fails
    }

    String line() {
      return String.format(Locale.ROOT, "%-4s %-58s error %.3e  tolerance %.0e", passed() ? "ok" : "FAIL", name,
          error, tolerance);
    }
  }

  private final NDManager manager;
  private final Device device;
  private final PrintStream out;
  final List<Check> checks = new ArrayList<>();

  KernelChecks(NDManager manager, PrintStream out) {
    this.manager = manager;
    this.device = manager.getDevice();
    this.out = out;
  }

  private void record(String name, double error, double tolerance) {
    Check c = new Check(name, error, tolerance);
    checks.add(c);
    out.println(c.line());
  }

  static NDArray f32(NDArray x) {
    return NativeKernels.cast(x, KernelDType.FLOAT32);
  }

  private static double maxAbs(NDArray x) {
    return x.abs().max().getFloat();
  }

  /** max |got - ref| / max |ref|, got in any dtype, ref float32. */
  static double relError(NDArray got, NDArray ref) {
    return f32(got).sub(ref).abs().max().getFloat() / Math.max(1e-30, maxAbs(ref));
  }

  private static GradientCollector collector() {
    return Engine.getEngine("PyTorch").newGradientCollector();
  }

  /** A leaf of the given dtype holding float32 random normals rounded to it. */
  private NDArray leaf(Shape shape, KernelDType dtype) {
    NDArray x = manager.randomNormal(shape);
    NDArray y = dtype == KernelDType.FLOAT32 ? x : NativeKernels.cast(x, dtype).duplicate();
    y.setRequiresGradient(true);
    return y;
  }

  /** A float32 leaf holding the values of {@code x} (any dtype), outside any graph. */
  private static NDArray f32Leaf(NDArray x) {
    NDArray y = f32(x).duplicate(); // duplicate runs under NoGradGuard: a fresh leaf
    y.setRequiresGradient(true);
    return y;
  }

  /** Additive causal mask [qLen, kLen], bottom-right aligned: 0 where key j <= offset + i, else -inf. */
  NDArray causalMask(long qLen, long kLen, DataType dtype) {
    long offset = kLen - qLen;
    NDArray i = manager.arange(0f, (float) qLen, 1f).reshape(qLen, 1).add(offset);
    NDArray j = manager.arange(0f, (float) kLen, 1f).reshape(1, kLen);
    Shape s = new Shape(qLen, kLen);
    NDArray mask = NDArrays.where(j.gt(i), manager.full(s, Float.NEGATIVE_INFINITY), manager.zeros(s));
    return mask.toType(dtype, false);
  }

  /** transformers' repeat_kv: [b, kv, t, d] to [b, kv * groups, t, d], kv head repeated in place. */
  static NDArray repeatKv(NDArray x, long groups) {
    if (groups == 1) {
      return x;
    }
    Shape s = x.getShape();
    return x.expandDims(2).broadcast(new Shape(s.get(0), s.get(1), groups, s.get(2), s.get(3)))
        .reshape(s.get(0), s.get(1) * groups, s.get(2), s.get(3));
  }

  /** Attention composed of DJL ops: matmul, additive mask, softmax, matmul. */
  NDArray composedAttention(NDArray q, NDArray k, NDArray v, double scale, NDArray mask) {
    long groups = q.getShape().get(1) / k.getShape().get(1);
    // the scale as an array in PyTorch's memory: on CPU DJL's mul(Number) lends autograd a Java
    // buffer that may be freed before backward (trainer's Scalars explains)
    NDArray s = q.getManager().full(new Shape(), (float) scale, q.getDataType());
    NDArray scores = q.matMul(repeatKv(k, groups).transpose(0, 1, 3, 2)).mul(s).add(mask);
    return scores.softmax(-1).matMul(repeatKv(v, groups));
  }

  /** Fused attention (forward and q, k, v gradients) against the float32 composed attention. */
  void attentionParity(KernelDType dtype, long b, long h, long kv, long qLen, long kLen, long d, boolean explicitMask,
      double outTol, double gradTol) {
    long offset = kLen - qLen;
    double scale = 1.0 / Math.sqrt(d);
    try (NDManager m = manager.newSubManager()) {
      KernelChecks sub = new KernelChecks(m, out);
      NDArray q = sub.leaf(new Shape(b, h, qLen, d), dtype);
      NDArray k = sub.leaf(new Shape(b, kv, kLen, d), dtype);
      NDArray v = sub.leaf(new Shape(b, kv, kLen, d), dtype);
      NDArray w = m.randomNormal(new Shape(b, h, qLen, d)); // loss = sum(out * w): every output counts
      NDArray fused;
      try (GradientCollector gc = collector()) {
        fused = NativeKernels.attention(q, k, v, offset, scale, explicitMask);
        gc.backward(f32(fused).mul(w).sum());
      }
      NDArray qr = f32Leaf(q);
      NDArray kr = f32Leaf(k);
      NDArray vr = f32Leaf(v);
      NDArray ref;
      try (GradientCollector gc = collector()) {
        ref = sub.composedAttention(qr, kr, vr, scale, sub.causalMask(qLen, kLen, DataType.FLOAT32));
        gc.backward(ref.mul(w).sum());
      }
      String what = String.format(Locale.ROOT, "attention %s B%d H%d KV%d q%d k%d D%d%s", dtype.torchName(), b, h, kv,
          qLen, kLen, d, explicitMask ? " mask-path" : "");
      record(what + " out", relError(fused, ref), outTol);
      record(what + " dq", relError(q.getGradient(), qr.getGradient()), gradTol);
      record(what + " dk", relError(k.getGradient(), kr.getGradient()), gradTol);
      record(what + " dv", relError(v.getGradient(), vr.getGradient()), gradTol);
    }
  }

  /** All attention parity cases: MHA, GQA, cached keys (offset), the mask path, three dtypes. */
  void attentionParity() {
    for (KernelDType dt : KernelDType.values()) {
      double outTol = dt == KernelDType.FLOAT32 ? 1e-4 : dt == KernelDType.FLOAT16 ? 5e-3 : 3e-2;
      double gradTol = dt == KernelDType.FLOAT32 ? 1e-4 : dt == KernelDType.FLOAT16 ? 1e-2 : 5e-2;
      attentionParity(dt, 2, 4, 4, 128, 128, 64, false, outTol, gradTol);
      attentionParity(dt, 2, 8, 2, 128, 128, 64, false, outTol, gradTol);
      attentionParity(dt, 2, 8, 2, 128, 128, 64, true, outTol, gradTol);
      attentionParity(dt, 2, 8, 2, 64, 192, 64, false, outTol, gradTol);
      attentionParity(dt, 1, 4, 1, 1, 77, 128, false, outTol, gradTol); // one query after 76 cached keys
    }
  }

  /** float32 -> bfloat16 -> float32 inside the graph: the gradient reaches the float32 leaf. */
  void castGradient() {
    try (NDManager m = manager.newSubManager()) {
      NDArray x = m.randomNormal(new Shape(4, 8));
      x.setRequiresGradient(true);
      NDArray c = m.arange(0f, 32f, 1f).reshape(4, 8).div(4f); // k/4: exact in bfloat16
      NDArray y;
      String mid;
      try (GradientCollector gc = collector()) {
        NDArray half = NativeKernels.cast(x, "bfloat16");
        mid = NativeKernels.dtype(half);
        y = NativeKernels.cast(half.add(half), KernelDType.FLOAT32); // a DJL op on the bfloat16 array
        gc.backward(y.mul(c).sum());
      }
      record("cast dtype in the middle is bfloat16 (" + mid + ")", "bfloat16".equals(mid) ? 0 : 1, 0);
      // d/dx sum(c * 2 * bf16(x)) = 2c (the cast passes gradients straight through, rounded to bf16)
      record("cast float32->bfloat16->float32 gradient == 2c", x.getGradient().sub(c.mul(2)).abs().max().getFloat(), 0);
      // forward: y = 2 * bf16(x), within bfloat16's relative rounding 2^-8 of 2x
      NDArray bound = x.abs().mul(2 * Math.pow(2, -8)).add(1e-30f);
      record("cast forward within bfloat16 rounding (max |y-2x|/bound)",
          y.sub(x.mul(2)).abs().div(bound).max().getFloat(), 1.0);
    }
  }

  /** A cross-entropy under test: (logits, targets) to the mean loss. */
  private interface Loss {
    NDArray apply(NDArray logits, NDArray targets);
  }

  /** Loss, logits gradient and the peak memory above what was allocated before, for one loss. */
  private record LossRun(NDArray loss, NDArray grad, long extraPeak) {}

  private LossRun lossRun(NDArray logits, NDArray targets, Loss loss) {
    NDArray leaf = logits.duplicate(); // a fresh leaf per run: gradients do not mix
    leaf.setRequiresGradient(true);
    long base = NativeKernels.allocatedMemoryBytes(device);
    NativeKernels.resetPeakMemory(device);
    NDArray value;
    try (GradientCollector gc = collector()) {
      value = loss.apply(leaf, targets);
      gc.backward(value);
    }
    return new LossRun(value, leaf.getGradient(), NativeKernels.peakMemoryBytes(device) - base);
  }

  /**
   * Chunked cross-entropy (loss and logits gradient) against log-softmax on a float32 copy of the
   * same logits; PyTorch's cross_entropy on the logits' own dtype is printed beside it.
   */
  void crossEntropyParity(KernelDType dtype, long batch, long len, long vocab, long chunkRows) {
    try (NDManager m = manager.newSubManager()) {
      NDArray logits = NativeKernels.cast(m.randomNormal(new Shape(batch, len, vocab)).mul(3), dtype).duplicate();
      NDArray ids = m.randomInteger(0, vocab, new Shape(batch, len), DataType.INT64);
      NDArray ignored = m.randomUniform(0f, 1f, new Shape(batch, len)).lt(0.1f);
      NDArray targets = NDArrays.where(ignored, m.full(new Shape(batch, len), -100, DataType.INT64), ids);
      NDArray safe = NDArrays.where(ignored, m.zeros(new Shape(batch, len), DataType.INT64), ids);
      NDArray valid = ignored.logicalNot().toType(DataType.FLOAT32, false);
      // the reference differentiates a float32 copy (its leaf), so its gradient is float32 too
      LossRun ref = lossRun(f32(logits), targets, (x, t) -> {
        NDArray logp = x.logSoftmax(-1);
        NDArray picked = logp.mul(safe.oneHot((int) vocab)).sum(new int[] {-1});
        return picked.mul(valid).sum().neg().div(valid.sum());
      });
      LossRun fused = lossRun(logits, targets,
          (x, t) -> NativeKernels.crossEntropy(x, t, NativeKernels.IGNORE_INDEX, chunkRows));
      String what = String.format(Locale.ROOT, "crossEntropy %s %dx%d vocab %d chunk %d", dtype.torchName(), batch,
          len, vocab, chunkRows);
      float refLoss = ref.loss().getFloat();
      record(what + " loss", Math.abs(fused.loss().getFloat() - refLoss) / Math.abs(refLoss), 1e-5);
      record(what + " grad", relError(fused.grad(), ref.grad()),
          dtype == KernelDType.FLOAT32 ? 1e-5 : dtype == KernelDType.FLOAT16 ? 2e-3 : 1e-2);
      if (device.isGpu()) {
        LossRun aten = lossRun(logits, targets,
            // its loss has the logits' dtype; DJL's backward wants a dtype it knows (float32)
            (x, t) -> f32(NativeKernels.crossEntropyAten(x, t, NativeKernels.IGNORE_INDEX)));
        long copy = batch * len * vocab * 4; // the reference's float32 copy of the logits
        out.printf(Locale.ROOT, "     %s: extra peak memory fwd+bwd %.1f MiB; float32 log-softmax reference %.1f MiB"
            + " (with its float32 copy);"
            + " torch cross_entropy on %s %.1f MiB, its loss error %.2e, grad error %.2e%n", what,
            fused.extraPeak() / 1048576.0, (ref.extraPeak() + copy) / 1048576.0, dtype.torchName(),
            aten.extraPeak() / 1048576.0, Math.abs(aten.loss().getFloat() - refLoss) / Math.abs(refLoss),
            relError(aten.grad(), ref.grad()));
      }
    }
  }

  /** Fused AdamW against the update formula evaluated in double on the host, 3 steps, plus scaler paths. */
  void fusedAdamW() {
    AdamW hyper = new AdamW(1e-2, 0.9, 0.999, 0.1, 1e-8);
    Shape[] shapes = {new Shape(7), new Shape(3, 5), new Shape(64, 33)};
    try (NDManager m = manager.newSubManager()) {
      List<NDArray> params = new ArrayList<>();
      List<NDArray> expAvgs = new ArrayList<>();
      List<NDArray> expAvgSqs = new ArrayList<>();
      List<NDArray> steps = new ArrayList<>();
      double[][] p = new double[shapes.length][];
      double[][] mom = new double[shapes.length][];
      double[][] sq = new double[shapes.length][];
      for (int i = 0; i < shapes.length; i++) {
        NDArray x = m.randomNormal(shapes[i]);
        params.add(x);
        expAvgs.add(m.zeros(shapes[i]));
        expAvgSqs.add(m.zeros(shapes[i]));
        steps.add(m.zeros(new Shape()));
        p[i] = toDoubles(x);
        mom[i] = new double[p[i].length];
        sq[i] = new double[p[i].length];
      }
      float gradScale = 1024f;
      for (int t = 1; t <= 3; t++) {
        List<NDArray> grads = new ArrayList<>();
        List<NDArray> scaled = new ArrayList<>();
        for (int i = 0; i < shapes.length; i++) {
          NDArray g = m.randomNormal(shapes[i]);
          grads.add(g);
          scaled.add(g.mul(gradScale));
          referenceAdamW(p[i], toDoubles(g), mom[i], sq[i], t, hyper);
        }
        if (t == 2) { // loss-scaled gradients, divided inside the kernel
          NativeKernels.fusedAdamW(params, scaled, expAvgs, expAvgSqs, steps, hyper,
              m.full(new Shape(), gradScale), m.zeros(new Shape()));
        } else {
          NativeKernels.fusedAdamW(params, grads, expAvgs, expAvgSqs, steps, hyper, null, null);
        }
        double err = 0;
        for (int i = 0; i < shapes.length; i++) {
          double[] got = toDoubles(params.get(i));
          for (int j = 0; j < got.length; j++) {
            err = Math.max(err, Math.abs(got[j] - p[i][j]));
          }
        }
        record("fusedAdamW step " + t + (t == 2 ? " (gradScale 1024)" : "") + " params vs formula, max abs", err, 1e-5);
      }
      double stepErr = 0;
      for (NDArray s : steps) {
        stepErr = Math.max(stepErr, Math.abs(s.getFloat() - 3));
      }
      record("fusedAdamW step counters after 3 steps == 3", stepErr, 0);
      // found inf: nothing moves, counters stay
      double[] before = toDoubles(params.get(2));
      List<NDArray> grads = new ArrayList<>();
      for (Shape s : shapes) {
        grads.add(m.randomNormal(s));
      }
      NativeKernels.fusedAdamW(params, grads, expAvgs, expAvgSqs, steps, hyper, null, m.ones(new Shape()));
      double moved = 0;
      double[] after = toDoubles(params.get(2));
      for (int j = 0; j < after.length; j++) {
        moved = Math.max(moved, Math.abs(after[j] - before[j]));
      }
      record("fusedAdamW foundInf=1 leaves params unchanged", moved, 0);
      record("fusedAdamW foundInf=1 leaves step counters at 3", Math.abs(steps.get(0).getFloat() - 3), 0);
    }
  }

  /** AdamW (Loshchilov & Hutter 2019, Algorithm 2 as torch.optim.AdamW implements it), in place. */
  static void referenceAdamW(double[] p, double[] g, double[] m, double[] v, int step, AdamW h) {
    double bc1 = 1 - Math.pow(h.beta1(), step);
    double bc2 = 1 - Math.pow(h.beta2(), step);
    for (int i = 0; i < p.length; i++) {
      p[i] *= 1 - h.lr() * h.weightDecay();
      m[i] = h.beta1() * m[i] + (1 - h.beta1()) * g[i];
      v[i] = h.beta2() * v[i] + (1 - h.beta2()) * g[i] * g[i];
      p[i] -= h.lr() * (m[i] / bc1) / (Math.sqrt(v[i] / bc2) + h.eps());
    }
  }

  private static double[] toDoubles(NDArray x) {
    float[] f = x.toFloatArray();
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  /**
   * Causal attention forward + backward, fused vs composed of DJL ops, [b, h, t, d] for q, k, v.
   * Composed runs in float16 only: DJL's softmax passes the array's dtype to libtorch and has no
   * bfloat16 (docs/gpu.md, "cast"). TFLOP/s counts 4·b·h·t²·d/2 for the causal forward
   * and 2.5× that for backward (the FlashAttention-2 paper's convention).
   */
  void benchmark(long b, long h, long t, long d, KernelDType dtype, boolean composed, int warmup, int iters) {
    String name = String.format(Locale.ROOT, "%s %-8s B%d H%d T%d D%d", composed ? "composed" : "fused   ",
        dtype.torchName(), b, h, t, d);
    try (NDManager m = manager.newSubManager()) {
      KernelChecks sub = new KernelChecks(m, out);
      NDArray q = sub.leaf(new Shape(b, h, t, d), dtype);
      NDArray k = sub.leaf(new Shape(b, h, t, d), dtype);
      NDArray v = sub.leaf(new Shape(b, h, t, d), dtype);
      NDArray mask = composed ? sub.causalMask(t, t, DataType.FLOAT16) : null;
      double scale = 1.0 / Math.sqrt(d);
      long base = NativeKernels.allocatedMemoryBytes(device);
      long start = 0;
      for (int i = 0; i < warmup + iters; i++) {
        if (i == warmup) {
          NativeKernels.synchronize(device);
          NativeKernels.resetPeakMemory(device);
          start = System.nanoTime();
        }
        // every array an iteration makes lands in `step` (ops attach results to their first
        // input's manager) and is freed when it closes; q, k, v return to m
        try (NDManager step = m.newSubManager(); GradientCollector gc = collector()) {
          q.tempAttach(step);
          k.tempAttach(step);
          v.tempAttach(step);
          NDArray o = composed ? sub.composedAttention(q, k, v, scale, mask) : NativeKernels.attention(q, k, v, 0, scale);
          gc.backward(f32(o).sum());
        }
      }
      NativeKernels.synchronize(device);
      double ms = (System.nanoTime() - start) / 1e6 / iters;
      long peak = NativeKernels.peakMemoryBytes(device);
      double flops = 4.0 * b * h * t * t * d / 2 * 3.5;
      out.printf(Locale.ROOT, "bench %s fwd+bwd %9.2f ms  %6.1f TFLOP/s  peak %6.2f GiB (inputs+grads %.2f GiB)%n",
          name, ms, flops / (ms * 1e-3) / 1e12, peak / 1073741824.0, base / 1073741824.0);
    } catch (EngineException | IllegalStateException e) { // what DJL throws for libtorch errors (OOM)
      String msg = String.valueOf(e.getMessage());
      out.printf(Locale.ROOT, "bench %s fwd+bwd failed: %s%n", name,
          msg.toLowerCase(Locale.ROOT).contains("out of memory") ? "CUDA out of memory" : msg.split("\n")[0]);
    } finally {
      NativeKernels.resetPeakMemory(device);
    }
  }

  long failed() {
    return checks.stream().filter(c -> !c.passed()).count();
  }
}
