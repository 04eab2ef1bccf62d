package org.longctx.jobs;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.checkpoints.Storage;
import org.longctx.data.tokenizer.TextTokenizer;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.jobs.config.ConfigException;
import org.longctx.jobs.config.ExperimentConfig;
import org.longctx.jobs.report.SearchChart;
import org.longctx.jobs.spark.SparkSessions;
import org.longctx.positional.RopeConfig;
import org.longctx.search.EvolutionarySearch;
import org.longctx.search.FactorFile;
import org.longctx.search.Genome;
import org.longctx.search.Individual;
import org.longctx.search.SearchConfig;
import org.longctx.search.SearchSpace;
import org.longctx.search.SearchState;
import org.longctx.search.StateFile;
import org.longctx.trainer.eval.EvalDocument;
import org.longctx.trainer.eval.EvalPlan;
import org.longctx.trainer.eval.MethodSpec;
import org.longctx.trainer.eval.PasskeyPrompt;
import org.longctx.trainer.model.ModelWeights;

/**
 * LongRoPE's factor search (docs/longrope.md, docs/methods.md §3) as a Spark job: the search
 * runs on the driver ({@link EvolutionarySearch}); each generation's candidates × documents are
 * scored as Spark tasks on executors that each read the model once.
 *
 * <pre>Usage: longctx search --config X.yaml [--set key=value]... [--out DIR] [--overwrite]</pre>
 */
public final class SearchJob {
  static final String USAGE = """
      Usage: longctx search --config X.yaml [--set key=value]... [--out DIR] [--overwrite]
         or: spark-submit --class org.longctx.jobs.SearchJob longctx-jobs-VERSION-spark.jar --config X.yaml

      Searches LongRoPE's per-dimension rope factors for model.path at search.target_length
      without training: an evolutionary search (population, parents, mutations, crossovers,
      iterations in the search: section) whose fitness is the perplexity of
      search.documents validation documents read at exactly the target length. Each
      generation's candidates are scored as Spark tasks; an executor reads the model once.

      Writes into DIR (default output.dir, else runs/NAME): factors.json (the best factors and
      what they were searched for, usable as rope: {factors: DIR/factors.json}), search.jsonl
      (every candidate and its perplexity), search.png (best perplexity per generation
      against PI and YaRN) and state.json (the search state, saved after every generation).
      Rerunning the same config continues from state.json; --overwrite starts again.
      """;

  public static final Subcommand COMMAND = new Subcommand(
      "search", USAGE, Set.of("--overwrite"), Set.of("--config", "--set", "--out"), SearchJob::run);

  /** The files a search writes; --overwrite removes exactly these. */
  static final String STATE = "state.json";
  static final String FACTORS = "factors.json";
  static final String CANDIDATES = "search.jsonl";
  static final List<String> FILES = List.of(STATE, FACTORS, CANDIDATES, SearchChart.FILE);

  private static final ObjectMapper JSON = new ObjectMapper();

  private SearchJob() {}

  public static void main(String[] args) {
    Subcommand.main(COMMAND, args);
  }

  static int run(Args args) throws Exception {
    args.noPositionals();
    ExperimentConfig config = Subcommand.loadConfig(args);
    Path out = Path.of(args.value("--out").orElse(config.output().resolveDir(config.name())));
    prepareOutput(out, args.flag("--overwrite") || config.output().overwrite());
    Prepared prepared = prepare(config);
    Result result;
    try (SparkSession spark = SparkSessions.create(config.spark(), "search")) {
      result = execute(spark, prepared, out, System.out);
    }
    System.out.println(result.summary());
    System.out.println("wrote " + out.resolve(FACTORS).toAbsolutePath() + " (use it as rope: {factors: " + out.resolve(FACTORS) + "})");
    return 0;
  }

  /**
   * A folder with a search state is continued; --overwrite removes the search's files first.
   * Any other non-empty folder is refused (it is not a search's).
   */
  static void prepareOutput(Path out, boolean overwrite) throws IOException {
    if (overwrite) {
      for (String f : FILES) {
        Files.deleteIfExists(out.resolve(f));
      }
      return;
    }
    if (Files.isRegularFile(out.resolve(STATE))) {
      return;
    }
    EvalJob.prepareOutput(out, false);
  }

  /**
   * Everything decided before Spark starts.
   *
   * @param model the model folder, fully qualified (executors of a cluster read it from there)
   * @param modelSha256 SHA-256 of its config.json and weight files
   * @param documents the validation documents, each exactly {@code space.targetLength()} tokens
   */
  public record Prepared(ExperimentConfig config, String model, String modelSha256, SearchSpace space, List<EvalDocument> documents) {

    /** What else the result depends on: the model's content and the documents. */
    String context() {
      int[] hashes = documents.stream().mapToInt(d -> Arrays.hashCode(d.ids())).toArray();
      return "model sha256 " + modelSha256 + ", documents " + Integer.toHexString(Arrays.hashCode(hashes)) + ", dtype "
          + config.model().dtype();
    }
  }

  /** Checks the config, resolves the model and its shape, and builds the documents. */
  public static Prepared prepare(ExperimentConfig config) throws IOException {
    SearchConfig search = config.search();
    if (search.targetLength() == 0) {
      throw new ConfigException("search.target_length: required (the window the factors are searched for, larger than the model's)");
    }
    if (config.model().path().isEmpty()) {
      throw new ConfigException("model.path: required (the model whose factors are searched)");
    }
    Configuration conf = Storage.defaultConf();
    org.apache.hadoop.fs.Path folder = EvalJob.modelFolder(config.model().path(), "model.path", conf);
    LlamaConfig model = ModelWeights.readConfig(folder, conf);
    int original = search.originalLength() > 0 ? search.originalLength() : EvalJob.originalWindow(folder, null, conf);
    SearchSpace space;
    try {
      space = new SearchSpace(model.headDim(), model.rope().ropeTheta(), original, search.targetLength());
    } catch (IllegalArgumentException e) {
      throw new ConfigException("search." + e.getMessage());
    }
    TokenizerSpec tokenizer = EvalJob.readTokenizer("search.tokenizer", search.tokenizer(), folder.toString(),
        config.data().tokenizer(), conf);
    List<EvalDocument> documents;
    try (TextTokenizer t = TextTokenizer.create(tokenizer, true)) {
      PasskeyPrompt.Encoder encoder = PasskeyPrompt.Encoder.of(t, search.addBos() ? tokenizer.bosId() : -1);
      documents = EvalDocument.of(search.data(), encoder, EvalPlan.heldOutSeed(search.seed()), search.documents(),
          search.targetLength(), search.targetLength());
    } catch (IllegalArgumentException e) {
      throw new ConfigException("search.data: " + e.getMessage());
    }
    if (documents.isEmpty()) {
      throw new ConfigException("search.data: " + search.data() + " has no row of at least " + search.targetLength()
          + " tokens (search.target_length)");
    }
    List<EvalDocument> cut = new ArrayList<>();
    for (EvalDocument d : documents) {
      cut.add(new EvalDocument(d.index(), d.source(), Arrays.copyOf(d.ids(), search.targetLength())));
    }
    return new Prepared(config, folder.toString(), sha256(folder, conf), space, List.copyOf(cut));
  }

  /**
   * The search's outcome.
   *
   * @param state the final search state
   * @param factors what factors.json holds
   * @param candidatesPerSecond candidates scored per second over this run's generations
   */
  public record Result(SearchState state, FactorFile factors, double candidatesPerSecond, double seconds) {
    String summary() {
      Map<String, Double> p = factors.perplexity();
      return String.format(Locale.ROOT,
          "search: %d generations, %d candidates; perplexity at %d tokens: start %.4f, PI %.4f, YaRN %.4f, searched %.4f (%s)",
          state.generations(), state.individuals().size(), factors.targetLength(), p.get("start"), p.get("pi"), p.get("yarn"),
          p.get("best"), candidatesPerSecond > 0 ? String.format(Locale.ROOT, "%.3f candidates/s", candidatesPerSecond)
              : "finished earlier: nothing left to score");
    }
  }

  /**
   * Runs (or continues) the search on {@code spark}, writing into {@code out} after every generation.
   *
   * @param progress where one line per generation goes
   */
  public static Result execute(SparkSession spark, Prepared prepared, Path out, PrintStream progress) throws Exception {
    SearchConfig sc = prepared.config().search();
    SearchSpace space = prepared.space();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<List<EvalDocument>> documents = jsc.broadcast(prepared.documents());
    long start = System.nanoTime();
    try {
      Scorer scorer = new Scorer(jsc, prepared, documents);
      progress.printf(Locale.ROOT, "search: %s, L0 %d → %d (s = %.4g), %d factors, %d documents, on %s (%d cores)%n",
          prepared.model(), space.originalLength(), space.targetLength(), space.scale(), space.factorCount(),
          prepared.documents().size(), spark.sparkContext().master(), jsc.defaultParallelism());
      double[] refs = scorer.perplexities(List.of(
          RopeConfig.builder("linear").factor(space.scale()).build(),
          RopeConfig.builder("yarn").factor(space.scale()).originalMaxPositionEmbeddings(space.originalLength()).build()));
      progress.printf(Locale.ROOT, "search: references at %d tokens: PI %.4f, YaRN %.4f%n", space.targetLength(), refs[0], refs[1]);
      EvolutionarySearch search = new EvolutionarySearch(sc, space, prepared.context());
      StateFile store = new StateFile(out.resolve(STATE));
      Progress listener = new Progress(sc, space, prepared, out, refs[0], refs[1], progress);
      SearchState state = search.run(batch -> scorer.perplexities(batch.stream().map(g -> g.toRope(space, sc.mscale())).toList()),
          store, listener);
      FactorFile factors = listener.factors(state);
      factors.write(out.resolve(FACTORS));
      SearchChart.write(out, "LongRoPE search: " + space.originalLength() + " → " + space.targetLength() + " tokens",
          state.bestByGeneration(), Map.of("PI", refs[0], "YaRN", refs[1]));
      double seconds = (System.nanoTime() - start) / 1e9;
      return new Result(state, factors, listener.candidatesPerSecond(), seconds);
    } finally {
      documents.destroy();
      SearchScoring.releaseAll();
    }
  }

  /**
   * Scores rope candidates as Spark tasks. The work is candidates × documents; every item costs
   * the same (one document at the target length), so it is cut into about two tasks per core of
   * equal size: one generation's 32 candidates keep 2 cores or 64 equally busy, and a generation
   * with fewer candidates than cores still uses them all through its documents.
   */
  static final class Scorer {
    private final JavaSparkContext jsc;
    private final Prepared prepared;
    private final Broadcast<List<EvalDocument>> documents;

    Scorer(JavaSparkContext jsc, Prepared prepared, Broadcast<List<EvalDocument>> documents) {
      this.jsc = jsc;
      this.prepared = prepared;
      this.documents = documents;
    }

    double[] perplexities(List<RopeConfig> ropes) {
      int docs = prepared.documents().size();
      List<SearchScoring.Item> items = new ArrayList<>();
      for (int c = 0; c < ropes.size(); c++) {
        MethodSpec spec = MethodSpec.of("candidate-" + c, prepared.model(), ropes.get(c));
        for (int d = 0; d < docs; d++) {
          items.add(new SearchScoring.Item(c, spec, d));
        }
      }
      int tasks = Math.max(1, Math.min(items.size(), 2 * Math.max(1, jsc.defaultParallelism())));
      List<List<SearchScoring.Item>> groups = new ArrayList<>();
      for (int t = 0; t < tasks; t++) {
        groups.add(new ArrayList<>(items.subList(t * items.size() / tasks, (t + 1) * items.size() / tasks)));
      }
      String model = prepared.model();
      String dtype = prepared.config().model().dtype();
      int chunk = prepared.config().model().attentionChunk();
      Broadcast<List<EvalDocument>> docsBroadcast = documents;
      List<SearchScoring.Score> scores = jsc.parallelize(groups, tasks)
          .flatMap(group -> SearchScoring.score(model, dtype, chunk, group, docsBroadcast.value()).iterator())
          .collect();
      double[] nll = new double[ropes.size()];
      long[] predicted = new long[ropes.size()];
      for (SearchScoring.Score s : scores) {
        nll[s.candidate()] += s.nllSum();
        predicted[s.candidate()] += s.predicted();
      }
      double[] out = new double[ropes.size()];
      for (int c = 0; c < out.length; c++) {
        out[c] = Math.exp(nll[c] / predicted[c]); // exp(Σ NLL / Σ predicted tokens), as eval's perplexity
      }
      return out;
    }
  }

  /** Per generation: a progress line, search.jsonl and factors.json (the best so far). */
  static final class Progress implements EvolutionarySearch.Listener {
    private final SearchConfig config;
    private final SearchSpace space;
    private final Prepared prepared;
    private final Path out;
    private final double pi;
    private final double yarn;
    private final PrintStream progress;
    private double seconds;
    private long scored;
    private int generationsRun;

    Progress(SearchConfig config, SearchSpace space, Prepared prepared, Path out, double pi, double yarn, PrintStream progress) {
      this.config = config;
      this.space = space;
      this.prepared = prepared;
      this.out = out;
      this.pi = pi;
      this.yarn = yarn;
      this.progress = progress;
    }

    @Override
    public void generation(SearchState state, List<Individual> batch, double secs) throws IOException {
      seconds += secs;
      scored += batch.size();
      generationsRun++;
      writeCandidates(state);
      factors(state).write(out.resolve(FACTORS));
      int left = Math.max(0, config.iterations() - state.generations());
      double eta = state.stoppedEarly() ? 0 : left * seconds / generationsRun;
      progress.printf(Locale.ROOT, "search: generation %d/%d: %d candidates in %.1f s (%.2f candidates/s), best %.4f (start %.4f, PI %.4f, YaRN %.4f)%s%n",
          state.generations(), config.iterations(), batch.size(), secs, batch.size() / Math.max(secs, 1e-9), state.best().perplexity(),
          state.individuals().get(0).perplexity(), pi, yarn,
          state.stoppedEarly() ? ", stopped: the best moved less than " + config.minDelta() + " in " + config.patience() + " generations"
              : left == 0 ? "" : String.format(Locale.ROOT, ", ETA %.0f s", eta));
    }

    /** Candidates per second over this run's generations; 0 when this run scored none. */
    double candidatesPerSecond() {
      return scored == 0 ? 0 : scored / Math.max(seconds, 1e-9);
    }

    FactorFile factors(SearchState state) {
      Individual best = state.best();
      Map<String, String> model = new LinkedHashMap<>();
      model.put("id", prepared.model());
      model.put("sha256", prepared.modelSha256());
      Map<String, Double> ppl = new LinkedHashMap<>();
      ppl.put("start", state.individuals().get(0).perplexity());
      ppl.put("pi", pi);
      ppl.put("yarn", yarn);
      ppl.put("best", best.perplexity());
      Map<String, Object> facts = new LinkedHashMap<>();
      facts.put("seed", config.seed());
      facts.put("generations", state.generations());
      facts.put("candidates", state.individuals().size());
      facts.put("stopped_early", state.stoppedEarly());
      facts.put("best_generation", best.generation());
      facts.put("best_origin", best.origin());
      facts.put("documents", prepared.documents().size());
      facts.put("data", config.data());
      facts.put("dtype", prepared.config().model().dtype());
      Genome g = best.genome();
      return new FactorFile(space.targetLength(), space.originalLength(), config.mscale(), g.factorList(), List.of(),
          g.startTokens(), model, ppl, facts);
    }

    /** search.jsonl: one line per candidate ever scored (rewritten whole, atomically, from the state). */
    private void writeCandidates(SearchState state) throws IOException {
      StringBuilder sb = new StringBuilder();
      for (Individual i : state.individuals()) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", i.id());
        row.put("generation", i.generation());
        row.put("origin", i.origin());
        row.put("start_tokens", i.genome().startTokens());
        row.put("perplexity", i.perplexity());
        row.put("factors", i.genome().factorList());
        sb.append(JSON.writeValueAsString(row)).append('\n');
      }
      Path temp = out.resolve("." + CANDIDATES + ".tmp");
      Files.writeString(temp, sb, StandardCharsets.UTF_8);
      Files.move(temp, out.resolve(CANDIDATES), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
  }

  /** SHA-256 over the model folder's config.json and weight files (*.safetensors), in name order. */
  static String sha256(org.apache.hadoop.fs.Path folder, Configuration conf) throws IOException {
    FileSystem fs = Storage.fileSystem(folder, conf);
    List<FileStatus> files = new ArrayList<>();
    for (FileStatus f : fs.listStatus(folder)) {
      String name = f.getPath().getName();
      if (f.isFile() && (name.equals("config.json") || name.endsWith(".safetensors"))) {
        files.add(f);
      }
    }
    files.sort((a, b) -> a.getPath().getName().compareTo(b.getPath().getName()));
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    byte[] buffer = new byte[1 << 20];
    for (FileStatus f : files) {
      digest.update(f.getPath().getName().getBytes(StandardCharsets.UTF_8));
      try (InputStream in = fs.open(f.getPath())) {
        for (int n; (n = in.read(buffer)) > 0; ) {
          digest.update(buffer, 0, n);
        }
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
