package org.longctx.trainer.recipes;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
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
 * <p>Output folder layout:
 * <pre>
 * OUT/metrics.jsonl        one JSON line per step, each step once (a resume drops lines after its checkpoint)
 * OUT/summary.json         the final summary
 * OUT/tokenizer/           the tokenizer the run used (copied into exports)
 * OUT/checkpoints/step-N/  training checkpoints (weights, optimizer, state), the newest K kept
 * OUT/hf/                  the Hugging Face export after the last step (train.export_at_end)
 * </pre>
 *
 * @param train the {@code train:} section
 * @param model the {@code model:} section
 * @param data the {@code data:} section (prepared data, tokenizer, BOS/EOS rules)
 * @param rope the {@code rope:} section, or null to keep the model's rope
 * @param pose the {@code pose:} section (null: its defaults)
 * @param fot the {@code fot:} section (null: its defaults)
 * @param outputDir OUT, a local folder
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

  public Path checkpointDir() {
    return outputDir.resolve("checkpoints");
  }

  public Path exportDir() {
    return outputDir.resolve("hf");
  }

  public Path tokenizerDir() {
    return outputDir.resolve("tokenizer");
  }
}
