package org.longctx.trainer.recipes;

import java.util.List;
import org.apache.hadoop.fs.Path;
import org.longctx.trainer.metrics.TrainSummary;

/**
 * How a recipe's run ended.
 *
 * @param recipe the recipe that ran
 * @param step optimizer steps completed (over all resumes)
 * @param totalSteps steps the run is configured for
 * @param stoppedBy what stopped it early (e.g. {@code SIGTERM}), or null when it ran to the end
 * @param checkpoint the last checkpoint written (local or any Hadoop file system), or null
 * @param export the Hugging Face folder written at the end, or null
 * @param losses the loss of every step this process ran, in order
 * @param summary the metrics summary of this process, or null when it ran no step
 */
public record TrainingResult(String recipe, long step, long totalSteps, String stoppedBy, Path checkpoint, Path export,
    List<Double> losses, TrainSummary summary) {

  public TrainingResult {
    losses = List.copyOf(losses);
  }

  public boolean completed() {
    return stoppedBy == null && step >= totalSteps;
  }
}
