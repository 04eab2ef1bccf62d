package org.longctx.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import org.longctx.checkpoints.Storage;
import org.longctx.checkpoints.training.CheckpointStore;
import org.longctx.data.tokenizer.TextTokenizer;
import org.longctx.data.tokenizer.TokenizerSource;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.jobs.config.ConfigException;
import org.longctx.jobs.config.ExperimentConfig;
import org.longctx.jobs.report.EvalReport;
import org.longctx.jobs.spark.SparkSessions;
import org.longctx.positional.HfRopeConfig;
import org.longctx.positional.RopeConfig;
import org.longctx.trainer.EvalConfig;
import org.longctx.trainer.eval.EvalInputs;
import org.longctx.trainer.eval.EvalOutput;
import org.longctx.trainer.eval.EvalPlan;
import org.longctx.trainer.eval.EvalResults;
import org.longctx.trainer.eval.EvalRunner;
import org.longctx.trainer.eval.EvalTask;
import org.longctx.trainer.eval.MethodSpec;
import org.longctx.trainer.eval.PasskeyPrompt;

/**
 * Evaluates one or more methods — a model with an inference-time extension (rope override,
 * SelfExtend) or a fine-tuned checkpoint — on the same passkey prompts and perplexity
 * documents, spread over Spark tasks, and writes the report.
 *
 * <pre>Usage: longctx eval --config X.yaml [--set key=value]... [--out DIR] [--overwrite]</pre>
 */
public final class EvalJob {
  static final String USAGE = """
      Usage: longctx eval --config X.yaml [--set key=value]... [--out DIR] [--overwrite]
         or: spark-submit --class org.longctx.jobs.EvalJob longctx-jobs-VERSION-spark.jar --config X.yaml

      For every method in eval.methods (default: the model in model.path as it is), answers
      passkey prompts over eval.lengths × eval.depths × eval.trials (greedy decoding; correct
      = the generated key matches exactly) and measures perplexity at
      eval.perplexity_lengths on eval.perplexity_documents held-out documents. Every method
      sees the same prompts and documents (deterministic by eval.seed). The work runs as Spark
      tasks; the tasks running at once on an executor share one copy of each model, whichever
      methods they evaluate.

      Writes into DIR (default output.dir, else runs/NAME): results.json, report.html,
      passkey-METHOD.png (heatmap of length × depth per method), passkey-by-length.png,
      perplexity.png. DIR must be empty unless --overwrite (or output.overwrite: true).

      A method: {name, model (default model.path), rope (a rope: section replacing the
      model's), self_extend: {group_size, window_size, scale_base}}.
      """;

  public static final Subcommand COMMAND = new Subcommand(
      "eval", USAGE,
      Set.of("--overwrite"), Set.of("--config", "--set", "--out"), EvalJob::run);

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Tasks per core: the evaluation is cut into this many balanced slices per core
   * ({@link EvalPlan#tasks}), so the stage ends about when the work spread over the cores is
   * done, and the progress lines come often enough to tell the time left.
   */
  static final int SLICES_PER_CORE = 4;

  private EvalJob() {}

  public static void main(String[] args) {
    Subcommand.main(COMMAND, args);
  }

  static int run(Args args) throws Exception {
    args.noPositionals();
    ExperimentConfig config = Subcommand.loadConfig(args);
    Path out = Path.of(args.value("--out").orElse(config.output().resolveDir(config.name())));
    prepareOutput(out, args.flag("--overwrite") || config.output().overwrite());
    Prepared prepared = prepare(config); // checks models, tokenizer and lengths before Spark starts
    EvalResults results;
    try (SparkSession spark = SparkSessions.create(config.spark(), "eval")) {
      results = execute(spark, prepared, Map.of(), System.out);
    }
    List<Path> files = EvalReport.write(results, out, config.name());
    System.out.println(summary(results));
    System.out.println("wrote " + files.size() + " files to " + out.toAbsolutePath() + " (open " + EvalReport.HTML + ")");
    return 0;
  }

  /** Refuses a non-empty output folder unless overwriting is allowed. */
  static void prepareOutput(Path out, boolean overwrite) throws IOException {
    if (Files.isDirectory(out) && !overwrite) {
      try (Stream<Path> entries = Files.list(out)) {
        if (entries.findAny().isPresent()) {
          throw new UsageException(out + " is not empty; pass --overwrite (or set output.overwrite: true) to replace its report");
        }
      }
    } else if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new UsageException(out + " exists and is not a folder");
    }
  }

  /**
   * Everything decided on the driver before any Spark work: the methods with their models
   * resolved, the tokenizer, and the plan (every prompt and document). Building it checks the
   * config (models exist, lengths fit a prompt) before a Spark session starts.
   *
   * @param config the experiment
   * @param methods the methods to ship to executors
   * @param infos the methods as the report describes them
   * @param tokenizer the evaluation's tokenizer (decodes the answers)
   * @param plan prompts, documents and work items
   */
  public record Prepared(ExperimentConfig config, List<MethodSpec> methods, List<EvalResults.MethodInfo> infos,
      TokenizerSpec tokenizer, EvalPlan plan) {}

  /** Resolves the methods and the tokenizer and builds every prompt and document. */
  public static Prepared prepare(ExperimentConfig config) throws IOException {
    EvalConfig eval = config.eval();
    Configuration conf = Storage.defaultConf();
    List<MethodSpec> methods = new ArrayList<>();
    List<EvalResults.MethodInfo> infos = new ArrayList<>();
    for (int i = 0; i < eval.methods().size(); i++) {
      EvalConfig.Method m = eval.methods().get(i);
      String key = m.model().isEmpty() ? "model.path" : "eval.methods[" + i + "].model";
      String location = m.model().isEmpty() ? config.model().path() : m.model();
      if (location.isEmpty()) {
        throw new ConfigException("model.path: method '" + m.name() + "' has no model; set model.path or eval.methods[" + i + "].model");
      }
      org.apache.hadoop.fs.Path folder = modelFolder(location, key, conf);
      // executors of a cluster run elsewhere: ship a fully qualified location
      MethodSpec spec = MethodSpec.of(m, folder.toString());
      methods.add(spec);
      infos.add(new EvalResults.MethodInfo(m.name(), location, spec.ropeKeys(), spec.selfExtend(), originalWindow(folder, m.rope(), conf)));
    }
    TokenizerSpec tokenizerSpec = readTokenizer(config, methods.get(0), conf);
    try (TextTokenizer tokenizer = TextTokenizer.create(tokenizerSpec, true)) {
      int bos = eval.addBos() ? tokenizerSpec.bosId() : -1;
      PasskeyPrompt.Encoder encoder = PasskeyPrompt.Encoder.of(tokenizer, bos);
      int[] stop = tokenizerSpec.eosId() >= 0 ? new int[] {tokenizerSpec.eosId()} : new int[0];
      EvalPlan plan = EvalPlan.build(eval, methods, encoder, stop, config.model().dtype(), config.model().attentionChunk());
      return new Prepared(config, methods, infos, tokenizerSpec, plan);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("eval." + e.getMessage());
    }
  }

  /** {@link #prepare} and {@link #execute} in one (the demo calls this inside its session). */
  public static EvalResults evaluate(SparkSession spark, ExperimentConfig config, Map<String, Object> facts, PrintStream progress)
      throws IOException {
    return execute(spark, prepare(config), facts, progress);
  }

  /**
   * Runs a prepared evaluation on {@code spark} and scores it.
   *
   * @param facts extra facts for the report's header (e.g. the commit), shown as given
   * @param progress where progress lines go (task completions)
   */
  public static EvalResults execute(SparkSession spark, Prepared prepared, Map<String, Object> facts, PrintStream progress) {
    return assemble(spark.sparkContext().master(), List.of(run(spark, prepared, progress)), facts);
  }

  /**
   * What the tasks of one prepared evaluation returned, not yet scored.
   *
   * @param prepared what ran
   * @param outputs one per (method, item)
   * @param tasks how many Spark tasks ran it
   * @param executors the executors that completed its tasks
   * @param seconds its wall time
   */
  public record Outputs(Prepared prepared, List<EvalOutput> outputs, int tasks, List<String> executors, double seconds) {}

  /** Runs a prepared evaluation's tasks on {@code spark}, printing progress lines to {@code progress}. */
  public static Outputs run(SparkSession spark, Prepared prepared, PrintStream progress) {
    long start = System.nanoTime();
    EvalPlan plan = prepared.plan();
    List<MethodSpec> methods = prepared.methods();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    int parallelism = Math.max(1, jsc.defaultParallelism());
    List<EvalTask> tasks = plan.tasks(SLICES_PER_CORE * parallelism);
    long prompts = plan.inputs().prompts().size();
    long docs = plan.items().size() - prompts;
    progress.printf(Locale.ROOT, "eval: %d method(s) × (%d passkey prompts + %d document prefixes) in %d Spark tasks on %s%n",
        methods.size(), prompts, docs, tasks.size(), spark.sparkContext().master());
    Broadcast<EvalInputs> inputs = jsc.broadcast(plan.inputs());
    String group = "longctx-eval-" + java.util.UUID.randomUUID();
    TaskProgress listener = new TaskProgress(group, tasks, progress);
    spark.sparkContext().addSparkListener(listener);
    List<EvalOutput> outputs;
    List<String> executors;
    try {
      jsc.setJobGroup(group, "longctx eval: " + tasks.size() + " tasks", false);
      outputs = jsc.parallelize(tasks, tasks.size())
          .flatMap(task -> EvalRunner.run(task.method(), task.items(), inputs.value()).iterator())
          .collect();
      executors = listener.executors();
    } finally {
      jsc.clearJobGroup();
      spark.sparkContext().removeSparkListener(listener);
      inputs.destroy();
    }
    return new Outputs(prepared, outputs, tasks.size(), executors, (System.nanoTime() - start) / 1e9);
  }

  /**
   * Scores the outputs of one evaluation run in parts: the same settings and prompts, different
   * methods in each part (the demo evaluates the methods on its base model while PoSE trains,
   * and the trained models after), and possibly different passkey lengths (a method evaluated
   * at a length the others skip; the prompts at a length are the same in every part). The
   * methods appear in the parts' order.
   *
   * @param master the Spark master the parts ran on, for the report
   * @param facts extra facts for the report's header, shown as given
   * @throws IllegalArgumentException when the parts' eval settings differ other than in their methods and passkey lengths
   */
  public static EvalResults assemble(String master, List<Outputs> parts, Map<String, Object> facts) {
    if (parts.isEmpty()) {
      throw new IllegalArgumentException("parts: nothing to assemble");
    }
    Prepared first = parts.get(0).prepared();
    ExperimentConfig config = first.config();
    EvalConfig shared = config.eval().withMethods(List.of()).withLengths(List.of());
    List<EvalResults> scored = new ArrayList<>();
    Set<String> executors = new java.util.TreeSet<>();
    int tasks = 0;
    double seconds = 0;
    try (TextTokenizer tokenizer = TextTokenizer.create(first.tokenizer(), true)) {
      for (Outputs part : parts) {
        EvalConfig eval = part.prepared().config().eval();
        if (!eval.withMethods(List.of()).withLengths(List.of()).equals(shared)) {
          throw new IllegalArgumentException("parts: an evaluation's parts must share their eval settings but their methods and"
              + " passkey lengths; got " + config.eval() + " and " + eval);
        }
        scored.add(EvalResults.assemble(eval, part.prepared().plan(), part.outputs(), part.prepared().infos(), tokenizer::decode,
            Map.of()));
        executors.addAll(part.executors());
        tasks += part.tasks();
        seconds += part.seconds();
      }
    }
    Map<String, Object> run = new LinkedHashMap<>();
    run.put("name", config.name());
    run.putAll(facts);
    run.put("finished", Instant.now().toString());
    run.put("master", master);
    run.put("tasks", tasks);
    run.put("executors", List.copyOf(executors));
    run.put("seed", config.eval().seed());
    run.put("tokenizer", first.tokenizer().source());
    run.put("dtype", config.model().dtype());
    run.put("seconds", Math.round(seconds * 100) / 100.0);
    return EvalResults.combine(scored, run);
  }

  /** The model folder behind a location (HF folder, step directory or checkpoint root), qualified. */
  static org.apache.hadoop.fs.Path modelFolder(String location, String key, Configuration conf) throws IOException {
    org.apache.hadoop.fs.Path path = Storage.path(location);
    FileSystem fs = Storage.fileSystem(path, conf);
    try {
      return fs.makeQualified(CheckpointStore.modelFolder(fs.makeQualified(path), conf));
    } catch (java.io.FileNotFoundException e) {
      throw new ConfigException(key + ": " + e.getMessage());
    }
  }

  /**
   * The window a method's model had before any extension: the rope's
   * {@code original_max_position_embeddings} when it names one, else the model's
   * {@code max_position_embeddings}; 0 when config.json cannot tell.
   */
  static int originalWindow(org.apache.hadoop.fs.Path folder, RopeConfig override, Configuration conf) throws IOException {
    JsonNode json = JSON.readTree(Storage.readAll(Storage.fileSystem(folder, conf), new org.apache.hadoop.fs.Path(folder, "config.json")));
    int max = json.path("max_position_embeddings").asInt(0);
    RopeConfig rope = override != null ? override : HfRopeConfig.toRopeConfig(json);
    Integer original = rope == null ? null : rope.originalMaxPositionEmbeddings();
    return original != null ? original : max;
  }

  /**
   * The evaluation's tokenizer: {@code eval.tokenizer}, else the first method's model folder's
   * {@code tokenizer.json}, else {@code data.tokenizer}.
   */
  static TokenizerSpec readTokenizer(ExperimentConfig config, MethodSpec first, Configuration conf) throws IOException {
    return readTokenizer("eval.tokenizer", config.eval().tokenizer(), first.model(), config.data().tokenizer(), conf);
  }

  /**
   * A job's tokenizer: {@code explicit} (the config key {@code key}) when set, else the model
   * folder's {@code tokenizer.json}, else {@code data.tokenizer}.
   */
  static TokenizerSpec readTokenizer(String key, String explicit, String modelFolder, String dataTokenizer, Configuration conf)
      throws IOException {
    List<TokenizerSource.Place> places = explicit.isEmpty()
        ? List.of(TokenizerSource.Place.ifPresent("the model folder", modelFolder),
            TokenizerSource.Place.ifPresent("data.tokenizer", dataTokenizer))
        : List.of(TokenizerSource.Place.named(key, explicit));
    TokenizerSource source;
    try {
      source = TokenizerSource.find(places, conf).orElseThrow(() -> new ConfigException(key + ": no tokenizer found (the model folder "
          + modelFolder + " has no tokenizer.json and data.tokenizer is " + (dataTokenizer.isEmpty() ? "empty" : "missing")
          + "); set " + key + " to a tokenizer.json or its folder"));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
    try {
      return source.spec("", "");
    } catch (IllegalArgumentException e) {
      throw new ConfigException(source.key() + ": " + e.getMessage());
    }
  }

  /** A few lines for the terminal: passkey accuracy and perplexity by length, per method. */
  static String summary(EvalResults r) {
    StringBuilder sb = new StringBuilder();
    if (!r.passkey().isEmpty()) {
      sb.append(String.format(Locale.ROOT, "%-20s", "passkey accuracy"));
      r.passkeyLengths().forEach(l -> sb.append(String.format(Locale.ROOT, "%9d", l)));
      sb.append('\n');
      for (String m : r.methodNames()) {
        sb.append(String.format(Locale.ROOT, "  %-18s", m));
        for (int l : r.passkeyLengths()) {
          double a = r.passkeyAccuracy(m, l);
          sb.append(String.format(Locale.ROOT, "%9s", Double.isNaN(a) ? "-" : Math.round(a * 100) + "%"));
        }
        sb.append('\n');
      }
    }
    if (!r.perplexity().isEmpty()) {
      sb.append(String.format(Locale.ROOT, "%-20s", "perplexity"));
      r.perplexityLengths().forEach(l -> sb.append(String.format(Locale.ROOT, "%9d", l)));
      sb.append('\n');
      for (String m : r.methodNames()) {
        sb.append(String.format(Locale.ROOT, "  %-18s", m));
        for (int l : r.perplexityLengths()) {
          double p = r.perplexity(m, l);
          sb.append(String.format(Locale.ROOT, "%9s", Double.isNaN(p) ? "-" : p >= 1e5 ? String.format(Locale.ROOT, "%.2g", p)
              : String.format(Locale.ROOT, "%.2f", p)));
        }
        sb.append('\n');
      }
    }
    return sb.toString().stripTrailing();
  }

  /**
   * Progress of one evaluation, printed on the driver as its tasks finish (Spark's listener
   * sees every executor's tasks): prompts and documents done of the total, the share of the
   * work done (by {@link EvalTask#cost()}) and the time left at the pace so far. Only the tasks
   * of this evaluation's job group count, so another job running beside it in the same session
   * does not disturb the figures. A line at most every {@link #EVERY_SECONDS} s, and always
   * the last one and every failure.
   */
  static final class TaskProgress extends SparkListener {
    static final double EVERY_SECONDS = 10;

    private final String group;
    private final List<EvalTask> tasks;
    private final int totalItems;
    private final double totalCost;
    private final PrintStream out;
    private final long start = System.nanoTime();
    private final Set<Integer> stages = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Set<Integer> finishedTasks = new java.util.HashSet<>(); // guarded by this
    private final Set<String> executors = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.CountDownLatch finished;
    private int itemsDone; // guarded by this
    private double costDone; // guarded by this
    private double lastLine = Double.NEGATIVE_INFINITY; // guarded by this

    TaskProgress(String group, List<EvalTask> tasks, PrintStream out) {
      this.group = group;
      this.tasks = List.copyOf(tasks);
      this.totalItems = tasks.stream().mapToInt(t -> t.items().size()).sum();
      this.totalCost = tasks.stream().mapToDouble(EvalTask::cost).sum();
      this.out = out;
      this.finished = new java.util.concurrent.CountDownLatch(tasks.size());
    }

    @Override
    public void onJobStart(org.apache.spark.scheduler.SparkListenerJobStart job) {
      if (group.equals(job.properties() == null ? null : job.properties().getProperty("spark.jobGroup.id"))) {
        scala.jdk.javaapi.CollectionConverters.asJava(job.stageIds()).forEach(id -> stages.add((Integer) id));
      }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
      if (!stages.contains(end.stageId())) {
        return;
      }
      String line = taskEnded(end.taskInfo().index(), end.taskInfo().successful(), end.taskInfo().executorId(), seconds());
      if (line != null) {
        out.println(line);
      }
    }

    /**
     * Counts task {@code index} (its partition: the place in the task list) as ended and returns
     * the line to print, or null when none is due.
     */
    synchronized String taskEnded(int index, boolean successful, String executor, double elapsed) {
      EvalTask task = tasks.get(index);
      if (!successful) {
        return String.format(Locale.ROOT, "eval: a task of %s (%d items) FAILED on executor %s; Spark retries it",
            task.method().name(), task.items().size(), executor);
      }
      if (!finishedTasks.add(index)) {
        return null; // a speculative or retried copy that also succeeded
      }
      executors.add(executor);
      itemsDone += task.items().size();
      costDone += task.cost();
      finished.countDown();
      boolean last = finishedTasks.size() == tasks.size();
      if (!last && elapsed - lastLine < EVERY_SECONDS) {
        return null;
      }
      lastLine = elapsed;
      double share = costDone / totalCost;
      String left = last ? "done" : "about " + duration(elapsed * (1 - share) / share) + " left";
      return String.format(Locale.ROOT, "eval: %d/%d prompts and document prefixes, %.0f %% of the work, %s elapsed, %s",
          itemsDone, totalItems, 100 * share, duration(elapsed), left);
    }

    private double seconds() {
      return (System.nanoTime() - start) / 1e9;
    }

    /** 75 → "1 min 15 s", 42 → "42 s". */
    static String duration(double seconds) {
      long s = Math.round(seconds);
      return s < 60 ? s + " s" : String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
    }

    /**
     * The executors that completed evaluation tasks, sorted. Spark delivers listener events
     * asynchronously, so this waits (briefly) until every task's end has arrived.
     */
    List<String> executors() {
      try {
        finished.await(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return executors.stream().sorted().toList();
    }
  }
}
