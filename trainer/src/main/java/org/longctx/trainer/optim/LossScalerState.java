package org.longctx.trainer.optim;

/**
 * What a {@link LossScaler} needs to resume: torch's GradScaler keeps the same two numbers
 * ({@code scale}, {@code _growth_tracker}); the skipped-step count keeps the metrics continuous.
 *
 * @param scale current loss scale, finite and {@code > 0} ({@code 1} for a disabled scaler)
 * @param growthTracker good steps since the last growth or backoff, {@code >= 0}
 * @param skippedSteps steps skipped so far because of non-finite gradients or loss
 */
public record LossScalerState(double scale, int growthTracker, long skippedSteps) {

  public LossScalerState {
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("loss scale: must be finite and > 0, got " + scale);
    }
    if (growthTracker < 0) {
      throw new IllegalArgumentException("loss scale growth tracker: must be >= 0, got " + growthTracker);
    }
    if (skippedSteps < 0) {
      throw new IllegalArgumentException("skipped steps: must be >= 0, got " + skippedSteps);
    }
  }
}
