package org.longctx.trainer.optim;

/**
 * What one optimizer step did, for the metrics line.
 *
 * @param loss the step's mean (unscaled) loss, as read back from the device
 * @param applied false when the step was skipped (non-finite gradients or loss)
 * @param gradNorm global L2 norm of the unscaled gradients before clipping (NaN or infinite
 *     when the step was skipped for it)
 * @param clipped whether clipping scaled the gradients down
 * @param lossScale the scale the loss of this step was multiplied by (1 when disabled)
 * @param nextLossScale the scale for the next step, after backoff or growth
 * @param skippedSteps skipped steps so far, this one included
 * @param optimizerSteps steps applied so far, this one included
 */
public record StepOutcome(double loss, boolean applied, double gradNorm, boolean clipped, double lossScale, double nextLossScale,
    long skippedSteps, long optimizerSteps) {
}
