package org.longctx.jobs;

import org.longctx.trainer.model.ModelWeights;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.SparkSession;
import org.longctx.checkpoints.Storage;
import org.longctx.data.prepare.PreparePipeline;
import org.longctx.data.tokenizer.ByteLevelTokenizer;
import org.longctx.jobs.config.ConfigException;
import org.longctx.jobs.config.ConfigLoader;
import org.longctx.jobs.config.ExperimentConfig;
import org.longctx.jobs.report.EvalReport;
import org.longctx.jobs.spark.SparkSessions;
import org.longctx.positional.RopeConfig;
import org.longctx.search.SearchConfig;
import org.longctx.trainer.EvalConfig;
import org.longctx.trainer.HfExport;
import org.longctx.trainer.eval.EvalResults;
import org.longctx.trainer.recipes.StopSignal;

/**
 * The project's main job in one command: makes held-out documents and prepares them on the
 * embedded Spark, PoSE-fine-tunes the tiny base model to 4× its window, exports the result as a
 * Hugging Face folder, searches LongRoPE factors, trains FoT memory layers into the base model,
 * evaluates the methods of {@link DemoMethod#ALL} on the same prompts and documents, checks each
 * one's claim and writes the report — each stage through the same code as its own subcommand, in
 * this process.
 *
 * <pre>Usage: longctx demo [--config X.yaml] [--set key=value]...</pre>
 */
public final class DemoJob {
  static final String USAGE = """
      Usage: longctx demo [--config X.yaml] [--set key=value]... [--fot-set key=value]... [--base-steps N] [--retrain-base]

      Runs the whole pipeline on the embedded Spark, sized for a laptop (2 cores, < 10 minutes):
        1. synth        held-out pass-key and copy documents (the kinds PoSE trains on)  OUT/synth/
        2. prepare      tokenized into Arrow shards (local Spark): eval's perplexity documents  OUT/prepared/
        3. base         the tiny base model (window 512): model.path, or else trained here with
                        configs/train-tiny-pretrain.yaml for --base-steps  OUT/base/
        4. pose         PoSE fine-tuning of the base model to pose.target_len (one CPU thread)  OUT/pose/
        5. search       beside 4: LongRoPE's factor search on the base model (search:, small)  OUT/search/
        6. eval-base    beside 4: passkey accuracy and perplexity by length for the methods on the
                        base model (eval.methods: base, yarn, SelfExtend; the searched factors)
        7. fot          beside 4, after 6: Focused Transformer fine-tuning of the base model
                        (memory layers; configs/train-tiny-fot.yaml, one CPU thread, in a child
                        JVM; its log OUT/fot.log)  OUT/fot/
        8. export       the PoSE model as a Hugging Face folder                OUT/pose-hf/
        9. eval-trained the same for the PoSE and FoT models, on the same prompts and documents
                        (FoT also at 8× the window, the length its claim needs)
       10. report       results.json, report.html, PNG charts; each method's claim checked  OUT/report/
      OUT is output.dir (runs/demo). Each run starts these folders afresh, except a base model
      trained by an earlier run (OUT/base/hf), which is reused unless --retrain-base.

      Without --config the settings are the copy of configs/demo.yaml built into longctx.
      --set overrides any key, e.g. --set train.steps=20 --set eval.trials=2
      --set model.path=DIR   start from this base model instead of training one
      --fot-set key=value    overrides a key of the FoT stage's config (configs/train-tiny-fot.yaml,
                             built in), e.g. --fot-set train.steps=100
      --base-steps N         pretraining steps when the demo trains the base (default 200;
                             configs/train-tiny-pretrain.yaml runs 300)
      --retrain-base         train the base again even if OUT/base/hf exists
      """;

  public static final Subcommand COMMAND = new Subcommand(
      "demo", USAGE,
      Set.of("--retrain-base"), Set.of("--config", "--set", "--fot-set", "--base-steps"), DemoJob::run);

  /** The built-in settings: configs/demo.yaml, copied into the jar at build time. */
  static final String BUILT_IN_CONFIG = "/org/longctx/jobs/demo.yaml";
  /** How the demo trains a base model when model.path is empty: configs/train-tiny-pretrain.yaml, built in. */
  static final String BUILT_IN_PRETRAIN = "/org/longctx/jobs/train-tiny-pretrain.yaml";
  /** How the demo gives the base model memory layers: configs/train-tiny-fot.yaml, built in. */
  static final String BUILT_IN_FOT = "/org/longctx/jobs/train-tiny-fot.yaml";
  /** Pretraining steps of a base the demo trains (the config's 300 do not fit the demo's time). */
  static final int DEFAULT_BASE_STEPS = 200;

  /** The demo's stages, for the progress lines. */
  static final List<String> STAGES = List.of("synth", "prepare", "base", "pose", "search", "eval-base", "fot", "export", "eval-trained",
      "report");

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private DemoJob() {}

  public static void main(String[] args) {
    Subcommand.main(COMMAND, args);
  }

  static int run(Args args) throws Exception {
    args.noPositionals();
    List<String> overrides = args.values("--set");
    String yaml;
    String source;
    if (args.value("--config").isPresent()) {
      Path file = Path.of(args.required("--config"));
      if (!Files.isRegularFile(file)) {
        throw new ConfigException("config file not found: " + file);
      }
      yaml = Files.readString(file);
      source = file.toString();
    } else {
      yaml = builtInConfig();
      source = "configs/demo.yaml (built in)";
    }
    int baseSteps = args.intValue("--base-steps", DEFAULT_BASE_STEPS);
    if (baseSteps < 1) {
      throw new UsageException("--base-steps must be >= 1, got " + baseSteps);
    }
    return demo(yaml, source, overrides, new BaseOptions(baseSteps, args.flag("--retrain-base")), args.values("--fot-set"), System.out);
  }

  /** Set by bin/longctx to the project folder, where the committed models/ live. */
  static final String HOME_PROPERTY = "longctx.home";

  /**
   * Where the base model is: {@code path} as given when it exists (relative to the working
   * folder) or is absolute; a relative path that does not exist here is looked up under the
   * project folder {@code home}, so the built-in {@code models/tiny-base} is found wherever
   * bin/longctx is started from. Empty stays empty (the demo trains a base).
   */
  static String baseModelPath(String path, String home) {
    if (path.isEmpty() || Path.of(path).isAbsolute() || Files.exists(Path.of(path)) || home == null || home.isEmpty()) {
      return path;
    }
    Path underHome = Path.of(home).resolve(path);
    return Files.exists(underHome) ? underHome.toString() : path;
  }

  /** How to get a base model when model.path is empty. */
  record BaseOptions(int steps, boolean retrain) {}

  static String builtInConfig() throws IOException {
    return resource(BUILT_IN_CONFIG);
  }

  static String resource(String name) throws IOException {
    try (InputStream in = DemoJob.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("the built-in config " + name + " is missing from this build");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** What the demo made, where. */
  record Layout(Path root, Path tokenizer, Path synth, Path prepared, Path base, Path pose, Path poseHf, Path search, Path report,
      Path fot) {
    static Layout under(Path root) {
      Path r = root.toAbsolutePath().normalize();
      return new Layout(r, r.resolve("tokenizer"), r.resolve("synth"), r.resolve("prepared"), r.resolve("base"),
          r.resolve("pose"), r.resolve("pose-hf"), r.resolve("search"), r.resolve("report"), r.resolve("fot"));
    }

    /** What every run replaces (the trained base is kept for the next run). */
    List<Path> owned() {
      return List.of(tokenizer, synth, prepared, pose, poseHf, search, report, fot, fotConfig(), fotLog(), root.resolve("demo.json"));
    }

    /** The FoT model's Hugging Face folder (the fot stage exports at its end). */
    Path fotHf() {
      return fot.resolve("hf");
    }

    /** The FoT stage's config, as its training process reads it. */
    Path fotConfig() {
      return root.resolve("fot.yaml");
    }

    /** The FoT training process's output. */
    Path fotLog() {
      return root.resolve("fot.log");
    }

    /** The Hugging Face folder of a base model the demo trained. */
    Path baseHf() {
      return base.resolve("hf");
    }
  }

  /**
   * Runs every stage. Stage configs are the demo's config with the folders of {@link Layout}
   * laid over it as {@code --set} overrides, so each stage reads exactly what the previous
   * one wrote.
   *
   * @param fotOverrides {@code --fot-set}: overrides of the fot stage's config (configs/train-tiny-fot.yaml)
   */
  static int demo(String yaml, String source, List<String> overrides, BaseOptions baseOptions, List<String> fotOverrides,
      PrintStream out) throws Exception {
    long start = System.nanoTime();
    ExperimentConfig config = ConfigLoader.parse(yaml, source, overrides);
    Layout layout = Layout.under(Path.of(config.output().resolveDir(config.name())));
    String givenBase = baseModelPath(config.model().path(), System.getProperty(HOME_PROPERTY));
    if (!givenBase.isEmpty() && !Files.exists(Path.of(givenBase))) {
      throw new ConfigException("model.path: the base model " + givenBase + " does not exist; leave model.path empty and the demo"
          + " trains one");
    }
    int lt = config.pose().targetLen();
    out.printf(Locale.ROOT, "longctx demo: %s → PoSE %d → %d tokens, output in %s (config: %s)%n",
        givenBase.isEmpty() ? "a tiny base model" : givenBase, config.train().seqLen(), lt, layout.root(), source);
    for (Path p : layout.owned()) {
      Storage.deleteTree(p);
    }
    if (givenBase.isEmpty() && baseOptions.retrain()) {
      Storage.deleteTree(layout.base());
    }
    Files.createDirectories(layout.root());
    Map<String, Double> seconds = new LinkedHashMap<>();

    // 1. held-out documents of the kinds PoSE trains on (train.synthetic.tasks), written by the synth subcommand
    EvalConfig evalSettings = config.eval();
    int documents = evalSettings.perplexityDocuments();
    List<String> kinds = perplexityKinds(config.train().synthetic().tasks().keySet());
    long t = stage(out, "synth", documents + " held-out " + String.join(" and ", kinds) + " documents for perplexity");
    ByteLevelTokenizer.writeTo(layout.tokenizer());
    int longest = evalSettings.resolvedPerplexityLengths().stream().mapToInt(Integer::intValue).max().orElse(lt);
    for (int k = 0; k < kinds.size(); k++) {
      int count = documents / kinds.size() + (k < documents % kinds.size() ? 1 : 0);
      if (count > 0) {
        // seeded by eval.seed: training draws its synthetic documents with a seed derived from train.seed
        // and a salt (TrainingData), so none of these is a training document
        subcommand(SynthJob.COMMAND, out, "--task", kinds.get(k), "--count", String.valueOf(count), "--length", String.valueOf(longest),
            "--seed", String.valueOf(evalSettings.seed()), "--out", layout.synth().resolve(kinds.get(k) + ".jsonl.zst").toString());
      }
    }
    seconds.put("synth", done(out, t));

    List<String> stageOverrides = new ArrayList<>(overrides);
    stageOverrides.add("data.inputs=[" + quoted(layout.synth().resolve("*.jsonl.zst")) + "]");
    stageOverrides.add("data.tokenizer=" + quoted(layout.tokenizer()));
    stageOverrides.add("data.prepared=" + quoted(layout.prepared()));
    stageOverrides.add("eval.perplexity_data=" + quoted(layout.prepared()));
    if (config.eval().tokenizer().isEmpty()) {
      stageOverrides.add("eval.tokenizer=" + quoted(layout.tokenizer()));
    }
    stageOverrides.add("output.dir=" + quoted(layout.pose()));
    stageOverrides.add("output.overwrite=true");
    ExperimentConfig staged = ConfigLoader.parse(yaml, source, stageOverrides);

    EvalResults results;
    try (SparkSession spark = SparkSessions.create(config.spark(), "demo")) {
      // 2. prepare on the embedded Spark
      t = stage(out, "prepare", "tokenize into Arrow shards on " + spark.sparkContext().master() + " (eval's perplexity documents)");
      staged.data().checkReadyToPrepare();
      out.println(PrepareJob.summary(PreparePipeline.run(spark, staged.data(), true)));
      seconds.put("prepare", done(out, t));

      // 3. the base model: given, kept from an earlier run, or trained now
      String baseModel = givenBase;
      if (!givenBase.isEmpty()) {
        t = stage(out, "base", givenBase);
      } else if (Files.exists(layout.baseHf().resolve("config.json"))) {
        baseModel = layout.baseHf().toString();
        t = stage(out, "base", "reusing " + baseModel + " from an earlier run (--retrain-base trains it again)");
      } else {
        baseModel = layout.baseHf().toString();
        t = stage(out, "base", "pretraining the tiny base model, " + baseOptions.steps() + " steps (configs/train-tiny-pretrain.yaml)");
        int status = TrainJob.train(pretrainConfig(layout, baseOptions.steps()), false, StopSignal.manual());
        if (status != 0) {
          out.println("base: training stopped early (status " + status + "); the demo ends here");
          return status;
        }
      }
      out.println("  " + describeModel(baseModel));
      seconds.put("base", done(out, t));
      stageOverrides.add("model.path=" + quoted(Path.of(baseModel).toAbsolutePath()));
      staged = ConfigLoader.parse(yaml, source, stageOverrides);
      // checked now, not after PoSE: a bad --fot-set ends the demo before it trains
      List<String> fotSets = fotOverrides(layout, Path.of(baseModel).toAbsolutePath(), fotOverrides);
      ExperimentConfig fot = fotConfig(fotSets);
      int window = baseWindow(baseModel);

      // 4–7 side by side: PoSE trains on this thread with one CPU thread (train.cpu_threads, for
      // reproducible weights), so a second thread runs the LongRoPE search and evaluates the methods on
      // the base model as Spark tasks on the cores training leaves, then trains FoT (one thread too)
      // on the core the evaluation leaves; the PoSE and FoT models are evaluated after.
      ExperimentConfig base = staged;
      ExecutorService beside = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "demo-beside-pose");
        thread.setDaemon(true);
        return thread;
      });
      t = stage(out, "pose", "PoSE fine-tuning, " + config.train().steps() + " steps of " + config.train().batchSize() + " × "
          + config.train().seqLen() + " tokens with positions up to " + lt + " (the search, the base model's evaluation and FoT run beside it)");
      Future<BesidePose> besidePose = beside.submit(() -> besidePose(spark, base, fot, fotSets, window, layout, out));
      List<EvalJob.Outputs> later;
      BesidePose early;
      try {
        int status = TrainJob.train(staged, false, StopSignal.manual());
        if (status != 0) {
          out.println("pose: training stopped early (status " + status + "); the demo ends here");
          return status;
        }
        seconds.put("pose", done(out, t));

        // 8. export the PoSE model
        t = stage(out, "export", "Hugging Face folder with the trained rope");
        HfExport.Result exported = HfExport.export(Storage.path(layout.pose().resolve("checkpoints")), Storage.path(layout.poseHf()),
            "float32", HfExport.parseSize("5GB"), Storage.path(layout.tokenizer()), Storage.defaultConf());
        out.println("  " + exported.folder() + ": " + String.join(", ", exported.files()));
        seconds.put("export", done(out, t));

        // 9. evaluation of the methods on trained models, once the stages beside PoSE are done
        early = awaitBesidePose(besidePose, out);
        t = stage(out, "eval-trained", "passkey and perplexity by length for the methods on trained models");
        List<EvalConfig.Method> trained = demoMethods(staged, early.searched(), layout).stream().filter(m -> !m.model().isEmpty()).toList();
        later = evaluate(spark, staged, trained, window, out);
        seconds.put("eval-trained", done(out, t));
      } finally {
        beside.shutdownNow();
      }
      early.seconds().forEach(seconds::put);
      Map<String, Object> facts = new LinkedHashMap<>();
      GitCommit.of(Path.of("")).ifPresent(c -> facts.put("commit", c));
      List<EvalJob.Outputs> parts = new ArrayList<>(early.outputs());
      parts.addAll(later);
      results = EvalJob.assemble(spark.sparkContext().master(), parts, facts);
    }

    // 10. report
    t = stage(out, "report", "results.json, report.html, charts");
    List<Path> files = EvalReport.write(results, layout.report(), config.name());
    seconds.put("report", done(out, t));
    double total = (System.nanoTime() - start) / 1e9;
    seconds.put("total", Math.round(total * 10) / 10.0);
    Map<String, Double> times = inStageOrder(seconds); // the stages beside PoSE reported their times after it

    out.println();
    out.println(EvalJob.summary(results));
    List<String> verdicts = verdicts(results);
    verdicts.forEach(v -> out.println(v));
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("seconds", times);
    summary.put("targets", verdicts);
    summary.put("report", layout.report().resolve(EvalReport.HTML).toString());
    Files.writeString(layout.root().resolve("demo.json"), JSON.writeValueAsString(summary) + "\n");
    out.println();
    out.printf(Locale.ROOT, "demo finished in %.0f s (%s)%n", total, stageTimes(times));
    out.println("  report:       " + layout.report().resolve(EvalReport.HTML));
    out.println("  results:      " + layout.report().resolve(EvalReport.RESULTS));
    out.println("  charts:       " + files.stream().filter(f -> f.toString().endsWith(".png")).map(f -> f.getFileName().toString()).toList());
    out.println("  PoSE model:   " + layout.poseHf() + "  (Hugging Face folder; checkpoints in " + layout.pose().resolve("checkpoints") + ")");
    out.println("  FoT model:    " + layout.fotHf() + "  (Hugging Face folder, LongLLaMA's format)");
    out.println("  training log: " + layout.pose().resolve("metrics.jsonl"));
    out.println("  data:         " + layout.synth() + " → " + layout.prepared());
    return 0;
  }

  /**
   * What ran beside PoSE: the searched LongRoPE factors (null when the search was skipped), the
   * evaluation of the methods on the base model (one part per set of passkey lengths; none when
   * there were no methods), and the stages' seconds.
   */
  record BesidePose(RopeConfig searched, List<EvalJob.Outputs> outputs, Map<String, Double> seconds) {}

  /**
   * Stages 5–7, on the thread beside PoSE: LongRoPE's search, the methods on the base model, then
   * the FoT fine-tune, which trains on one thread like PoSE and so goes after the evaluation's
   * Spark tasks, which take every core PoSE leaves.
   */
  private static BesidePose besidePose(SparkSession spark, ExperimentConfig staged, ExperimentConfig fot, List<String> fotSets, int window,
      Layout layout, PrintStream out) throws Exception {
    Map<String, Double> seconds = new LinkedHashMap<>();
    RopeConfig searched = null;
    if (staged.search().targetLength() > 0) {
      // a small factor search on the base model, training-free (skipped when search.target_length is 0)
      SearchConfig sc = staged.search();
      long t = stage(out, "search", "LongRoPE factors for " + sc.targetLength() + " tokens, no training (" + sc.population() + " + "
          + sc.iterations() + " × " + (sc.mutations() + sc.crossovers()) + " candidates), beside PoSE");
      SearchJob.Result found = SearchJob.execute(spark, SearchJob.prepare(staged), layout.search(), out);
      out.println("  " + found.summary());
      searched = found.factors().toRopeConfig(0);
      seconds.put("search", done(out, "search", t));
    }
    List<EvalConfig.Method> onBase = demoMethods(staged, searched, layout).stream().filter(m -> m.model().isEmpty()).toList();
    List<EvalJob.Outputs> outputs = List.of();
    if (!onBase.isEmpty()) {
      long t = stage(out, "eval-base", "passkey and perplexity by length for the methods on the base model, beside PoSE");
      outputs = evaluate(spark, staged, onBase, window, out);
      seconds.put("eval-base", done(out, "eval-base", t));
    }
    long t = stage(out, "fot", "Focused Transformer fine-tuning, " + fot.train().steps() + " steps of " + fot.train().batchSize() + " × "
        + fot.train().seqLen() + " tokens, memory layers " + fot.fot().memLayers() + ", beside PoSE in its own process (log: "
        + layout.fotLog() + ")");
    Files.writeString(layout.fotConfig(), resource(BUILT_IN_FOT));
    int status = trainInChildProcess(layout.fotConfig(), fotSets, layout.fotLog());
    if (status != 0) {
      throw new IllegalStateException("fot: training failed (status " + status + "); its log: " + layout.fotLog());
    }
    seconds.put("fot", done(out, "fot", t));
    return new BesidePose(searched, outputs, seconds);
  }

  /**
   * Evaluates {@code methods}, each at the passkey lengths its entry needs
   * ({@link DemoMethod#passkeyLengths}): one evaluation per set of lengths, in the methods' order
   * (a method whose claim needs a longer prompt gets it alone; the others share the grid).
   */
  static List<EvalJob.Outputs> evaluate(SparkSession spark, ExperimentConfig staged, List<EvalConfig.Method> methods, int window,
      PrintStream out) throws Exception {
    List<EvalJob.Outputs> parts = new ArrayList<>();
    for (Map.Entry<List<Integer>, List<EvalConfig.Method>> part : byPasskeyLengths(methods, staged.eval().lengths(), window).entrySet()) {
      EvalConfig eval = staged.eval().withLengths(part.getKey()).withMethods(part.getValue());
      parts.add(EvalJob.run(spark, EvalJob.prepare(withEval(staged, eval)), out));
    }
    return parts;
  }

  /** {@code methods} grouped by the passkey lengths their entries need, in the methods' order. */
  static Map<List<Integer>, List<EvalConfig.Method>> byPasskeyLengths(List<EvalConfig.Method> methods, List<Integer> lengths, int window) {
    Map<List<Integer>, List<EvalConfig.Method>> groups = new LinkedHashMap<>();
    for (EvalConfig.Method m : methods) {
      groups.computeIfAbsent(DemoMethod.passkeyLengths(DemoMethod.ALL, m.name(), lengths, window), k -> new ArrayList<>()).add(m);
    }
    return groups;
  }

  /** The result of the thread beside PoSE, saying so when the demo waits for it. */
  private static BesidePose awaitBesidePose(Future<BesidePose> besidePose, PrintStream out) throws Exception {
    if (!besidePose.isDone()) {
      out.println("  (waiting for the evaluation beside PoSE to finish)");
    }
    try {
      return besidePose.get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  /** The demo's methods ({@link DemoMethod#ALL}) for this run. */
  static List<EvalConfig.Method> demoMethods(ExperimentConfig staged, RopeConfig searched, Layout layout) {
    return DemoMethod.methods(DemoMethod.ALL, new DemoMethod.Stages(staged.eval().methods(), searched, layout.poseHf(), layout.fotHf()));
  }

  /** {@code c} with {@code eval} as its eval section. */
  static ExperimentConfig withEval(ExperimentConfig c, EvalConfig eval) {
    return new ExperimentConfig(c.name(), c.spark(), c.data(), c.model(), c.rope(), c.train(), c.pose(), c.fot(), c.distributed(),
        eval, c.search(), c.longrope(), c.output());
  }

  /** configs/train-tiny-pretrain.yaml (built in), writing into OUT/base, for {@code steps} steps. */
  static ExperimentConfig pretrainConfig(Layout layout, int steps) throws IOException {
    String source = "configs/train-tiny-pretrain.yaml (built in)";
    int warmup = Math.min(ConfigLoader.parse(resource(BUILT_IN_PRETRAIN), source, List.of()).train().warmupSteps(), steps);
    return ConfigLoader.parse(resource(BUILT_IN_PRETRAIN), source,
        List.of("output.dir=" + quoted(layout.base()), "output.overwrite=true", "train.steps=" + steps,
            "train.warmup_steps=" + warmup, "train.checkpoint_every=0"));
  }

  /**
   * The overrides of the FoT stage on configs/train-tiny-fot.yaml (built in): train {@code base},
   * write into OUT/fot and export OUT/fot/hf at the end, then {@code overrides} ({@code --fot-set}).
   */
  static List<String> fotOverrides(Layout layout, Path base, List<String> overrides) {
    List<String> all = new ArrayList<>(List.of("model.path=" + quoted(base), "output.dir=" + quoted(layout.fot()),
        "output.overwrite=true", "train.checkpoint_every=0", "train.export_at_end=true"));
    all.addAll(overrides);
    return all;
  }

  /** The FoT stage's config: configs/train-tiny-fot.yaml (built in) with {@code overrides} ({@link #fotOverrides}). */
  static ExperimentConfig fotConfig(List<String> overrides) throws IOException {
    ExperimentConfig c = ConfigLoader.parse(resource(BUILT_IN_FOT), "configs/train-tiny-fot.yaml (built in) with --fot-set", overrides);
    if (!"fot".equals(c.train().recipe())) {
      throw new ConfigException("--fot-set train.recipe: the fot stage runs the fot recipe, got " + c.train().recipe());
    }
    return c;
  }

  /**
   * Runs {@code longctx train --config config --set o...} in a child JVM of this one (same Java,
   * JVM options and class path), its output into {@code log}, and returns its exit status. The
   * FoT stage trains beside PoSE, but not in this process: DJL allows one gradient collector per
   * process at a time (a second one fails: "Only one can be collecting at a time"), and starting
   * one zeroes the gradients of every array of the process, the other training's too.
   */
  static int trainInChildProcess(Path config, List<String> overrides, Path log) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Cli.class.getName(), "train", "--config", config.toString()));
    for (String o : overrides) {
      command.add("--set");
      command.add(o);
    }
    Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      return child.waitFor();
    } finally {
      child.destroy(); // the demo stopped or failed while FoT trained: end its training too
    }
  }

  /** The base model's window: its rope's original length when it names one, else max_position_embeddings (as eval reports it). */
  private static int baseWindow(String location) throws IOException {
    var conf = Storage.defaultConf();
    return EvalJob.originalWindow(EvalJob.modelFolder(location, "model.path", conf), null, conf);
  }

  /**
   * The demo's claims ({@link DemoMethod#ALL}), checked on the measured figures, one line each
   * with the figure and met or MISSED.
   */
  static List<String> verdicts(EvalResults r) {
    return DemoMethod.verdicts(DemoMethod.ALL, r, EvalReport.window(r)).stream().map(Claim.Verdict::line).toList();
  }

  /**
   * The synthetic kinds of the perplexity documents: those PoSE trains on
   * ({@code train.synthetic.tasks}) that {@code synth} writes as single documents, in a fixed
   * order; pass-key alone when none is.
   */
  static List<String> perplexityKinds(java.util.Collection<String> trainingTasks) {
    List<String> kinds = new ArrayList<>();
    for (String kind : org.longctx.trainer.eval.EvalDocument.SYNTH_TASKS) {
      if (trainingTasks.contains(kind)) {
        kinds.add(kind);
      }
    }
    return kinds.isEmpty() ? List.of("passkey") : kinds;
  }

  private static String describeModel(String location) throws IOException {
    var config = org.longctx.trainer.model.ModelWeights.readConfig(
        org.longctx.checkpoints.training.CheckpointStore.modelFolder(Storage.path(location), Storage.defaultConf()),
        Storage.defaultConf());
    return String.format(Locale.ROOT, "%s: hidden %d, %d layers, %d heads, vocabulary %d, window %d, rope %s",
        config.architecture().className(), config.hiddenSize(), config.numHiddenLayers(), config.numAttentionHeads(),
        config.vocabSize(), config.maxPositionEmbeddings(), config.rope().ropeType());
  }

  /** A path as a single-quoted YAML scalar (overrides are read as YAML). */
  static String quoted(Path p) {
    return "'" + p.toString().replace("'", "''") + "'";
  }

  private static void subcommand(Subcommand command, PrintStream out, String... argv) {
    int status = command.execute(argv, out, System.err);
    if (status != 0) {
      throw new IllegalStateException(command.name() + " failed with status " + status);
    }
  }

  private static long stage(PrintStream out, String name, String what) {
    out.printf(Locale.ROOT, "%n[%d/%d] %s: %s%n", STAGES.indexOf(name) + 1, STAGES.size(), name, what);
    return System.nanoTime();
  }

  private static double done(PrintStream out, long startNanos) {
    return done(out, null, startNanos);
  }

  /** Prints a stage's time; {@code name} says which stage when stages overlap (null: the one just started). */
  private static double done(PrintStream out, String name, long startNanos) {
    double s = Math.round((System.nanoTime() - startNanos) / 1e8) / 10.0;
    out.printf(Locale.ROOT, "  (%s%.1f s)%n", name == null ? "" : name + " done in ", s);
    return s;
  }

  /** {@code seconds} with the stages in {@link #STAGES} order, then any other key (the total). */
  static Map<String, Double> inStageOrder(Map<String, Double> seconds) {
    Map<String, Double> ordered = new LinkedHashMap<>();
    STAGES.stream().filter(seconds::containsKey).forEach(stage -> ordered.put(stage, seconds.get(stage)));
    seconds.forEach(ordered::putIfAbsent);
    return ordered;
  }

  private static String stageTimes(Map<String, Double> seconds) {
    StringBuilder sb = new StringBuilder();
    seconds.forEach((k, v) -> {
      if (!k.equals("total")) {
        sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ').append(String.format(Locale.ROOT, "%.0f s", v));
      }
    });
    return sb.toString();
  }

  /** The commit of a git checkout, read from {@code .git} without running git. */
  static final class GitCommit {
    private GitCommit() {}

    static java.util.Optional<String> of(Path dir) {
      try {
        Path git = dir.toAbsolutePath().resolve(".git");
        if (!Files.isDirectory(git)) {
          return java.util.Optional.empty();
        }
        String head = Files.readString(git.resolve("HEAD")).strip();
        if (!head.startsWith("ref: ")) {
          return java.util.Optional.of(head);
        }
        String ref = head.substring(5);
        Path loose = git.resolve(ref);
        if (Files.exists(loose)) {
          return java.util.Optional.of(Files.readString(loose).strip());
        }
        Path packed = git.resolve("packed-refs");
        if (Files.exists(packed)) {
          for (String line : Files.readAllLines(packed)) {
            if (line.endsWith(" " + ref)) {
              return java.util.Optional.of(line.substring(0, line.indexOf(' ')));
            }
          }
        }
      } catch (IOException e) {
        // no commit to report
      }
      return java.util.Optional.empty();
    }
  }
}
