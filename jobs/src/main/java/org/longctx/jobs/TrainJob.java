package org.longctx.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Path;
import java.util.Set;
import org.longctx.checkpoints.Storage;
import org.longctx.jobs.config.ConfigLoader;
import org.longctx.jobs.config.ExperimentConfig;
import org.longctx.trainer.recipes.TrainingSession;
import org.longctx.trainer.recipes.StopSignal;
import org.longctx.trainer.recipes.TrainingResult;
import org.longctx.trainer.recipes.TrainingRun;

/**
 * Trains a model with the recipe the config names ({@code train.recipe}), writing checkpoints,
 * metrics and, at the end, a Hugging Face folder.
 *
 * <pre>Usage: longctx train --config X.yaml [--resume] [--set key=value]...</pre>
 */
public final class TrainJob {
  static final String USAGE = """
      Usage: longctx train --config X.yaml [--resume] [--set section.key=value]...

      Runs train.recipe in this process (one replica; CPU float32), or with distributed.workers N > 1
      as N data-parallel replicas on the Spark master's executors (docs/distributed.md):
        pretrain  causal LM on packed rows of train.seq_len tokens, from model.init (random,
                  seeded) or from model.path
        pose      PoSE fine-tuning of model.path: train at Lc = train.seq_len while position ids
                  span Lt = pose.target_len, with the rope: section at the target factor

      Writes into output.dir (default runs/<name>):
        metrics.jsonl   one line per step: loss, lr, grad_norm, tokens_per_s, loss_scale, skipped
        summary.json    the final summary
        checkpoints/    step-N every train.checkpoint_every steps, at the end and on SIGTERM or
                        Ctrl-C (the newest train.keep_checkpoints are kept)
        hf/             with train.export_at_end: a Hugging Face folder whose config.json carries
                        the rope scaling that was trained
        tokenizer/      the tokenizer the run used

      --resume   continue from the latest checkpoint in output.dir: weights, AdamW moments, loss
                 scaler, step and data position are restored, so the run goes on exactly as if
                 it had never stopped
      --set      override one key, e.g. --set train.steps=20

      Exit status: 0 when the run completed, 143 (SIGTERM) or 130 (SIGINT) when it stopped
      early after saving a checkpoint.
      """;

  public static final Subcommand COMMAND = new Subcommand(
      "train", USAGE,
      Set.of("--resume"), Set.of("--config", "--set"), TrainJob::run);

  private TrainJob() {}

  public static void main(String[] args) {
    Subcommand.main(COMMAND, args);
  }

  static int run(Args args) throws Exception {
    args.noPositionals();
    if (args.value("--config").isEmpty()) {
      throw new UsageException("--config X.yaml is required");
    }
    ExperimentConfig config = Subcommand.loadConfig(args);
    return train(config, args.flag("--resume"), StopSignal.installOnSignals());
  }

  /** Runs the configured recipe; returns the exit status. */
  static int train(ExperimentConfig config, boolean resume, StopSignal stop) throws Exception {
    org.apache.hadoop.fs.Path out = Storage.outputPath(config.output().resolveDir(config.name())); // local or any Hadoop URI
    if (config.output().overwrite() && !resume) {
      Storage.deleteTree(out, Storage.defaultConf());
    }
    JsonNode experiment = new ObjectMapper(new YAMLFactory()).readTree(ConfigLoader.toYaml(config));
    if (config.distributed().usesExecutors()) {
      // only here are Spark classes loaded: a one-process run needs none of them
      org.longctx.jobs.spark.DistributedTraining.Outcome outcome = org.longctx.jobs.spark.DistributedTraining.train(config, resume);
      System.out.println(outcome.describe());
      System.out.printf(java.util.Locale.ROOT, "  replicas:   %d (ring), %.1f s in the ring of %.1f s of steps (%.1f %%), %s stage attempt(s)%n",
          config.distributed().workers(), outcome.communicationSeconds(), outcome.trainSeconds(), 100 * outcome.communicationShare(),
          outcome.stageAttempt() + 1);
      return outcome.stoppedBy() == null ? 0 : 143;
    }
    TrainingRun run = new TrainingRun(config.train(), config.model(), config.data(), config.rope(), config.pose(), config.fot(), out, resume,
        experiment, stop);
    TrainingResult result = TrainingSession.trainAlone(run);
    System.out.println(describe(result, out));
    if (result.stoppedBy() != null) {
      return "SIGINT".equals(result.stoppedBy()) ? 130 : 143;
    }
    return 0;
  }

  /** The summary {@code longctx train} prints (also rank 0's report in a distributed run). */
  public static String describe(TrainingResult r, org.apache.hadoop.fs.Path out) {
    StringBuilder sb = new StringBuilder();
    sb.append("train ").append(r.recipe()).append(": step ").append(r.step()).append('/').append(r.totalSteps());
    if (r.summary() != null) {
      sb.append(String.format(", final loss %.4f (mean of last %d: %.4f), %.0f tokens/s, %d skipped step(s)",
          r.summary().finalLoss(), Math.min(20, r.losses().size()), r.summary().meanLossLast(), r.summary().tokensPerS(),
          r.summary().skippedSteps()));
    }
    if (r.stoppedBy() != null) {
      sb.append("\n  stopped by ").append(r.stoppedBy()).append("; continue with --resume");
    }
    sb.append("\n  metrics:    ").append(Storage.display(new org.apache.hadoop.fs.Path(out, "metrics.jsonl")));
    if (r.checkpoint() != null) {
      sb.append("\n  checkpoint: ").append(Storage.display(r.checkpoint()));
    }
    if (r.export() != null) {
      sb.append("\n  exported:   ").append(Storage.display(r.export()));
    }
    return sb.toString();
  }
}
