package org.longctx.jobs;

import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.SparkSession;
import org.longctx.data.DataConfig;
import org.longctx.data.prepare.PreparePipeline;
import org.longctx.jobs.config.ConfigException;
import org.longctx.jobs.config.ExperimentConfig;
import org.longctx.jobs.spark.SparkSessions;

/**
 * Tokenizes raw Pile / RedPajama shards into Arrow shards for training.
 *
 * <pre>Usage: longctx prepare --config X.yaml [--set data.key=value]... [--overwrite]</pre>
 */
public final class PrepareJob {
  static final String USAGE = """
      Usage: longctx prepare --config X.yaml [--set key=value]... [--overwrite]
         or: spark-submit --class org.longctx.jobs.PrepareJob longctx-jobs-VERSION-spark.jar --config X.yaml

      Reads data.inputs (globs of .jsonl, .jsonl.gz, .jsonl.zst on any Hadoop file system),
      tokenizes with data.tokenizer, filters (sources, duplicates, min/max tokens) and writes
      data.prepared/: part-NNNNN.arrow (one per input file), manifest.json (counts per filter,
      reason and source; length histogram; tokenizer fingerprint; the config), rejects/
      (every bad record with file, line, reason and its first bytes) and _SUCCESS.
      The output appears all at once when the job succeeds.

      --overwrite   replace an existing data.prepared (also: output.overwrite: true)
      --set         override a key, e.g. --set data.min_tokens=8192 --set spark.master=spark://host:7077
      """;

  public static final Subcommand COMMAND = new Subcommand(
      "prepare", USAGE,
      Set.of("--overwrite"), Set.of("--config", "--set"), PrepareJob::run);

  private PrepareJob() {}

  public static void main(String[] args) {
    Subcommand.main(COMMAND, args);
  }

  static int run(Args args) throws Exception {
    args.noPositionals();
    ExperimentConfig config = Subcommand.loadConfig(args);
    DataConfig data = config.data();
    try {
      data.checkReadyToPrepare();
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
    boolean overwrite = args.flag("--overwrite") || config.output().overwrite();
    PreparePipeline.Outcome outcome;
    try (SparkSession spark = SparkSessions.create(config.spark(), "prepare")) {
      outcome = PreparePipeline.run(spark, data, overwrite);
    } catch (PreparePipeline.OutputExistsException e) {
      throw new UsageException(e.getMessage());
    } catch (IllegalArgumentException e) {
      if (String.valueOf(e.getMessage()).startsWith("data.")) {
        throw new ConfigException(e.getMessage()); // a bad path or token name in the config
      }
      throw e;
    }
    System.out.println(summary(outcome));
    return 0;
  }

  /** One paragraph for the terminal; the manifest has everything. */
  static String summary(PreparePipeline.Outcome o) {
    Map<String, Long> reasons = new java.util.LinkedHashMap<>();
    o.manifest().path("counts").path("rejected").properties()
        .forEach(e -> {
          if (e.getValue().asLong() > 0) {
            reasons.put(e.getKey(), e.getValue().asLong());
          }
        });
    String why = reasons.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
    return "prepared " + o.output() + "\n"
        + "  records in " + o.recordsIn() + ", kept " + o.kept() + " (" + o.tokens() + " tokens), rejected "
        + o.rejected() + (why.isEmpty() ? "" : " (" + why + ")") + "\n"
        + "  rows written " + o.manifest().path("output").path("rows").asLong()
        + ", rejects written " + o.manifest().path("counts").path("rejects_written").asLong()
        + "; details in manifest.json";
  }
}
