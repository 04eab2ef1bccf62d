package org.longctx.jobs;

import org.longctx.trainer.model.Precision;
import ai.djl.engine.Engine;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.kernels.Profiler;
import org.longctx.positional.PoseSample;
import org.longctx.positional.PoseSampler;
import org.longctx.positional.RopeConfig;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.ModelConfig;
import org.longctx.trainer.optim.AdamW;
import org.longctx.trainer.recipes.Batch;
import org.longctx.trainer.recipes.Recipe;
import org.longctx.trainer.recipes.TrainingRun;
import org.longctx.trainer.recipes.TrainingSession;
import org.longctx.trainer.TrainConfig;
import org.longctx.trainer.distributed.SingleProcess;
import org.longctx.data.DataConfig;
import ai.djl.Device;

/**
 * The training benchmarks of {@code longctx bench}: {@code train} (tokens/s and peak memory of a
 * training step against PyTorch eager on the same machine) and {@code pose-memory} (peak memory
 * of a PoSE step at Lc with positions up to 8·Lc against a full-length step at 8·Lc).
 *
 * <p>Every measurement runs in a fresh child process, so each peak resident set size (Linux
 * {@code VmHWM}, which only grows) belongs to that one workload. The Java child is
 * {@link #main} of this class; the PyTorch child is {@code tools/bench/torch_train_step.py}.
 */
final class TrainBench {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The model and step both frameworks run. */
  record Shape(int hidden, int layers, int heads, int intermediate, int vocab, int batch, int seqLen, int warmup, int steps,
      int threads) {
    List<String> args() {
      return List.of("--hidden", "" + hidden, "--layers", "" + layers, "--heads", "" + heads, "--intermediate",
          "" + intermediate, "--vocab", "" + vocab, "--batch", "" + batch, "--seq-len", "" + seqLen, "--warmup",
          "" + warmup, "--steps", "" + steps, "--threads", "" + threads);
    }

    static Shape of(Args args, int defaultBatch, int defaultSeqLen, int defaultSteps) {
      Shape s = new Shape(args.intValue("--hidden", 128), args.intValue("--layers", 4), args.intValue("--heads", 4),
          args.intValue("--intermediate", 344), 259, args.intValue("--batch", defaultBatch),
          args.intValue("--seq-len", defaultSeqLen), args.intValue("--warmup", 2), args.intValue("--steps", defaultSteps),
          args.intValue("--threads", Runtime.getRuntime().availableProcessors()));
      if (s.threads < 1 || s.hidden < 2 || s.layers < 1 || s.heads < 1 || s.hidden % s.heads != 0 || s.batch < 1 || s.seqLen < 2
          || s.steps < 1 || s.warmup < 0 || s.intermediate < 1) {
        throw new UsageException("need --hidden divisible by --heads, --layers, --batch, --steps >= 1, --seq-len >= 2");
      }
      return s;
    }
  }

  private TrainBench() {}

  // ---- parents (run by BenchJob) ----

  static int train(Args args) throws Exception {
    if (args.value("--workers").isPresent()) {
      return distributed(args);
    }
    Shape s = Shape.of(args, 8, 512, 5);
    int rounds = args.intValue("--rounds", 3);
    if (rounds < 1) {
      throw new UsageException("--rounds must be >= 1, got " + rounds);
    }
    System.out.printf("bench train: Llama hidden %d, %d layers, %d heads, MLP %d, vocab %d; batch %d × %d tokens; "
        + "%d warm-up + %d timed steps (forward, cross-entropy, backward, clip 1.0, AdamW); %d thread(s) each; "
        + "%d round(s), longctx and PyTorch alternating, best round reported%n",
        s.hidden, s.layers, s.heads, s.intermediate, s.vocab, s.batch, s.seqLen, s.warmup, s.steps, s.threads, rounds);
    Path script = Path.of(args.value("--torch-script").orElse("tools/bench/torch_train_step.py"));
    List<String> python = new ArrayList<>(List.of(args.value("--python").orElse("python3"), script.toString()));
    python.addAll(s.args());
    Map<String, String> torchEnv = Map.of("OMP_NUM_THREADS", "" + s.threads, "OPENBLAS_NUM_THREADS", "" + s.threads,
        "MKL_NUM_THREADS", "" + s.threads);
    List<JsonNode> javaRuns = new ArrayList<>();
    List<JsonNode> torchRuns = new ArrayList<>();
    String torchProblem = null;
    for (int r = 0; r < rounds; r++) {
      javaRuns.add(child(javaCommand("train", s, 0)));
      if (torchProblem == null) {
        try {
          torchRuns.add(child(python, torchEnv));
        } catch (IOException | IllegalStateException e) {
          torchProblem = e.getMessage().lines().findFirst().orElse("");
        }
      }
      System.out.printf("  round %d: longctx %,.0f tokens/s%s%n", r + 1, javaRuns.get(r).get("tokens_per_s").asDouble(),
          torchRuns.size() > r ? String.format(", PyTorch eager %,.0f tokens/s", torchRuns.get(r).get("tokens_per_s").asDouble()) : "");
    }
    JsonNode java = best(javaRuns);
    System.out.printf("  longctx (libtorch %-7s) %,10.0f tokens/s  %6.2f s/step  peak RSS %,6.0f MB  loss %.3f → %.3f%n",
        java.path("engine").asText(), java.get("tokens_per_s").asDouble(), java.get("seconds_per_step").asDouble(),
        java.get("peak_rss_mb").asDouble(), java.get("first_loss").asDouble(), java.get("last_loss").asDouble());
    if (torchRuns.isEmpty()) {
      System.out.println("  PyTorch eager: not measured (" + torchProblem + "); it needs python3 with torch, "
          + "e.g. apt-get install python3-torch and --python /usr/bin/python3");
      writeJson(args, Map.of("benchmark", "train", "longctx", java, "longctx_rounds", javaRuns));
      return 0;
    }
    JsonNode torch = best(torchRuns);
    System.out.printf("  PyTorch eager (%-9s) %,10.0f tokens/s  %6.2f s/step  peak RSS %,6.0f MB  loss %.3f → %.3f%n",
        torch.get("torch").asText(), torch.get("tokens_per_s").asDouble(), torch.get("seconds_per_step").asDouble(),
        torch.get("peak_rss_mb").asDouble(), torch.get("first_loss").asDouble(), torch.get("last_loss").asDouble());
    System.out.printf("  (PyTorch BLAS: %s)%n", torch.path("blas").asText("?"));
    System.out.printf("  ratio longctx / PyTorch eager: %.2f× tokens/s, %.2f× peak memory%n",
        java.get("tokens_per_s").asDouble() / torch.get("tokens_per_s").asDouble(),
        java.get("peak_rss_mb").asDouble() / torch.get("peak_rss_mb").asDouble());
    writeJson(args, Map.of("benchmark", "train", "longctx", java, "pytorch_eager", torch, "longctx_rounds", javaRuns,
        "pytorch_eager_rounds", torchRuns));
    return 0;
  }

  /**
   * {@code bench train --workers N}: the same model and global batch trained by N replicas on
   * the Spark master's executors (the ring, as {@code longctx train} with
   * {@code distributed.workers: N} runs it); each replica takes {@code batch / N} rows. Reports
   * the step time of the timed steps (rank 0's metrics) split into the gradient exchange
   * (copies and ring all-reduce, waiting for the slower replica included) and the rest
   * (forward, backward, optimizer).
   */
  static int distributed(Args args) throws Exception {
    Shape s = Shape.of(args, 8, 512, 3);
    int workers = args.intValue("--workers", 2);
    if (workers < 2 || s.batch % workers != 0 || s.warmup < 1) {
      throw new UsageException("--workers must be >= 2 and divide --batch " + s.batch + " (got " + workers + "), and --warmup >= 1");
    }
    String master = args.value("--master").orElseThrow(() -> new UsageException(
        "--workers needs --master (spark://host:7077, yarn, k8s://..., local-cluster[N,1,4096]); one JVM cannot hold two replicas"));
    Path out = Files.createTempDirectory("longctx-bench-train-dp");
    try {
      String yaml = """
          name: bench-train-dp
          output: {dir: '%s'}
          spark: {master: '%s'}
          model:
            init: {vocab_size: %d, hidden_size: %d, intermediate_size: %d, num_hidden_layers: %d, num_attention_heads: %d, max_position_embeddings: %d}
          train:
            recipe: pretrain
            steps: %d
            lr: 1.0e-4
            batch_size: %d
            seq_len: %d
            checkpoint_every: 0
            keep_checkpoints: 1
            log_every: 1
            export_at_end: false
            synthetic: {fraction: 1.0, tasks: {copy: 1.0}, min_chars: %d, max_chars: %d}
          distributed: {workers: %d, timeout_s: 1800}
          """.formatted(out.resolve("run"), master, s.vocab, s.hidden, s.intermediate, s.layers, s.heads, s.seqLen, s.warmup + s.steps,
          s.batch / workers, s.seqLen, s.seqLen, 2 * s.seqLen, workers);
      org.longctx.jobs.config.ExperimentConfig config = org.longctx.jobs.config.ConfigLoader.parse(yaml, "bench train --workers",
          List.of());
      System.out.printf("bench train --workers %d on %s: Llama hidden %d, %d layers, %d heads, MLP %d, vocab %d; global batch %d × %d "
          + "tokens (%d per replica); %d warm-up + %d timed steps%n", workers, master, s.hidden, s.layers, s.heads, s.intermediate,
          s.vocab, s.batch, s.seqLen, s.batch / workers, s.warmup, s.steps);
      org.longctx.jobs.spark.DistributedTraining.Outcome o = org.longctx.jobs.spark.DistributedTraining.train(config, false);
      List<Double> elapsed = new ArrayList<>();
      for (String line : Files.readAllLines(out.resolve("run/metrics.jsonl"))) {
        elapsed.add(JSON.readTree(line).get("elapsed_s").asDouble());
      }
      double stepSeconds = (elapsed.get(elapsed.size() - 1) - elapsed.get(s.warmup - 1)) / s.steps;
      double exchange = o.gradientSeconds().subList(s.warmup, o.gradientSeconds().size()).stream()
          .mapToDouble(Double::doubleValue).sum() / s.steps;
      long parameters = 0;
      try (org.longctx.checkpoints.safetensors.SafetensorsReader r = org.longctx.checkpoints.safetensors.SafetensorsReader.open(
          out.resolve("run/checkpoints").resolve(org.longctx.checkpoints.training.CheckpointStore.directoryName(s.warmup + s.steps)))) {
        for (String name : r.names()) {
          parameters += r.info(name).elements();
        }
      }
      System.out.printf(java.util.Locale.ROOT, "  %,d parameters (%.0f MB of float32 gradient per step)%n", parameters, parameters * 4 / 1e6);
      System.out.printf(java.util.Locale.ROOT, "  step %.2f s = compute %.2f s + gradient exchange %.3f s (%.1f %% communication)%n",
          stepSeconds, stepSeconds - exchange, exchange, 100 * exchange / stepSeconds);
      Map<String, Object> figures = new LinkedHashMap<>();
      figures.put("benchmark", "train-distributed");
      figures.put("workers", workers);
      figures.put("master", master);
      figures.put("parameters", parameters);
      figures.put("global_batch", s.batch);
      figures.put("seq_len", s.seqLen);
      figures.put("step_s", stepSeconds);
      figures.put("gradient_exchange_s", exchange);
      figures.put("communication_share", exchange / stepSeconds);
      figures.put("gradient_exchange_per_step_s", o.gradientSeconds());
      writeJson(args, figures);
      return 0;
    } finally {
      org.longctx.checkpoints.Storage.deleteTree(out);
    }
  }

  /** The round with the most tokens/s: the one least disturbed by whatever else the machine ran. */
  private static JsonNode best(List<JsonNode> runs) {
    JsonNode best = runs.get(0);
    for (JsonNode r : runs) {
      if (r.get("tokens_per_s").asDouble() > best.get("tokens_per_s").asDouble()) {
        best = r;
      }
    }
    return best;
  }

  static int poseMemory(Args args) throws Exception {
    Shape s = Shape.of(args, 1, 512, 2);
    int factor = args.intValue("--factor", 8);
    if (factor < 2) {
      throw new UsageException("--factor must be >= 2, got " + factor);
    }
    System.out.printf("bench pose-memory: Llama hidden %d, %d layers, %d heads; batch %d; yarn ×%d; %d warm-up + %d steps each%n",
        s.hidden, s.layers, s.heads, s.batch, factor, s.warmup, s.steps);
    JsonNode pose = child(javaCommand("pose", s, factor));
    JsonNode plain = child(javaCommand("plain", s, factor));
    JsonNode full = child(javaCommand("full", s, factor));
    System.out.printf("  PoSE step:        %6d tokens, positions up to %6d   peak RSS %,8.0f MB   %.2f s/step%n",
        s.seqLen, pose.get("max_position").asLong(), pose.get("peak_rss_mb").asDouble(), pose.get("seconds_per_step").asDouble());
    System.out.printf("  plain step at Lc: %6d tokens, positions up to %6d   peak RSS %,8.0f MB   %.2f s/step%n",
        s.seqLen, plain.get("max_position").asLong(), plain.get("peak_rss_mb").asDouble(), plain.get("seconds_per_step").asDouble());
    System.out.printf("  full-length step: %6d tokens, positions up to %6d   peak RSS %,8.0f MB   %.2f s/step%n",
        s.seqLen * factor, full.get("max_position").asLong(), full.get("peak_rss_mb").asDouble(), full.get("seconds_per_step").asDouble());
    System.out.printf("  PoSE uses %.2f× the memory of the full-length step (%.0f MB at Lc vs %.0f MB at %d·Lc)%n",
        pose.get("peak_rss_mb").asDouble() / full.get("peak_rss_mb").asDouble(), pose.get("peak_rss_mb").asDouble(),
        full.get("peak_rss_mb").asDouble(), factor);
    writeJson(args, Map.of("benchmark", "pose-memory", "pose", pose, "plain_at_lc", plain, "full_length", full));
    return 0;
  }

  private static void writeJson(Args args, Map<String, Object> figures) throws IOException {
    if (args.value("--json").isPresent()) {
      Files.writeString(Path.of(args.required("--json")),
          JSON.writerWithDefaultPrettyPrinter().writeValueAsString(new LinkedHashMap<>(figures)) + "\n");
    }
  }

  /** This JVM's flags and classpath, running {@link #main} in {@code mode}. */
  private static List<String> javaCommand(String mode, Shape s, int factor) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (!a.startsWith("-Xmx") && !a.startsWith("-agentlib") && !a.startsWith("-javaagent")) {
        cmd.add(a);
      }
    }
    cmd.add("-Xmx2g");
    cmd.add("-Dai.djl.pytorch.num_threads=" + s.threads);
    cmd.add("-Dai.djl.pytorch.num_interop_threads=1");
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TrainBench.class.getName(), mode, "" + factor));
    cmd.addAll(s.args());
    return cmd;
  }

  /** Runs a child that prints one JSON line last; fails with its output when it fails. */
  private static JsonNode child(List<String> command) throws IOException, InterruptedException {
    return child(command, Map.of());
  }

  private static JsonNode child(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().putAll(env);
    Process p = builder.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(3600, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(command.get(0) + " failed (exit " + p.exitValue() + "): " + tail(out));
    }
    String last = out.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b)
        .orElseThrow(() -> new IllegalStateException("no JSON result from " + command.get(0) + ": " + tail(out)));
    return JSON.readTree(last);
  }

  private static String tail(String s) {
    List<String> lines = s.lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 8), lines.size()));
  }

  // ---- the Java child ----

  /**
   * {@code TrainBench MODE FACTOR --hidden H ...}: runs the steps, prints one JSON line. Modes:
   * {@code train} (the model at window seq_len), and on the model extended to factor × seq_len:
   * {@code pose} (seq_len tokens, PoSE positions), {@code plain} (seq_len tokens, positions
   * 0 … seq_len − 1), {@code full} (factor × seq_len tokens).
   */
  public static void main(String[] argv) throws Exception {
    String mode = argv[0];
    int factor = Integer.parseInt(argv[1]);
    Map<String, Integer> a = new LinkedHashMap<>();
    for (int i = 2; i + 1 < argv.length; i += 2) {
      a.put(argv[i].substring(2), Integer.parseInt(argv[i + 1]));
    }
    Shape s = new Shape(a.get("hidden"), a.get("layers"), a.get("heads"), a.get("intermediate"), a.get("vocab"), a.get("batch"),
        a.get("seq-len"), a.get("warmup"), a.get("steps"), a.get("threads"));
    Map<String, Object> out = measure(mode, factor, s, Precision.FLOAT32);
    out.put("peak_rss_mb", peakRssMb());
    System.out.println(JSON.writeValueAsString(out));
    System.exit(0);
  }

  /**
   * Runs {@code warmup + steps} steps of the real training loop ({@link TrainingSession}) on random
   * tokens on the engine's default device and returns the figures of the timed steps. Modes as
   * in {@link #main}.
   */
  static Map<String, Object> measure(String mode, int factor, Shape s, Precision precision) throws IOException {
    return measure(mode, factor, s, precision, null);
  }

  /**
   * {@link #measure(String, int, Shape, Precision)} with the profiler recording the {@code s.steps}
   * steps after the warm-up into {@code trace} (a Chrome trace; {@code bench gpu --profile}): the
   * loop runs one step more, and recording stops when that step's batch is made, after the
   * device has finished the profiled steps. Its timings include the profiler's own cost.
   *
   * @param trace null: no profiling
   */
  static Map<String, Object> measure(String mode, int factor, Shape s, Precision precision, Path trace) throws IOException {
    int tokens = mode.equals("full") ? s.seqLen * factor : s.seqLen;
    int window = mode.equals("train") ? s.seqLen : s.seqLen * factor;
    RopeConfig rope = mode.equals("train") ? null : RopeConfig.builder("yarn").factor((double) factor).originalMaxPositionEmbeddings(s.seqLen).build();
    ModelConfig.Init init = new ModelConfig.Init(s.vocab, s.hidden, s.intermediate, s.layers, s.heads, s.heads, window, 10000.0,
        1e-5, false, 0.02, null, null, null);
    LlamaConfig config = TrainingSession.initConfig(init, rope, TokenizerSpec.byteLevel());
    SplittableRandom random = new SplittableRandom(0);
    PoseSampler sampler = new PoseSampler(s.seqLen, s.seqLen * Math.max(1, factor));
    long[] maxPosition = {0};
    // the real step loop (TrainingSession + TrainingLoop) on random tokens: AdamW, clip 1.0, constant lr
    Recipe bench = new Recipe() {
      @Override
      public String name() {
        return "pretrain";
      }

      @Override
      public void validate(TrainingRun run) {}

      @Override
      public LlamaConfig modelConfig(TrainingRun run, TokenizerSpec tokenizer) {
        return config;
      }

      @Override
      public LlamaModel freshModel(TrainingRun run, LlamaConfig c, Precision precision, Device device) {
        return LlamaModel.random(c, precision, device, 0, 0.02);
      }

      @Override
      public MicroBatches start(TrainingSession session) {
        int[] batches = {0};
        return scope -> {
          if (trace != null && batches[0] == s.warmup) {
            Profiler.start(session.model().device());
          } else if (trace != null && batches[0] == s.warmup + s.steps) {
            Profiler.stop(session.model().device(), trace);
          }
          batches[0]++;
          List<int[]> rows = new ArrayList<>();
          List<long[]> positions = mode.equals("pose") ? new ArrayList<>() : null;
          for (int b = 0; b < s.batch; b++) {
            int[] row = new int[tokens];
            for (int t = 0; t < tokens; t++) {
              row[t] = random.nextInt(s.vocab);
            }
            rows.add(row);
            if (positions != null) {
              PoseSample sample = sampler.sampleReference(tokens * factor / 2, random);
              positions.add(sample.positionIds());
              rows.set(b, java.util.Arrays.copyOf(row, sample.length()));
              maxPosition[0] = Math.max(maxPosition[0], sample.positionIds()[sample.length() - 1]);
            } else {
              maxPosition[0] = tokens - 1;
            }
          }
          return Recipe.of(Batch.of(rows, positions, 0), session.model(), scope);
        };
      }
    };
    int total = s.warmup + s.steps + (trace == null ? 0 : 1);
    // cpu_threads 0: the bench's own --threads (set for the whole process) governs, as on the PyTorch side
    TrainConfig train = new TrainConfig("pretrain", total, 1e-3, 0, s.batch, 1, tokens, "split", "constant", 0, 1.0, 0.1, 0.9,
        0.95, 1e-8, 1.0, 0, 1, Math.max(1, total), false, "float32", 0, new TrainConfig.Synthetic(1.0, Map.of("passkey", 1.0), 256,
        512, 5));
    Path work = Files.createTempDirectory("longctx-bench-train");
    TrainingRun run = new TrainingRun(train, new ModelConfig("", precision.key(), 0, init), DataConfig.defaults(), rope, null, null, work,
        false, null, null);
    List<Double> losses;
    try (TrainingSession session = TrainingSession.open(run, bench, SingleProcess.INSTANCE, Engine.getInstance().defaultDevice())) {
      losses = session.train().losses();
    }
    // seconds of the measured steps, from the loop's own per-step metrics (warm-up steps left out)
    double seconds = 0;
    for (String line : Files.readAllLines(work.resolve("metrics.jsonl"))) {
      JsonNode m = JSON.readTree(line);
      long step = m.get("step").asLong();
      if (step > s.warmup && step <= s.warmup + s.steps) {
        seconds += m.get("tokens").asDouble() / m.get("tokens_per_s").asDouble();
      }
    }
    org.longctx.checkpoints.Storage.deleteTree(work);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("framework", "longctx");
    out.put("engine", Engine.getInstance().getVersion());
    out.put("mode", mode);
    out.put("dtype", precision.key());
    out.put("tokens", tokens);
    out.put("max_position", maxPosition[0]);
    out.put("steps", s.steps);
    out.put("threads", s.threads);
    out.put("tokens_per_s", (double) s.steps * s.batch * tokens / seconds);
    out.put("seconds_per_step", seconds / s.steps);
    out.put("first_loss", losses.get(0));
    out.put("last_loss", losses.get(losses.size() - 1));
    return out;
  }

  /** Linux VmHWM: the most resident memory this process has had. */
  static double peakRssMb() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    }
    return Double.NaN;
  }
}
