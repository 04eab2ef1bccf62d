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
import org.longctx.search.Factors;
import org.longctx.search.FactorFile;
import org.longctx.search.Genome;
import org.longctx.search.Individual;
import org.longctx.search.SearchConfig;
import org.longctx.search.SearchSpace;
import org.longctx.search.SearchState;
import org.longctx.search.Start;
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

      With search.long_factors: FILE it finds that factor set's short factors instead (used up
      to L0), on documents of search.target_length ≤ L0 tokens (default L0), each factor within
      [1, search.max_short_factor]. search.init_factors: FILE seeds a long search with earlier
      factors rescaled to the target.

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
   * @param space the long factors' space: L0 and the target they serve (a short-factor search: those of {@code longSet})
   * @param documents the validation documents, each exactly {@link #documentLength()} tokens
   * @param longSet a short-factor search's long factor set ({@code search.long_factors}); null for a long-factor search
   * @param init {@code search.init_factors}' long factors rescaled to the target; null when not set
   */
  public record Prepared(ExperimentConfig config, String model, String modelSha256, SearchSpace space, List<EvalDocument> documents,
      FactorFile longSet, double[] init) {

    /** What else the result depends on: the model's content and the documents. */
    String context() {
      int[] hashes = documents.stream().mapToInt(d -> Arrays.hashCode(d.ids())).toArray();
      return "model sha256 " + modelSha256 + ", documents " + Integer.toHexString(Arrays.hashCode(hashes)) + ", dtype "
          + config.model().dtype();
    }

    /** Whether this search finds short factors. */
    boolean shortFactors() {
      return longSet != null;
    }

    /** Tokens per document: the target, or for short factors a length ≤ L0. */
    int documentLength() {
      return documents.get(0).ids().length;
    }

    /** Population 0's fixed members and the factor range. */
    Start start() {
      return shortFactors() ? Start.shortFactors(longSet.longFactors(), config.search().maxShortFactor())
          : Start.longFactors(config.search(), space, init);
    }

    /** The rope a candidate is scored with: longrope with its factors as the long ones, or as a long set's short ones. */
    RopeConfig rope(Genome g) {
      return shortFactors() ? longSet.withShortFactor(g.factorList(), null, null, null).toRopeConfig(0)
          : g.toRope(space, config.search().mscale());
    }
  }

  /** Checks the config, resolves the model and its shape, and builds the documents. */
  public static Prepared prepare(ExperimentConfig config) throws IOException {
    SearchConfig search = config.search();
    if (search.targetLength() == 0 && !search.searchesShortFactors()) {
      throw new ConfigException("search.target_length: required (the window the factors are searched for, larger than the model's)");
    }
    if (config.model().path().isEmpty()) {
      throw new ConfigException("model.path: required (the model whose factors are searched)");
    }
    Configuration conf = Storage.defaultConf();
    org.apache.hadoop.fs.Path folder = EvalJob.modelFolder(config.model().path(), "model.path", conf);
    LlamaConfig model = ModelWeights.readConfig(folder, conf);
    FactorFile longSet = search.searchesShortFactors() ? readFactors("search.long_factors", search.longFactors()) : null;
    int original = longSet != null ? longSet.originalLength()
        : search.originalLength() > 0 ? search.originalLength() : EvalJob.originalWindow(folder, null, conf);
    int length;
    SearchSpace space;
    double[] init = null;
    try {
      if (longSet != null) {
        checkShortSearch(search, longSet, model);
        length = search.targetLength() == 0 ? original : search.targetLength();
        space = new SearchSpace(model.headDim(), model.rope().ropeTheta(), original, longSet.targetLength());
      } else {
        length = search.targetLength();
        space = new SearchSpace(model.headDim(), model.rope().ropeTheta(), original, search.targetLength());
        if (!search.initFactors().isEmpty()) {
          init = initFactors(readFactors("search.init_factors", search.initFactors()), space);
        }
      }
    } catch (ConfigException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw new ConfigException("search." + e.getMessage());
    }
    TokenizerSpec tokenizer = EvalJob.readTokenizer("search.tokenizer", search.tokenizer(), folder.toString(),
        config.data().tokenizer(), conf);
    List<EvalDocument> documents;
    try (TextTokenizer t = TextTokenizer.create(tokenizer, true)) {
      PasskeyPrompt.Encoder encoder = PasskeyPrompt.Encoder.of(t, search.addBos() ? tokenizer.bosId() : -1);
      documents = EvalDocument.of(search.data(), encoder, EvalPlan.heldOutSeed(search.seed()), search.documents(),
          length, length);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("search.data: " + e.getMessage());
    }
    if (documents.isEmpty()) {
      throw new ConfigException("search.data: " + search.data() + " has no row of at least " + length
          + " tokens (search.target_length)");
    }
    List<EvalDocument> cut = new ArrayList<>();
    for (EvalDocument d : documents) {
      cut.add(new EvalDocument(d.index(), d.source(), Arrays.copyOf(d.ids(), length)));
    }
    return new Prepared(config, folder.toString(), sha256(folder, conf), space, List.copyOf(cut), longSet, init);
  }

  private static FactorFile readFactors(String key, String file) {
    try {
      return FactorFile.read(Path.of(file));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(key + ": " + e.getMessage());
    }
  }

  /**
   * A short-factor search reads documents of at most L0 tokens (where transformers' longrope uses
   * the short factors); the long-factor seeds and n̂ belong to long searches.
   */
  private static void checkShortSearch(SearchConfig search, FactorFile longSet, LlamaConfig model) {
    if (longSet.longFactor().size() != model.headDim() / 2) {
      throw new ConfigException("search.long_factors: has " + longSet.longFactor().size() + " factors, the model needs head_dim/2 = "
          + model.headDim() / 2);
    }
    if (search.targetLength() > longSet.originalLength()) {
      throw new ConfigException("search.target_length: a short-factor search reads documents of at most L0 = "
          + longSet.originalLength() + " tokens (0 = L0), got " + search.targetLength());
    }
    if (search.includePi() || search.includeNtk() || search.includeYarn() || search.searchesStartTokens()) {
      throw new ConfigException("search.include_pi, include_ntk, include_yarn and start_tokens: not used by a short-factor search "
          + "(search.long_factors set); it starts from the original rope and the long factors");
    }
  }

  /**
   * {@code init_factors}' long factors rescaled to this search's target (docs/methods.md §3:
   * {@code λ' = 1 + (λ − 1)·(L/L0 − 1)/(S/L0 − 1)}, here usually to a longer target), as the
   * reference seeds a search with earlier factors [microsoft/LongRoPE {@code evolution/search.py}:
   * {@code --init-factors}, {@code rescale}].
   */
  static double[] initFactors(FactorFile file, SearchSpace space) {
    if (file.originalLength() != space.originalLength()) {
      throw new ConfigException("search.init_factors: factors for L0 = " + file.originalLength() + " cannot seed a search from L0 = "
          + space.originalLength());
    }
    if (file.longFactor().size() != space.factorCount()) {
      throw new ConfigException("search.init_factors: has " + file.longFactor().size() + " factors, the model needs head_dim/2 = "
          + space.factorCount());
    }
    return Factors.rescale(file.longFactors(), file.originalLength(), file.targetLength(), space.targetLength());
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
      String speed = candidatesPerSecond > 0 ? String.format(Locale.ROOT, "%.3f candidates/s", candidatesPerSecond)
          : "finished earlier: nothing left to score";
      if (p.containsKey("short_best")) {
        return String.format(Locale.ROOT,
            "short-factor search: %d generations, %d candidates; perplexity at %d tokens: short factors 1 %.4f, original rope %.4f, "
                + "searched %.4f (%s)", state.generations(), state.individuals().size(), (Integer) factors.search().get("short_length"),
            p.get("short_start"), p.get("short_original"), p.get("short_best"), speed);
      }
      return String.format(Locale.ROOT,
          "search: %d generations, %d candidates; perplexity at %d tokens: start %.4f, PI %.4f, YaRN %.4f, searched %.4f (%s)",
          state.generations(), state.individuals().size(), factors.targetLength(), p.get("start"), p.get("pi"), p.get("yarn"),
          p.get("best"), speed);
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
    Broadcast<List<EvalDocument>> documents = jsc.broadcast(broadcastable(prepared.documents()));
    long start = System.nanoTime();
    try {
      Scorer scorer = new Scorer(jsc, prepared, documents);
      Map<String, Double> refs = new LinkedHashMap<>();
      if (prepared.shortFactors()) {
        progress.printf(Locale.ROOT, "search: short factors of %s (L0 %d → %d) for %s, documents of %d tokens, factors within [1, %s], "
                + "%d documents, on %s (%d cores)%n", sc.longFactors(), space.originalLength(), space.targetLength(), prepared.model(),
            prepared.documentLength(), sc.maxShortFactor(), prepared.documents().size(), spark.sparkContext().master(),
            jsc.defaultParallelism());
        // the model's rope without any scaling: what short-context quality is measured against
        refs.put("original rope", scorer.perplexities(List.of(RopeConfig.defaults()))[0]);
      } else {
        progress.printf(Locale.ROOT, "search: %s, L0 %d → %d (s = %.4g), %d factors, %d documents, on %s (%d cores)%n",
            prepared.model(), space.originalLength(), space.targetLength(), space.scale(), space.factorCount(),
            prepared.documents().size(), spark.sparkContext().master(), jsc.defaultParallelism());
        double[] r = scorer.perplexities(List.of(
            RopeConfig.builder("linear").factor(space.scale()).build(),
            RopeConfig.builder("yarn").factor(space.scale()).originalMaxPositionEmbeddings(space.originalLength()).build()));
        refs.put("PI", r[0]);
        refs.put("YaRN", r[1]);
      }
      progress.printf(Locale.ROOT, "search: references at %d tokens: %s%n", prepared.documentLength(), describe(refs));
      EvolutionarySearch search = new EvolutionarySearch(sc, prepared.start(), prepared.context());
      StateFile store = new StateFile(out.resolve(STATE));
      Progress listener = new Progress(sc, prepared, out, refs, progress);
      SearchState state = search.run(batch -> scorer.perplexities(batch.stream().map(prepared::rope).toList()), store, listener);
      FactorFile factors = listener.factors(state);
      factors.write(out.resolve(FACTORS));
      String title = prepared.shortFactors()
          ? "LongRoPE short factors at " + prepared.documentLength() + " tokens"
          : "LongRoPE search: " + space.originalLength() + " → " + space.targetLength() + " tokens";
      SearchChart.write(out, title, state.bestByGeneration(), refs);
      double seconds = (System.nanoTime() - start) / 1e9;
      return new Result(state, factors, listener.candidatesPerSecond(), seconds);
    } finally {
      documents.destroy();
      SearchScoring.releaseAll();
    }
  }

  /**
   * A copy Kryo can read back on an executor: it rebuilds a list by adding to a new instance of
   * its class, which an immutable {@code List.copyOf} refuses (UnsupportedOperationException on
   * a real cluster; local mode never deserializes a broadcast, so only a cluster shows it).
   */
  static List<EvalDocument> broadcastable(List<EvalDocument> documents) {
    return new ArrayList<>(documents);
  }

  private static String describe(Map<String, Double> refs) {
    StringBuilder sb = new StringBuilder();
    refs.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append(String.format(Locale.ROOT, " %.4f", v)));
    return sb.toString();
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
    private final Prepared prepared;
    private final Path out;
    private final Map<String, Double> refs;
    private final PrintStream progress;
    private double seconds;
    private long scored;
    private int generationsRun;

    Progress(SearchConfig config, Prepared prepared, Path out, Map<String, Double> refs, PrintStream progress) {
      this.config = config;
      this.prepared = prepared;
      this.out = out;
      this.refs = refs;
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
      progress.printf(Locale.ROOT, "search: generation %d/%d: %d candidates in %.1f s (%.2f candidates/s), best %.4f (start %.4f, %s)%s%n",
          state.generations(), config.iterations(), batch.size(), secs, batch.size() / Math.max(secs, 1e-9), state.best().perplexity(),
          state.individuals().get(0).perplexity(), describe(refs),
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
      Map<String, Double> ppl = new LinkedHashMap<>();
      if (prepared.shortFactors()) {
        // the long set's own figures stay; the short search adds its own at its document length
        FactorFile longSet = prepared.longSet();
        ppl.putAll(longSet.perplexity());
        ppl.put("short_start", state.individuals().get(0).perplexity());
        ppl.put("short_original", refs.get("original rope"));
        ppl.put("short_best", best.perplexity());
        facts.put("short_length", prepared.documentLength());
        facts.put("max_short_factor", config.maxShortFactor());
        facts.put("long_factors_from", config.longFactors());
        return longSet.withShortFactor(g.factorList(), model, ppl, facts);
      }
      ppl.put("start", state.individuals().get(0).perplexity());
      ppl.put("pi", refs.get("PI"));
      ppl.put("yarn", refs.get("YaRN"));
      ppl.put("best", best.perplexity());
      if (prepared.init() != null) {
        facts.put("init_factors", config.initFactors());
      }
      SearchSpace space = prepared.space();
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
