package org.longctx.trainer.recipes;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import org.apache.hadoop.fs.Path;
import org.longctx.checkpoints.Storage;
import org.longctx.data.DataConfig;
import org.longctx.positional.RopeConfig;
import org.longctx.trainer.FotConfig;
import org.longctx.trainer.ModelConfig;
import org.longctx.trainer.PoseConfig;
import org.longctx.trainer.TrainConfig;

/**
 * Everything a recipe needs to run: the config sections it reads, where it writes, and how it
 * is stopped.
 *
 * <p>Output folder layout, on the local disk or any Hadoop file system (HDFS, S3A, ABFS, GCS):
 * <pre>
 * OUT/metrics.jsonl        one JSON line per step, each step once (a resume drops lines after its checkpoint)
 * OUT/summary.json         the final summary
 * OUT/tokenizer/           the tokenizer the run used (copied into exports)
 * OUT/checkpoints/step-N/  training checkpoints (weights, optimizer, state), the newest K kept
 * OUT/hf/                  the Hugging Face export after the last step (train.export_at_end)
 * </pre>
 * On a remote file system the metrics are written to a local folder ({@link #metricsDir()}) and
 * copied to OUT with every checkpoint and at the end (object stores cannot append), so OUT's
 * metrics always reach at least the latest checkpoint.
 *
 * @param train the {@code train:} section
 * @param model the {@code model:} section
 * @param data the {@code data:} section (prepared data, tokenizer, BOS/EOS rules)
 * @param rope the {@code rope:} section, or null to keep the model's rope
 * @param pose the {@code pose:} section (null: its defaults)
 * @param fot the {@code fot:} section (null: its defaults)
 * @param outputDir OUT: a local folder or any Hadoop URI
 * @param resume continue from the latest checkpoint in {@code OUT/checkpoints}
 * @param experiment the resolved experiment config, stored in every checkpoint
 * @param stop raised to end the run early with a checkpoint
 */
public record TrainingRun(TrainConfig train, ModelConfig model, DataConfig data, RopeConfig rope, PoseConfig pose, FotConfig fot,
    Path outputDir, boolean resume, JsonNode experiment, StopSignal stop) {

  public TrainingRun {
    if (train == null || model == null || data == null || outputDir == null) {
      throw new IllegalArgumentException("train, model, data and outputDir are required");
    }
    stop = stop == null ? StopSignal.manual() : stop;
  }

  /** A run writing into a local folder. */
  public TrainingRun(TrainConfig train, ModelConfig model, DataConfig data, RopeConfig rope, PoseConfig pose, FotConfig fot,
      java.nio.file.Path outputDir, boolean resume, JsonNode experiment, StopSignal stop) {
    this(train, model, data, rope, pose, fot, Storage.path(outputDir), resume, experiment, stop);
  }

  public Path checkpointDir() {
    return new Path(outputDir, "checkpoints");
  }

  public Path exportDir() {
    return new Path(outputDir, "hf");
  }

  public Path tokenizerDir() {
    return new Path(outputDir, "tokenizer");
  }

  /** Whether OUT is on the local disk. */
  public boolean localOutput() {
    return Storage.isLocal(outputDir);
  }

  /**
   * Where the metrics are written as the run goes: OUT itself when it is local, else a folder
   * under {@code java.io.tmpdir} named after OUT (so a resumed run on the same machine finds it;
   * on another machine the copy in OUT is fetched first).
   */
  public java.nio.file.Path metricsDir() {
    if (localOutput()) {
      return java.nio.file.Path.of(outputDir.toUri().getPath());
    }
    byte[] name = outputDir.toString().getBytes(StandardCharsets.UTF_8);
    String key = HexFormat.of().formatHex(Arrays.copyOf(sha256(name), 8));
    return java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "longctx-metrics-" + key);
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
