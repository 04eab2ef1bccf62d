package org.longctx.jobs;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.kernels.NativeKernels;
import org.longctx.trainer.ModelConfig;
import org.longctx.trainer.model.EagerKernel;
import org.longctx.trainer.model.FusedKernel;
import org.longctx.trainer.model.KvCache;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.model.Precision;
import org.longctx.trainer.optim.AdamW;
import org.longctx.trainer.optim.AdamWConfig;
import org.longctx.trainer.optim.Gradients;
import org.longctx.trainer.optim.NamedParameter;
import org.longctx.trainer.recipes.TrainingSession;

/**
 * The GPU checks and benchmark, run on a GPU node from the bundle ({@code bin/longctx-gpu --main
 * org.longctx.jobs.GpuBench ...}, docs/gpu.md):
 *
 * <pre>
 * GpuBench parity
 *     the model with the fused kernel against the same model with the eager kernel: logits and
 *     every parameter's gradient, float32, float16 and bfloat16, grouped-query heads, and a
 *     KV-cache prefill + decode; prints the errors and exits 1 if one is above its tolerance
 * GpuBench train --hidden H --layers L --heads A --intermediate I --vocab V --batch B --seq-len T
 *                [--warmup 2] [--steps 5] [--dtype float16] [--python python3]
 *     the real training loop (AdamW, clip 1.0) on random tokens, then transformers'
 *     LlamaForCausalLM (sdpa) on the same config in a child process (tools/bench/hf_train_bench.py);
 *     prints tokens/s, ms/step, MFU and peak memory of both and their ratio
 * </pre>
 */
public final class GpuBench {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** H200 dense bfloat16/float16 tensor peak, for MFU (6·N FLOPs per token, attention left out). */
  static final double PEAK_FLOPS = 989e12;

  private GpuBench() {}

  public static void main(String[] argv) throws Exception {
    if (argv.length == 0) {
      System.err.println("usage: GpuBench parity | train --hidden H ... (see the class javadoc)");
      System.exit(2);
    }
    Device gpu = Engine.getInstance().defaultDevice();
    System.out.println("device " + gpu + ", engine " + Engine.getInstance().getVersion() + ", native: " + NativeKernels.status());
    int status = switch (argv[0]) {
      case "parity" -> parity(gpu);
      case "train" -> train(argv);
      default -> throw new IllegalArgumentException("unknown mode " + argv[0] + "; use parity or train");
    };
    System.exit(status);
  }

  // ---- parity: fused kernel vs eager kernel inside the whole model ----

  static int parity(Device gpu) {
    // grouped-query attention: 8 query heads over 2 key/value heads, head_dim 64
    LlamaConfig config = TrainingSession.initConfig(new ModelConfig.Init(1024, 512, 1376, 3, 8, 2, 4096, 10000.0, 1e-5, false, 0.02,
        null, null, null), null, TokenizerSpec.byteLevel());
    int failures = 0;
    for (Precision p : List.of(Precision.FLOAT32, Precision.FLOAT16, Precision.BFLOAT16)) {
      double tolerance = p == Precision.FLOAT32 ? 1e-4 : p == Precision.FLOAT16 ? 2e-2 : 6e-2;
      try (LlamaModel fused = LlamaModel.random(config, p, gpu, 7, 0.02);
          LlamaModel eager = LlamaModel.random(config, p, gpu, 7, 0.02)) {
        if (fused.kernel() != FusedKernel.INSTANCE) {
          System.out.println("parity: the fused kernel is not in use (" + NativeKernels.status() + ")");
          return 1;
        }
        eager.setKernel(EagerKernel.INSTANCE);
        long[] ids = new SplittableRandom(3).longs(2 * 777, 0, 1024).toArray();
        Map<String, float[]> fusedGrads = new LinkedHashMap<>();
        Map<String, float[]> eagerGrads = new LinkedHashMap<>();
        float[] fusedLogits = logitsAndGradients(fused, ids, fusedGrads);
        float[] eagerLogits = logitsAndGradients(eager, ids, eagerGrads);
        double logitError = relative(eagerLogits, fusedLogits);
        double worstGrad = 0;
        String worstName = "";
        for (String name : eagerGrads.keySet()) {
          double e = relativeL2(eagerGrads.get(name), fusedGrads.get(name));
          if (e > worstGrad) {
            worstGrad = e;
            worstName = name;
          }
        }
        double cacheError = cachedDecode(fused, eager, ids);
        boolean ok = logitError <= tolerance && worstGrad <= 2 * tolerance && cacheError <= tolerance;
        failures += ok ? 0 : 1;
        System.out.printf("parity %-8s logits %.2e  worst gradient (relative L2) %.2e (%s)  KV-cache prefill+decode %.2e  "
            + "tolerance %.0e/%.0e  %s%n",
            p.key(), logitError, worstGrad, worstName, cacheError, tolerance, 2 * tolerance, ok ? "ok" : "FAILED");
      }
    }
    failures += optimizerParity(gpu, config);
    return failures == 0 ? 0 : 1;
  }

  /** Three AdamW steps with the fused kernel against the per-parameter update, float32 and float16 (master weights). */
  private static int optimizerParity(Device gpu, LlamaConfig config) {
    int failures = 0;
    long[] ids = new SplittableRandom(5).longs(2 * 300, 0, 1024).toArray();
    for (Precision p : List.of(Precision.FLOAT32, Precision.FLOAT16)) {
      try (LlamaModel a = LlamaModel.random(config, p, gpu, 9, 0.02); LlamaModel b = LlamaModel.random(config, p, gpu, 9, 0.02)) {
        List<NamedParameter> pa = TrainingSession.trainableParameters(a);
        List<NamedParameter> pb = TrainingSession.trainableParameters(b);
        try (AdamW fused = new AdamW(pa, new AdamWConfig(0.9, 0.95, 1e-8, 0.1));
            AdamW loop = new AdamW(pb, new AdamWConfig(0.9, 0.95, 1e-8, 0.1))) {
          loop.useFusedKernel(false);
          for (int step = 0; step < 3; step++) {
            for (AdamW opt : List.of(fused, loop)) {
              LlamaModel model = opt == fused ? a : b;
              try (NDManager m = NDManager.newBaseManager(gpu)) {
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                  NDArray out = model.forward(m.create(ids, new Shape(2, ids.length / 2)), (NDArray) null);
                  collector.backward(NativeKernels.cast(out, "float32").square().mean().mul(LOSS_SCALE));
                }
                try (Gradients g = Gradients.read(opt.parameters(), 1.0 / LOSS_SCALE)) {
                  opt.step(g, 1e-3);
                }
                Gradients.zero(opt.parameters());
              }
            }
          }
          double worst = 0;
          String worstName = "";
          for (int i = 0; i < pa.size(); i++) {
            double e = relativeL2(NativeKernels.cast(pb.get(i).array(), "float32").toFloatArray(),
                NativeKernels.cast(pa.get(i).array(), "float32").toFloatArray());
            if (e > worst) {
              worst = e;
              worstName = pa.get(i).name();
            }
          }
          double tolerance = p == Precision.FLOAT32 ? 1e-5 : 2e-3;
          boolean ok = fused.fused() && worst <= tolerance;
          failures += ok ? 0 : 1;
          System.out.printf("adamw  %-8s fused=%s, 3 steps: worst parameter (relative L2) %.2e (%s)  tolerance %.0e  %s%n", p.key(),
              fused.fused(), worst, worstName, tolerance, ok ? "ok" : "FAILED");
        }
      }
    }
    return failures;
  }

  /**
   * Logits of a [2, 777] batch (float32 copy) and every parameter's gradient of their mean square,
   * scaled by {@value #LOSS_SCALE} as float16 training scales its loss (unscaled gradients of a
   * random model underflow float16, and the comparison would measure the underflow).
   */
  private static float[] logitsAndGradients(LlamaModel model, long[] ids, Map<String, float[]> grads) {
    model.setTrainable(true);
    float[] logits;
    try (NDManager m = NDManager.newBaseManager(model.device())) {
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray out = model.forward(m.create(ids, new Shape(2, ids.length / 2)), (NDArray) null);
        NDArray wide = NativeKernels.cast(out, "float32");
        logits = wide.toFloatArray();
        collector.backward(wide.square().mean().mul(LOSS_SCALE));
      }
      for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) {
        NDArray g = e.getValue().getGradient();
        grads.put(e.getKey(), NativeKernels.cast(g, "float32").toFloatArray());
      }
    }
    model.setTrainable(false);
    return logits;
  }

  /** Relative error of a prefill of 600 tokens + 177 one-token decode steps through the KV cache, fused vs eager. */
  private static double cachedDecode(LlamaModel fused, LlamaModel eager, long[] ids) {
    float[] a = decode(fused, ids);
    float[] b = decode(eager, ids);
    return relative(b, a);
  }

  private static float[] decode(LlamaModel model, long[] ids) {
    int n = ids.length / 2;
    List<Float> out = new ArrayList<>();
    try (KvCache cache = model.newCache(); NDManager m = NDManager.newBaseManager(model.device())) {
      long[] row = java.util.Arrays.copyOf(ids, n);
      addAll(out, model.forward(m.create(java.util.Arrays.copyOf(row, 600), new Shape(1, 600)), null, cache));
      for (int t = 600; t < n; t++) {
        addAll(out, model.forward(m.create(new long[] {row[t]}, new Shape(1, 1)), null, cache));
      }
    }
    float[] flat = new float[out.size()];
    for (int i = 0; i < flat.length; i++) {
      flat[i] = out.get(i);
    }
    return flat;
  }

  private static void addAll(List<Float> out, NDArray logits) {
    for (float f : NativeKernels.cast(logits, "float32").toFloatArray()) {
      out.add(f);
    }
  }

  static final float LOSS_SCALE = 1024f;

  /** ‖b − a‖₂ / ‖a‖₂. */
  static double relativeL2(float[] a, float[] b) {
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < a.length; i++) {
      diff += (a[i] - b[i]) * (double) (a[i] - b[i]);
      norm += a[i] * (double) a[i];
    }
    return Math.sqrt(diff / Math.max(norm, 1e-300));
  }

  /** max |b − a| / max |a|. */
  static double relative(float[] a, float[] b) {
    double diff = 0;
    double scale = 0;
    for (int i = 0; i < a.length; i++) {
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(a[i]));
    }
    return diff / Math.max(scale, 1e-30);
  }

  // ---- train: longctx's loop vs transformers on the same config ----

  static int train(String[] argv) throws Exception {
    Map<String, String> a = new LinkedHashMap<>();
    for (int i = 1; i + 1 < argv.length; i += 2) {
      a.put(argv[i].substring(2), argv[i + 1]);
    }
    TrainBench.Shape s = new TrainBench.Shape(integer(a, "hidden", 768), integer(a, "layers", 12), integer(a, "heads", 12),
        integer(a, "intermediate", 2048), integer(a, "vocab", 32000), integer(a, "batch", 8), integer(a, "seq-len", 2048),
        integer(a, "warmup", 2), integer(a, "steps", 5), 1);
    Precision precision = Precision.parse("--dtype", a.getOrDefault("dtype", "float16"));
    Device gpu = Engine.getInstance().defaultDevice();
    long params = parameterCount(s);
    System.out.printf("train: hidden %d, %d layers, %d heads, MLP %d, vocab %d (%,d parameters); batch %d × %d; %s; "
        + "%d warm-up + %d timed steps%n", s.hidden(), s.layers(), s.heads(), s.intermediate(), s.vocab(), params, s.batch(),
        s.seqLen(), precision.key(), s.warmup(), s.steps());
    // transformers first, in its own process: it must not share the GPU with memory this JVM's
    // allocator still caches after its own run
    JsonNode theirs = transformers(a, s, precision);
    Map<String, Object> ours;
    try {
      try (NDManager m = NDManager.newBaseManager(gpu)) {
        m.zeros(new Shape(1)); // the CUDA allocator exists only after a first allocation; its statistics need it
      }
      NativeKernels.resetPeakMemory(gpu);
      ours = TrainBench.measure("train", 1, s, precision);
      ours.put("peak_gib", NativeKernels.peakMemoryBytes(gpu) / (double) (1L << 30));
    } catch (RuntimeException | OutOfMemoryError e) {
      e.printStackTrace();
      ours = new LinkedHashMap<>(Map.of("framework", "longctx", "error", String.valueOf(e.getMessage()).lines().findFirst().orElse("")));
    }
    print("longctx", JSON.valueToTree(ours), params);
    print("transformers", theirs, params);
    if (ours.containsKey("tokens_per_s") && theirs.has("tokens_per_s")) {
      System.out.printf("  ratio longctx / transformers: %.2f× tokens/s, %.2f× peak memory%n",
          (double) ours.get("tokens_per_s") / theirs.get("tokens_per_s").asDouble(),
          (double) ours.get("peak_gib") / theirs.get("peak_gib").asDouble());
    }
    System.out.println("json " + JSON.writeValueAsString(Map.of("longctx", ours, "transformers", theirs)));
    return 0;
  }

  private static void print(String who, JsonNode r, long params) {
    if (r.has("error")) {
      System.out.printf("  %-12s failed: %s%n", who, r.get("error").asText());
      return;
    }
    double tps = r.get("tokens_per_s").asDouble();
    System.out.printf("  %-12s %,9.0f tokens/s  %7.1f ms/step  MFU %4.1f %%  peak %6.1f GiB  loss %.3f → %.3f%n", who, tps,
        1000 * r.get("seconds_per_step").asDouble(), 100 * 6.0 * params * tps / PEAK_FLOPS, r.get("peak_gib").asDouble(),
        r.get("first_loss").asDouble(), r.get("last_loss").asDouble());
  }

  private static JsonNode transformers(Map<String, String> a, TrainBench.Shape s, Precision precision) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(a.getOrDefault("python", "python3"), a.getOrDefault("script",
        "tools/bench/hf_train_bench.py"), "--hidden", "" + s.hidden(), "--layers", "" + s.layers(), "--heads", "" + s.heads(),
        "--intermediate", "" + s.intermediate(), "--vocab", "" + s.vocab(), "--batch", "" + s.batch(), "--seq-len", "" + s.seqLen(),
        "--warmup", "" + s.warmup(), "--steps", "" + s.steps(), "--dtype", precision.key()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(30, TimeUnit.MINUTES);
    String last = out.lines().filter(l -> l.startsWith("{")).reduce((x, y) -> y).orElse(null);
    if (last == null) {
      List<String> lines = out.lines().toList();
      return JSON.valueToTree(Map.of("error", String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()))));
    }
    return JSON.readTree(last);
  }

  private static int integer(Map<String, String> a, String key, int fallback) {
    return a.containsKey(key) ? Integer.parseInt(a.get(key)) : fallback;
  }

  /** Parameters of the untied Llama the benchmark trains. */
  static long parameterCount(TrainBench.Shape s) {
    long h = s.hidden();
    long perLayer = 4 * h * h + 3 * h * s.intermediate() + 2 * h;
    return 2L * s.vocab() * h + s.layers() * perLayer + h;
  }
}
