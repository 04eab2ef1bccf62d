package org.longctx.jobs;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.kernels.NativeKernels;
import org.longctx.kernels.NcclCommunicator;
import org.longctx.kernels.Profiler;
import org.longctx.trainer.ModelConfig;
import org.longctx.trainer.distributed.NcclCollective;
import org.longctx.trainer.distributed.Ring;
import org.longctx.trainer.distributed.RingCollective;
import org.longctx.trainer.model.EagerKernel;
import org.longctx.trainer.model.FusedKernel;
import org.longctx.trainer.model.KvCache;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.model.Precision;
import org.longctx.trainer.optim.AdamW;
import org.longctx.trainer.optim.AdamWConfig;
import org.longctx.trainer.optim.GradientClipping;
import org.longctx.trainer.optim.Gradients;
import org.longctx.trainer.optim.NamedParameter;
import org.longctx.trainer.recipes.TrainingSession;

/**
 * {@code longctx bench gpu} (usage in {@link BenchJob#USAGE}), run on a GPU node from the bundle
 * ({@code bin/longctx-gpu bench gpu ...}, docs/gpu.md):
 *
 * <ul>
 *   <li>{@code --parity}: the model with the fused kernel against the same model with the eager
 *       kernel (logits and every parameter's gradient, float32, float16 and bfloat16,
 *       grouped-query heads, a KV-cache prefill + decode) and the fused AdamW with the
 *       multi-tensor gradient calls against the per-parameter path; prints the errors and exits
 *       with the number of checks above their tolerance;
 *   <li>otherwise one row per sequence length: the real training loop (AdamW, clip 1.0) on
 *       random tokens and transformers' LlamaForCausalLM (sdpa) on the same config in a child
 *       process (tools/bench/hf_train_bench.py); tokens/s, ms/step, MFU and peak memory of both
 *       and their ratio.
 * </ul>
 */
public final class GpuBench {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** H200 dense bfloat16/float16 tensor peak, for MFU (6·N FLOPs per token, attention left out). */
  static final double PEAK_FLOPS = 989e12;

  private GpuBench() {}

  /** {@code GpuBench ARGS} is {@code longctx bench gpu ARGS}. */
  public static void main(String[] argv) {
    String[] args = new String[argv.length + 1];
    args[0] = "gpu";
    System.arraycopy(argv, 0, args, 1, argv.length);
    BenchJob.main(args);
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
        eager.setNativeLayerOps(false); // the reference is the pure-DJL path throughout
        long[] ids = new SplittableRandom(3).longs(2 * 777, 0, 1024).toArray();
        Map<String, float[]> fusedGrads = new LinkedHashMap<>();
        Map<String, float[]> eagerGrads = new LinkedHashMap<>();
        float[] fusedLogits = logitsAndGradients(fused, ids, fusedGrads);
        float[] eagerLogits = logitsAndGradients(eager, ids, eagerGrads);
        double logitError = relative(eagerLogits, fusedLogits);
        Worst worst = worstGradient(eagerGrads, fusedGrads);
        double worstGrad = worst.error();
        String worstName = worst.name();
        double cacheError = cachedDecode(fused, eager, ids);
        boolean ok = logitError <= tolerance && worstGrad <= 2 * tolerance && cacheError <= tolerance;
        failures += ok ? 0 : 1;
        System.out.printf("parity %-8s logits %.2e  worst gradient (relative L2) %.2e (%s)  KV-cache prefill+decode %.2e  "
            + "tolerance %.0e/%.0e  %s%n",
            p.key(), logitError, worstGrad, worstName, cacheError, tolerance, 2 * tolerance, ok ? "ok" : "FAILED");
      }
    }
    failures += layerOpsParity(gpu, config);
    failures += optimizerParity(gpu, config);
    failures += ncclParity(gpu, config);
    return failures == 0 ? 0 : 1;
  }

  /**
   * The NCCL gradient exchange on this one GPU. A data-parallel replica's path with one rank: a
   * training step's float32 gradients through {@link NcclCollective} (a ring of one for the small
   * exchanges, NCCL's unique id through it) come back bit for bit (the mean over one rank is
   * itself). Then two ranks as two threads of this JVM on the same GPU: NCCL refuses two ranks on
   * one device, and the check reports how that surfaces (an error within the timeout, not a hang);
   * where NCCL accepts it, the two ranks' mean is checked against the arithmetic one.
   */
  private static int ncclParity(Device gpu, LlamaConfig config) {
    Optional<String> version = NcclCommunicator.version();
    if (version.isEmpty()) {
      System.out.println("nccl   FAILED: the native library has no NCCL (" + NativeKernels.status() + ")");
      return 1;
    }
    long[] ids = new SplittableRandom(11).longs(2 * 300, 0, 1024).toArray();
    int failures = 0;
    try (LlamaModel model = LlamaModel.random(config, Precision.FLOAT16, gpu, 13, 0.02)) {
      List<NamedParameter> params = TrainingSession.trainableParameters(model);
      try (NDManager m = NDManager.newBaseManager(gpu)) {
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
          NDArray out = model.forward(m.create(ids, new Shape(2, ids.length / 2)), (NDArray) null);
          collector.backward(NativeKernels.cast(out, "float32").square().mean().mul(LOSS_SCALE));
        }
        try (Gradients g = Gradients.read(params, 1.0 / LOSS_SCALE, true)) {
          List<float[]> before = new ArrayList<>();
          for (NDArray a : g.arrays()) {
            before.add(a.toFloatArray());
          }
          long start = System.nanoTime();
          try (NcclCollective one = new NcclCollective(new RingCollective(Ring.alone(Duration.ofSeconds(30), 1 << 20)), openOne(gpu))) {
            one.averageGradients(g);
          }
          double ms = (System.nanoTime() - start) / 1e6;
          int changed = 0;
          for (int i = 0; i < before.size(); i++) {
            changed += Arrays.equals(before.get(i), g.arrays().get(i).toFloatArray()) ? 0 : 1;
          }
          failures += changed == 0 ? 0 : 1;
          System.out.printf("nccl   %s, one rank through NcclCollective: %d float32 gradients, %d changed (setup + all-reduce "
              + "%.0f ms)  %s%n", version.get(), before.size(), changed, ms, changed == 0 ? "ok" : "FAILED");
        }
      }
      Gradients.zero(params);
    } catch (IOException e) {
      System.out.println("nccl   FAILED: " + e);
      return 1;
    }
    twoRanksOnOneGpu(gpu);
    return failures;
  }

  private static NcclCommunicator openOne(Device gpu) {
    return NcclCommunicator.open(NcclCommunicator.uniqueId(), 1, 0, gpu, Duration.ofSeconds(30));
  }

  private static void twoRanksOnOneGpu(Device gpu) {
    byte[] id = NcclCommunicator.uniqueId();
    float[][] inputs = new float[2][4096];
    SplittableRandom random = new SplittableRandom(17);
    for (int i = 0; i < 4096; i++) {
      inputs[0][i] = (float) random.nextGaussian();
      inputs[1][i] = (float) random.nextGaussian();
    }
    String[] outcome = new String[2];
    Thread[] ranks = new Thread[2];
    for (int r = 0; r < 2; r++) {
      int rank = r;
      ranks[r] = new Thread(() -> {
        try (NDManager m = NDManager.newBaseManager(gpu);
            NcclCommunicator c = NcclCommunicator.open(id, 2, rank, gpu, Duration.ofSeconds(20))) {
          NDArray x = m.create(inputs[rank]);
          c.allReduceMean(List.of(x));
          float[] got = x.toFloatArray();
          double worst = 0;
          for (int i = 0; i < got.length; i++) {
            worst = Math.max(worst, Math.abs(got[i] - (inputs[0][i] + inputs[1][i]) / 2));
          }
          outcome[rank] = String.format("mean of the two ranks within %.1e of (a + b) / 2", worst);
        } catch (RuntimeException e) {
          outcome[rank] = "refused: " + String.valueOf(e.getMessage()).lines().findFirst().orElse("");
        }
      }, "nccl-rank-" + r);
      ranks[r].start();
    }
    for (Thread t : ranks) {
      try {
        t.join(TimeUnit.SECONDS.toMillis(60));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    System.out.printf("nccl   two ranks on one GPU (threads of one JVM): rank 0 %s; rank 1 %s%n", outcome[0], outcome[1]);
  }

  /** The parameter whose gradient differs most from the reference's (relative L2), and by how much. */
  private record Worst(String name, double error) {}

  private static Worst worstGradient(Map<String, float[]> reference, Map<String, float[]> other) {
    Worst worst = new Worst("", 0);
    for (String name : reference.keySet()) {
      double e = relativeL2(reference.get(name), other.get(name));
      if (e > worst.error()) {
        worst = new Worst(name, e);
      }
    }
    return worst;
  }

  /**
   * RMSNorm, the rope and SwiGLU's gate as one native call each against the DJL operations they
   * replace, both with the fused kernel: equal up to rounding (the fused RMSNorm rounds once,
   * after the weight; SwiGLU's one-kernel {@code silu} where the DJL path rounds {@code sigmoid}
   * first; the rope's written-out backward sums its two paths in another order).
   */
  private static int layerOpsParity(Device gpu, LlamaConfig config) {
    int failures = 0;
    long[] ids = new SplittableRandom(4).longs(2 * 777, 0, 1024).toArray();
    for (Precision p : List.of(Precision.FLOAT32, Precision.FLOAT16, Precision.BFLOAT16)) {
      double tolerance = p == Precision.FLOAT32 ? 1e-5 : p == Precision.FLOAT16 ? 1e-2 : 4e-2;
      try (LlamaModel fusedOps = LlamaModel.random(config, p, gpu, 7, 0.02);
          LlamaModel djlOps = LlamaModel.random(config, p, gpu, 7, 0.02)) {
        djlOps.setNativeLayerOps(false);
        Map<String, float[]> nativeGrads = new LinkedHashMap<>();
        Map<String, float[]> djlGrads = new LinkedHashMap<>();
        double logitError = relative(logitsAndGradients(djlOps, ids, djlGrads), logitsAndGradients(fusedOps, ids, nativeGrads));
        Worst worst = worstGradient(djlGrads, nativeGrads);
        double worstGrad = worst.error();
        String worstName = worst.name();
        boolean ok = fusedOps.nativeLayerOps() && logitError <= tolerance && worstGrad <= 2 * tolerance;
        failures += ok ? 0 : 1;
        System.out.printf("layer ops %-8s native=%s: logits %.2e  worst gradient (relative L2) %.2e (%s)  tolerance %.0e/%.0e  %s%n",
            p.key(), fusedOps.nativeLayerOps(), logitError, worstGrad, worstName, tolerance, 2 * tolerance, ok ? "ok" : "FAILED");
      }
    }
    return failures;
  }

  /**
   * Three clipped AdamW steps with the fused kernel and the multi-tensor gradient calls against the per-parameter
   * path, float32, float16 and bfloat16 (both with float32 master weights).
   */
  private static int optimizerParity(Device gpu, LlamaConfig config) {
    int failures = 0;
    long[] ids = new SplittableRandom(5).longs(2 * 300, 0, 1024).toArray();
    for (Precision p : List.of(Precision.FLOAT32, Precision.FLOAT16, Precision.BFLOAT16)) {
      try (LlamaModel a = LlamaModel.random(config, p, gpu, 9, 0.02); LlamaModel b = LlamaModel.random(config, p, gpu, 9, 0.02)) {
        List<NamedParameter> pa = TrainingSession.trainableParameters(a);
        List<NamedParameter> pb = TrainingSession.trainableParameters(b);
        try (AdamW fused = new AdamW(pa, new AdamWConfig(0.9, 0.95, 1e-8, 0.1));
            AdamW loop = new AdamW(pb, new AdamWConfig(0.9, 0.95, 1e-8, 0.1))) {
          loop.useFusedKernel(false);
          double[][] norms = new double[2][3];  // [fused, loop][step] gradient norms before clipping
          for (int step = 0; step < 3; step++) {
            for (AdamW opt : List.of(fused, loop)) {
              LlamaModel model = opt == fused ? a : b;
              try (NDManager m = NDManager.newBaseManager(gpu)) {
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                  NDArray out = model.forward(m.create(ids, new Shape(2, ids.length / 2)), (NDArray) null);
                  collector.backward(NativeKernels.cast(out, "float32").square().mean().mul(LOSS_SCALE));
                }
                // the fused side also reads, measures and clips through the multi-tensor calls
                try (Gradients g = Gradients.read(opt.parameters(), 1.0 / LOSS_SCALE, opt == fused)) {
                  double norm = g.globalNorm();
                  GradientClipping.clipToNorm(g, norm, 1.0);
                  norms[opt == fused ? 0 : 1][step] = norm;
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
          double tolerance = switch (p) { // the parameters' rounding after the float32 update
            case FLOAT32 -> 1e-5;
            case FLOAT16 -> 2e-3;
            case BFLOAT16 -> 2e-2;
          };
          double normError = 0;
          for (int step = 0; step < 3; step++) {
            normError = Math.max(normError, Math.abs(norms[0][step] - norms[1][step]) / norms[1][step]);
          }
          boolean ok = fused.fused() && worst <= tolerance && normError <= tolerance;
          failures += ok ? 0 : 1;
          System.out.printf("adamw  %-8s fused=%s, 3 clipped steps: worst parameter (relative L2) %.2e (%s), gradient norms"
              + " %.2e  tolerance %.0e  %s%n", p.key(), fused.fused(), worst, worstName, normError, tolerance, ok ? "ok" : "FAILED");
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

  /** {@code bench gpu}: one row per sequence length, or {@code --parity}. */
  static int bench(Args args) throws Exception {
    Device gpu = Engine.getInstance().defaultDevice();
    System.out.println("device " + gpu + ", engine " + Engine.getInstance().getVersion() + ", native: " + NativeKernels.status());
    if (!gpu.isGpu()) {
      throw new IllegalStateException("bench gpu needs a GPU, but DJL's default device is " + gpu
          + " (run it on a GPU node from the GPU bundle: bin/longctx-gpu bench gpu, docs/gpu.md)");
    }
    if (args.flag("--parity")) {
      return parity(gpu);
    }
    String model = args.value("--model").orElse("134m");
    TrainBench.Shape preset = switch (model) {
      case "134m" -> new TrainBench.Shape(768, 12, 12, 2048, 32000, 8, 2048, 2, 5, 1);
      case "941m" -> new TrainBench.Shape(2048, 16, 16, 5504, 32000, 4, 4096, 2, 5, 1);
      default -> throw new UsageException("--model: unknown '" + model + "'; allowed: 134m, 941m (or the shape flags)");
    };
    Precision precision = Precision.parse("--dtype", args.value("--dtype").orElse("float16"));
    List<Integer> lengths = args.value("--seq-lens").map(GpuBench::lengths)
        .orElse(List.of(args.intValue("--seq-len", preset.seqLen())));
    if (args.value("--pose-factor").isPresent()) {
      return poseMemory(gpu, shape(args, preset, lengths.get(0)), precision, args.intValue("--pose-factor", 8));
    }
    String python = args.value("--python").orElse("python3");
    String script = args.value("--script").orElse(benchScript("hf_train_bench.py"));
    Path profile = args.value("--profile").map(Path::of).orElse(null);
    if (profile != null && !Profiler.available()) {
      throw new UsageException("--profile: the native library has no profiler (" + NativeKernels.status() + ")");
    }
    List<Map<String, Object>> rows = new ArrayList<>();
    for (int seqLen : lengths) {
      TrainBench.Shape shape = shape(args, preset, seqLen);
      rows.add(row(gpu, shape, precision, python, script));
      if (profile != null) {
        profile(shape, precision, python, script, profile, args.intValue("--profile-steps", 3));
      }
    }
    if (args.value("--json").isPresent()) {
      Files.writeString(Path.of(args.value("--json").get()), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(rows));
    }
    return 0;
  }

  /**
   * PoSE's promise on the GPU: a step of Lc tokens whose positions reach factor × Lc needs the
   * memory of a plain step of Lc tokens, not of a full-length step of factor × Lc.
   */
  private static int poseMemory(Device gpu, TrainBench.Shape s, Precision precision, int factor) throws IOException {
    System.out.printf("pose memory: hidden %d, %d layers, batch %d, Lc %d, yarn ×%d, %s%n", s.hidden(), s.layers(), s.batch(),
        s.seqLen(), factor, precision.key());
    try (NDManager m = NDManager.newBaseManager(gpu)) {
      m.zeros(new Shape(1)); // the CUDA allocator exists only after a first allocation; its statistics need it
    }
    for (String mode : List.of("pose", "plain", "full")) {
      NativeKernels.resetPeakMemory(gpu);
      try {
        Map<String, Object> r = TrainBench.measure(mode, factor, s, precision);
        System.out.printf("  %-6s %6d tokens, positions up to %6d   peak %6.2f GiB   %.1f ms/step%n", mode,
            mode.equals("full") ? s.seqLen() * factor : s.seqLen(), ((Number) r.get("max_position")).longValue(),
            NativeKernels.peakMemoryBytes(gpu) / (double) (1L << 30), 1000 * ((Number) r.get("seconds_per_step")).doubleValue());
      } catch (RuntimeException | OutOfMemoryError e) {
        System.out.printf("  %-6s failed: %s%n", mode, String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
      }
    }
    return 0;
  }

  /** The preset's shape with the shape flags applied, at {@code seqLen}. */
  private static TrainBench.Shape shape(Args args, TrainBench.Shape preset, int seqLen) {
    return new TrainBench.Shape(args.intValue("--hidden", preset.hidden()), args.intValue("--layers", preset.layers()),
        args.intValue("--heads", preset.heads()), args.intValue("--intermediate", preset.intermediate()),
        args.intValue("--vocab", preset.vocab()), args.intValue("--batch", preset.batch()), seqLen,
        args.intValue("--warmup", preset.warmup()), args.intValue("--steps", preset.steps()), 1);
  }

  private static List<Integer> lengths(String csv) {
    List<Integer> out = new ArrayList<>();
    for (String part : csv.split(",")) {
      try {
        out.add(Integer.parseInt(part.trim()));
      } catch (NumberFormatException e) {
        throw new UsageException("--seq-lens: '" + part.trim() + "' is not a whole number (e.g. 4096,16384)");
      }
    }
    return out;
  }

  /** A script of tools/bench/: the repository's, else the GPU bundle's copy (bundle.sh puts them in bench/). */
  private static String benchScript(String name) {
    Path repo = Path.of("tools/bench", name);
    String bundle = System.getenv("LONGCTX_BUNDLE");
    if (!Files.exists(repo) && bundle != null && Files.exists(Path.of(bundle, "bench", name))) {
      return Path.of(bundle, "bench", name).toString();
    }
    return repo.toString();
  }

  /**
   * {@code --profile DIR}: after a row's timed runs, {@code steps} more steps of each under
   * PyTorch's profiler (torch.profiler in transformers' process, {@link Profiler} here), written
   * as Chrome traces {@code DIR/<shape>-transformers.json} and {@code -longctx.json}, then
   * tools/bench/trace_summary.py prints both side by side: the GPU's busy and idle time per step,
   * kernels launched, host-device copies and synchronisations, the kernels that take the time.
   */
  private static void profile(TrainBench.Shape s, Precision precision, String python, String script, Path dir, int steps)
      throws Exception {
    Files.createDirectories(dir);
    String name = s.hidden() + "x" + s.layers() + "-" + s.batch() + "x" + s.seqLen() + "-" + precision.key();
    Path theirs = dir.resolve(name + "-transformers.json");
    Path ours = dir.resolve(name + "-longctx.json");
    TrainBench.Shape profiled = new TrainBench.Shape(s.hidden(), s.layers(), s.heads(), s.intermediate(), s.vocab(), s.batch(),
        s.seqLen(), s.warmup(), steps, 1);
    System.out.printf("profile: %d steps of each after %d warm-up steps → %s%n", steps, s.warmup(), dir);
    transformers(python, script, profiled, precision, "--profile", theirs.toString());
    TrainBench.measure("train", 1, profiled, precision, ours);
    Process p = new ProcessBuilder(python, benchScript("trace_summary.py"), "--steps", "" + steps,
        "transformers=" + theirs, "longctx=" + ours).redirectErrorStream(true).inheritIO().start();
    if (p.waitFor() != 0) {
      System.out.println("profile: trace_summary.py exited with " + p.exitValue());
    }
  }

  /** One benchmark row: transformers, then longctx, on the same shape; prints both and the ratios. */
  private static Map<String, Object> row(Device gpu, TrainBench.Shape s, Precision precision, String python, String script)
      throws Exception {
    long params = parameterCount(s);
    System.out.printf("train: hidden %d, %d layers, %d heads, MLP %d, vocab %d (%,d parameters); batch %d × %d; %s; "
        + "%d warm-up + %d timed steps%n", s.hidden(), s.layers(), s.heads(), s.intermediate(), s.vocab(), params, s.batch(),
        s.seqLen(), precision.key(), s.warmup(), s.steps());
    try (NDManager m = NDManager.newBaseManager(gpu)) {
      m.zeros(new Shape(1)); // the CUDA allocator exists only after a first allocation; its statistics need it
    }
    // transformers first, in its own process, with this JVM's cached blocks handed back: it must
    // not share the GPU with memory this JVM's allocator still caches from an earlier row
    NativeKernels.resetPeakMemory(gpu);
    JsonNode theirs = transformers(python, script, s, precision);
    Map<String, Object> ours;
    try {
      NativeKernels.resetPeakMemory(gpu);
      ours = TrainBench.measure("train", 1, s, precision);
      ours.put("peak_gib", NativeKernels.peakMemoryBytes(gpu) / (double) (1L << 30));
    } catch (RuntimeException | OutOfMemoryError e) {
      e.printStackTrace();
      ours = new LinkedHashMap<>(Map.of("framework", "longctx", "error", String.valueOf(e.getMessage()).lines().findFirst().orElse("")));
    }
    print("longctx", JSON.valueToTree(ours), params, s);
    print("transformers", theirs, params, s);
    if (ours.containsKey("tokens_per_s") && theirs.has("tokens_per_s")) {
      System.out.printf("  ratio longctx / transformers: %.2f× tokens/s, %.2f× peak memory%n",
          (double) ours.get("tokens_per_s") / theirs.get("tokens_per_s").asDouble(),
          (double) ours.get("peak_gib") / theirs.get("peak_gib").asDouble());
    }
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("shape", s);
    row.put("dtype", precision.key());
    row.put("parameters", params);
    row.put("longctx", ours);
    row.put("transformers", theirs);
    System.out.println("json " + JSON.writeValueAsString(row));
    return row;
  }

  /**
   * MFU two ways: 6·N FLOPs per token (weights only), and PaLM's model FLOPs (Chowdhery et al.
   * 2022, appendix B) that add attention's 12·layers·hidden·seqLen per token — the one that
   * matters at long context, where attention's share grows with the sequence.
   */
  private static void print(String who, JsonNode r, long params, TrainBench.Shape s) {
    if (r.has("error")) {
      System.out.printf("  %-12s failed: %s%n", who, r.get("error").asText());
      return;
    }
    double tps = r.get("tokens_per_s").asDouble();
    double attention = 12.0 * s.layers() * s.hidden() * s.seqLen();
    System.out.printf("  %-12s %,9.0f tokens/s  %7.1f ms/step  MFU %4.1f %% (with attention %4.1f %%)  peak %6.1f GiB  "
        + "loss %.3f → %.3f%n", who, tps, 1000 * r.get("seconds_per_step").asDouble(), 100 * 6.0 * params * tps / PEAK_FLOPS,
        100 * (6.0 * params + attention) * tps / PEAK_FLOPS, r.get("peak_gib").asDouble(), r.get("first_loss").asDouble(),
        r.get("last_loss").asDouble());
  }

  private static JsonNode transformers(String python, String script, TrainBench.Shape s, Precision precision, String... more)
      throws Exception {
    List<String> cmd = new ArrayList<>(List.of(python, script, "--hidden", "" + s.hidden(), "--layers", "" + s.layers(),
        "--heads", "" + s.heads(), "--intermediate", "" + s.intermediate(), "--vocab", "" + s.vocab(), "--batch", "" + s.batch(),
        "--seq-len", "" + s.seqLen(), "--warmup", "" + s.warmup(), "--steps", "" + s.steps(), "--dtype", precision.key()));
    cmd.addAll(List.of(more));
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

  /** Parameters of the untied Llama the benchmark trains. */
  static long parameterCount(TrainBench.Shape s) {
    long h = s.hidden();
    long perLayer = 4 * h * h + 3 * h * s.intermediate() + 2 * h;
    return 2L * s.vocab() * h + s.layers() * perLayer + h;
  }
}
