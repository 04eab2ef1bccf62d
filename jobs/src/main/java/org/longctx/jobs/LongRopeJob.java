package org.longctx.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.longctx.checkpoints.Storage;
import org.longctx.jobs.config.ConfigException;
import org.longctx.jobs.config.ConfigLoader;
import org.longctx.jobs.config.ExperimentConfig;
import org.longctx.jobs.spark.SparkSessions;
import org.longctx.search.FactorFile;
import org.longctx.trainer.HfExport;
import org.longctx.trainer.recipes.StopSignal;

/**
 * LongRoPE's progressive recipe (docs/longrope.md, docs/methods.md §3 "Progressive plan") as one
 * resumable command: the stages of the {@code longrope:} section run in order, each through the
 * job it names ({@link SearchJob} for long and short factors, {@link TrainJob} for a fine-tune,
 * {@link HfExport} for the export), each in its own folder; a rerun skips finished stages and
 * re-enters the first unfinished one through that job's own resume.
 *
 * <pre>Usage: longctx longrope --config X.yaml [--set key=value]... [--out DIR] [--overwrite]</pre>
 */
public final class LongRopeJob {
  static final String USAGE = """
      Usage: longctx longrope --config X.yaml [--set key=value]... [--out DIR] [--overwrite]

      Runs LongRoPE's progressive recipe, the stages listed under longrope.stages, e.g.
        search L1 → train at L1 → search L2 on the fine-tuned model → train at L2
        → short factors at L0 → export
      Every stage's config is the file's (with --set) plus the stage's own set: overrides, plus
      what the pipeline fills in: the model (the base, or the last fine-tune's), the factors (the
      last search's), the length and the stage's folder.
        search  long factors for length tokens (search: section), seeded with the last factors
        train   fine-tune (train: section's recipe, e.g. pose) with the last factors as the rope
                at length tokens (default the last search's target)
        short   short factors (used up to L0) for the last factors, read at length tokens (default L0)
        export  a Hugging Face folder of the last model with the last factors as longrope
                (short_factor and long_factor), in train.export_dtype

      Writes into DIR (default output.dir, else runs/NAME): one folder per stage
      (1-search-2048/, 2-train-2048/, ..., N-export/hf/), each with stage.json once it finished,
      and longrope.json: every stage, its state, seconds and perplexities.
      Rerunning the same command skips finished stages and continues the first unfinished one
      (a search from its state.json, a fine-tune from its last checkpoint); --overwrite deletes
      DIR's pipeline and starts again.
      """;

  public static final Subcommand COMMAND = new Subcommand(
      "longrope", USAGE, Set.of("--overwrite"), Set.of("--config", "--set", "--out"), LongRopeJob::run);

  static final String SUMMARY = "longrope.json";

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private LongRopeJob() {}

  public static void main(String[] args) {
    Subcommand.main(COMMAND, args);
  }

  static int run(Args args) throws Exception {
    args.noPositionals();
    String configFile = args.value("--config").orElseThrow(() -> new UsageException("--config X.yaml is required"));
    String yaml;
    try {
      yaml = Files.readString(Path.of(configFile));
    } catch (IOException e) {
      throw new ConfigException("cannot read config " + configFile + ": " + e.getMessage(), e);
    }
    ExperimentConfig config = Subcommand.loadConfig(args);
    Path out = Path.of(args.value("--out").orElse(config.output().resolveDir(config.name())));
    return pipeline(yaml, configFile, args.values("--set"), out, args.flag("--overwrite"), StopSignal.installOnSignals(), System.out);
  }

  /**
   * Runs (or continues) the pipeline of {@code yaml} into {@code out}; returns the exit status
   * (a fine-tune stopped by a signal stops the pipeline with its status).
   */
  static int pipeline(String yaml, String source, List<String> overrides, Path out, boolean overwrite, StopSignal stop,
      PrintStream progress) throws Exception {
    ExperimentConfig config = ConfigLoader.parse(yaml, source, overrides);
    List<LongRopePlan.Stage> stages = LongRopePlan.of(config.longrope());
    for (LongRopePlan.Stage s : stages) {
      stageConfig(yaml, source, overrides, s, List.of()); // every stage's overrides are checked before anything runs
    }
    prepareOutput(out, overwrite);
    Files.createDirectories(out);
    Pipeline p = new Pipeline(yaml, source, overrides, out, stages, stop, progress, config.model().path());
    return p.run();
  }

  /** --overwrite deletes a pipeline's folder; a non-empty folder that is not a pipeline's is refused. */
  static void prepareOutput(Path out, boolean overwrite) throws IOException {
    if (!Files.isDirectory(out)) {
      return;
    }
    boolean pipeline = Files.isRegularFile(out.resolve(SUMMARY));
    boolean empty;
    try (Stream<Path> entries = Files.list(out)) {
      empty = entries.findAny().isEmpty();
    }
    if (!empty && !pipeline) {
      throw new UsageException(out + " is not empty and holds no " + SUMMARY + " (not a longrope pipeline's folder); use another --out");
    }
    if (overwrite && pipeline) {
      Storage.deleteTree(out);
    }
  }

  /** A stage's config: the file, --set, the stage's own set:, then what the pipeline decides. */
  static ExperimentConfig stageConfig(String yaml, String source, List<String> overrides, LongRopePlan.Stage stage, List<String> derived) {
    List<String> all = new ArrayList<>(overrides);
    all.addAll(stage.set());
    all.addAll(derived);
    try {
      return ConfigLoader.parse(yaml, source, all);
    } catch (ConfigException e) {
      throw new ConfigException("longrope.stages[" + (stage.index() - 1) + "] (" + stage.kind() + "): " + e.getMessage(), e);
    }
  }

  /** The pipeline being run: the stages, where their outputs go, and what each one hands on. */
  private static final class Pipeline {
    private final String yaml;
    private final String source;
    private final List<String> overrides;
    private final Path out;
    private final List<LongRopePlan.Stage> stages;
    private final StopSignal stop;
    private final PrintStream progress;
    private final String baseModel;

    Pipeline(String yaml, String source, List<String> overrides, Path out, List<LongRopePlan.Stage> stages, StopSignal stop,
        PrintStream progress, String baseModel) {
      this.stop = stop;
      this.yaml = yaml;
      this.source = source;
      this.overrides = overrides;
      this.out = out;
      this.stages = stages;
      this.progress = progress;
      this.baseModel = baseModel;
    }

    int run() throws Exception {
      long t0 = System.nanoTime();
      writeSummary();
      for (LongRopePlan.Stage s : stages) {
        String head = String.format(Locale.ROOT, "longrope: stage %d/%d %s", s.index(), stages.size(), s.describe());
        if (s.done(out)) {
          progress.println(head + ": finished earlier (" + out.resolve(s.folder()) + ")");
          continue;
        }
        progress.println(head + " → " + out.resolve(s.folder()) + " (model " + modelName(s.model()) + (s.factors() == 0 ? ""
            : ", factors " + stageOf(s.factors()).folder()) + ")");
        long start = System.nanoTime();
        Map<String, Object> result = new LinkedHashMap<>();
        int status = switch (s.kind()) {
          case "search", "short" -> search(s, result);
          case "train" -> train(s, result);
          case "export" -> export(s, result);
          default -> throw new IllegalStateException(s.kind());
        };
        if (status != 0) {
          progress.println(head + ": stopped (status " + status + "); rerun the same command to continue");
          writeSummary();
          return status;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, Object> done = new LinkedHashMap<>();
        done.put("spec", s.spec());
        done.put("stage", s.kind());
        done.put("length", s.length());
        done.put("seconds", seconds);
        done.putAll(result);
        writeJson(out.resolve(s.folder()).resolve(LongRopePlan.DONE), done);
        progress.printf(Locale.ROOT, "%s: done in %.0f s%n", head, seconds);
        writeSummary();
      }
      progress.printf(Locale.ROOT, "longrope: %d stages finished (%.0f s in this run); summary %s%n", stages.size(),
          (System.nanoTime() - t0) / 1e9, out.resolve(SUMMARY));
      return 0;
    }

    private LongRopePlan.Stage stageOf(int index) {
      return stages.get(index - 1);
    }

    /** The model a stage reads: the base, or a fine-tune's Hugging Face export. */
    private String model(int index) {
      return index == 0 ? Path.of(baseModel).toAbsolutePath().toString()
          : out.resolve(stageOf(index).folder()).resolve("hf").toAbsolutePath().toString();
    }

    private String modelName(int index) {
      return index == 0 ? baseModel : stageOf(index).folder() + "/hf";
    }

    private Path factors(int index) {
      return out.resolve(stageOf(index).folder()).resolve(SearchJob.FACTORS).toAbsolutePath();
    }

    /** A search (long factors, seeded with the last ones) or a short search (of the last factors), through SearchJob. */
    private int search(LongRopePlan.Stage s, Map<String, Object> result) throws Exception {
      Path dir = out.resolve(s.folder());
      List<String> derived = new ArrayList<>();
      derived.add("model.path=" + DemoJob.quoted(Path.of(model(s.model()))));
      if (s.kind().equals("search")) {
        derived.add("search.target_length=" + s.length());
        derived.add("search.init_factors=" + (s.factors() == 0 ? "''" : DemoJob.quoted(factors(s.factors()))));
        derived.add("search.long_factors=''");
      } else {
        derived.add("search.target_length=" + s.length());
        derived.add("search.long_factors=" + DemoJob.quoted(factors(s.factors())));
        derived.add("search.init_factors=''");
      }
      ExperimentConfig config = stageConfig(yaml, source, overrides, s, derived);
      SearchJob.prepareOutput(dir, false);
      SearchJob.Prepared prepared = SearchJob.prepare(config);
      SearchJob.Result r;
      try (SparkSession spark = SparkSessions.create(config.spark(), "longrope")) {
        r = SearchJob.execute(spark, prepared, dir, progress);
      }
      progress.println(r.summary());
      result.put("factors", dir.resolve(SearchJob.FACTORS).toString());
      result.put("perplexity", r.factors().perplexity());
      result.put("candidates", r.state().individuals().size());
      result.put("long_factor", r.factors().longFactor());
      result.put("short_factor", r.factors().shortFactor());
      return 0;
    }

    /** A fine-tune through TrainJob with the last factors as the rope; resumes from its checkpoints. */
    private int train(LongRopePlan.Stage s, Map<String, Object> result) throws Exception {
      Path dir = out.resolve(s.folder());
      FactorFile f = FactorFile.read(factors(s.factors()));
      List<String> derived = new ArrayList<>();
      derived.add("model.path=" + DemoJob.quoted(Path.of(model(s.model()))));
      derived.add("rope={factors: " + DemoJob.quoted(factors(s.factors())) + (s.length() == f.targetLength() ? "" : ", length: "
          + s.length()) + "}");
      derived.add("pose.target_len=" + s.length());
      derived.add("output.dir=" + DemoJob.quoted(dir.toAbsolutePath()));
      derived.add("output.overwrite=false");
      derived.add("train.export_at_end=true");
      ExperimentConfig config = stageConfig(yaml, source, overrides, s, derived);
      boolean resume = hasCheckpoint(dir.resolve("checkpoints"));
      if (resume) {
        progress.println("longrope: resuming the fine-tune from " + dir.resolve("checkpoints"));
      }
      int status = TrainJob.train(config, resume, stop);
      if (status != 0) {
        return status;
      }
      JsonNode summary = JSON.readTree(dir.resolve("summary.json").toFile());
      result.put("model", dir.resolve("hf").toString());
      result.put("recipe", config.train().recipe());
      result.put("steps", config.train().steps());
      result.put("final_loss", summary.path("final_loss").asDouble(Double.NaN));
      return 0;
    }

    /** The last model with the last factors as a transformers longrope rope, through HfExport. */
    private int export(LongRopePlan.Stage s, Map<String, Object> result) throws Exception {
      Path hf = out.resolve(s.folder()).resolve("hf");
      if (Files.exists(hf)) {
        Storage.deleteTree(hf); // an export interrupted earlier: write it again
      }
      FactorFile f = FactorFile.read(factors(s.factors()));
      if (f.startTokens() > 0) {
        throw new ConfigException("longrope.stages[" + (s.index() - 1) + "]: the factors keep n̂ = " + f.startTokens()
            + " start tokens, which transformers' longrope cannot express; search without search.start_tokens to export");
      }
      String dtype = stageConfig(yaml, source, overrides, s, List.of()).train().exportDtype(); // as the fine-tunes export
      HfExport.Result r = HfExport.export(Storage.path(Path.of(model(s.model()))), Storage.path(hf), dtype,
          HfExport.parseSize("5GB"), null, Storage.defaultConf(), f.toRopeConfig(0), f.targetLength());
      progress.println("exported " + r.config().architecture().className() + " (rope " + r.config().rope().ropeType() + ", " + dtype
          + ") to " + r.folder());
      result.put("model", hf.toString());
      result.put("factors", factors(s.factors()).toString());
      result.put("max_position_embeddings", f.targetLength());
      result.put("original_max_position_embeddings", f.originalLength());
      return 0;
    }

    private static boolean hasCheckpoint(Path checkpoints) throws IOException {
      if (!Files.isDirectory(checkpoints)) {
        return false;
      }
      try (Stream<Path> steps = Files.list(checkpoints)) {
        return steps.anyMatch(p -> p.getFileName().toString().startsWith("step-"));
      }
    }

    /** longrope.json: every stage with its state and, once finished, what its stage.json holds. */
    private void writeSummary() throws IOException {
      List<Map<String, Object>> rows = new ArrayList<>();
      for (LongRopePlan.Stage s : stages) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("stage", s.index());
        row.put("kind", s.kind());
        row.put("length", s.length());
        row.put("folder", s.folder());
        Path done = out.resolve(s.folder()).resolve(LongRopePlan.DONE);
        if (Files.isRegularFile(done)) {
          row.put("state", "done");
          JSON.readTree(done.toFile()).fields().forEachRemaining(e -> {
            if (!e.getKey().equals("spec") && !e.getKey().equals("stage") && !e.getKey().equals("length")) {
              row.put(e.getKey(), e.getValue());
            }
          });
        } else {
          row.put("state", Files.isDirectory(out.resolve(s.folder())) ? "started" : "pending");
        }
        rows.add(row);
      }
      Map<String, Object> summary = new LinkedHashMap<>();
      summary.put("format", "longctx-longrope-pipeline");
      summary.put("base_model", baseModel);
      summary.put("stages", rows);
      writeJson(out.resolve(SUMMARY), summary);
    }
  }

  /** Written beside the file, then renamed over it. */
  private static void writeJson(Path file, Object value) throws IOException {
    Path temp = file.resolveSibling("." + file.getFileName() + ".tmp");
    Files.createDirectories(file.getParent());
    JSON.writeValue(temp.toFile(), value);
    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
