package org.longctx.trainer.metrics;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * One line of {@code metrics.jsonl}. Non-finite numbers are written as the strings
 * {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"} (Python's {@code float()} reads them).
 *
 * @param step optimizer steps completed, this one included (1 for the first step)
 * @param loss mean unscaled training loss of the step
 * @param lr learning rate the step used
 * @param gradNorm global L2 norm of the gradients before clipping
 * @param tokens tokens the step trained on (all micro-batches, all replicas)
 * @param tokensPerS {@code tokens} over the wall time since the previous step
 * @param lossScale loss scale the step's backward used (1 without loss scaling)
 * @param skipped whether this step was skipped (non-finite gradients or loss)
 * @param skippedSteps skipped steps so far, this one included
 * @param elapsedS seconds since this process started logging
 */
@JsonPropertyOrder({"step", "loss", "lr", "grad_norm", "tokens", "tokens_per_s", "loss_scale", "skipped",
    "skipped_steps", "elapsed_s"})
public record StepMetrics(
    @JsonProperty("step") long step,
    @JsonProperty("loss") double loss,
    @JsonProperty("lr") double lr,
    @JsonProperty("grad_norm") double gradNorm,
    @JsonProperty("tokens") long tokens,
    @JsonProperty("tokens_per_s") double tokensPerS,
    @JsonProperty("loss_scale") double lossScale,
    @JsonProperty("skipped") boolean skipped,
    @JsonProperty("skipped_steps") long skippedSteps,
    @JsonProperty("elapsed_s") double elapsedS) {
}
