package org.longctx.trainer.metrics;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * The {@code summary.json} written when training ends.
 *
 * @param steps optimizer steps completed in total (earlier runs of a resumed training included)
 * @param totalSteps steps the run was configured for
 * @param stepsThisRun steps this process logged
 * @param skippedSteps skipped steps in total
 * @param finalLoss loss of the last step
 * @param meanLossLast mean of the finite losses of the last {@link MetricsLog#SUMMARY_WINDOW}
 *     steps (NaN when there is none)
 * @param finalLr learning rate of the last step
 * @param finalLossScale loss scale of the last step
 * @param tokens tokens trained on by this process
 * @param elapsedS wall seconds of this process's logging
 * @param tokensPerS {@code tokens / elapsedS}
 */
@JsonPropertyOrder({"steps", "total_steps", "steps_this_run", "skipped_steps", "final_loss", "mean_loss_last",
    "final_lr", "final_loss_scale", "tokens", "elapsed_s", "tokens_per_s"})
public record TrainSummary(
    @JsonProperty("steps") long steps,
    @JsonProperty("total_steps") long totalSteps,
    @JsonProperty("steps_this_run") long stepsThisRun,
    @JsonProperty("skipped_steps") long skippedSteps,
    @JsonProperty("final_loss") double finalLoss,
    @JsonProperty("mean_loss_last") double meanLossLast,
    @JsonProperty("final_lr") double finalLr,
    @JsonProperty("final_loss_scale") double finalLossScale,
    @JsonProperty("tokens") long tokens,
    @JsonProperty("elapsed_s") double elapsedS,
    @JsonProperty("tokens_per_s") double tokensPerS) {
}
