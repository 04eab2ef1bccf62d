package org.longctx.trainer.optim;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;

/**
 * Everything between the last backward of a step and the next forward, in the order that
 * keeps a NaN out of the weights:
 * <ol>
 *   <li>unscale: float32 gradients divided by the loss scale;</li>
 *   <li>optional hook on the float32 gradients (e.g. an all-reduce across replicas);</li>
 *   <li>global L2 norm; the step is good only if the norm and the loss are finite;</li>
 *   <li>clip to {@code maxGradNorm} (good steps only);</li>
 *   <li>loss scaler update (backoff or growth), then AdamW at {@code lr} for a good step;</li>
 *   <li>zero the accumulated gradients, whatever happened.</li>
 * </ol>
 *
 * <p>A training step with gradient accumulation over {@code k} micro-batches:
 * <pre>{@code
 * double lossSum = 0;
 * for (Batch b : microBatches) {                       // k of them
 *   try (NDManager sub = manager.newSubManager();
 *        GradientCollector gc = engine.newGradientCollector()) {
 *     NDArray loss = model.loss(b);                    // float32 scalar
 *     lossSum += loss.getFloat();
 *     gc.backward(scaler.scaleLoss(loss, k));           // loss * scale / k
 *   }
 * }
 * StepOutcome out = optimizerStep.apply(lossSum / k, schedule.lr(step));
 * }</pre>
 */
public final class OptimizerStep {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(OptimizerStep.class);


  private final AdamW optimizer;
  private final LossScaler scaler;
  private final double maxGradNorm;

  /**
   * @param maxGradNorm clipping threshold, {@code > 0}; {@link Double#POSITIVE_INFINITY} for none
   */
  public OptimizerStep(AdamW optimizer, LossScaler scaler, double maxGradNorm) {
    if (!(maxGradNorm > 0)) {
      throw new IllegalArgumentException("max_grad_norm: must be > 0 (infinity: no clipping), got " + maxGradNorm);
    }
    this.optimizer = optimizer;
    this.scaler = scaler;
    this.maxGradNorm = maxGradNorm;
  }

  public AdamW optimizer() {
    return optimizer;
  }

  public LossScaler scaler() {
    return scaler;
  }

  /** {@link #apply(double, double, Consumer)} without a hook. */
  public StepOutcome apply(double loss, double lr) {
    return apply(loss, lr, grads -> { });
  }

  /** {@link #apply(DoubleSupplier, double, Consumer)} with a loss already on the host. */
  public StepOutcome apply(double loss, double lr, Consumer<Gradients> beforeNorm) {
    return apply(() -> loss, lr, beforeNorm);
  }

  /**
   * Finishes the step whose gradients the parameters hold.
   *
   * @param loss reads the step's (mean, unscaled) loss; a non-finite loss skips the step. It is
   *     called once, after the gradients' device work is queued and their norm read: reading a
   *     loss from a GPU waits for all queued work, and a read before that work was queued left
   *     the GPU idle while the host prepared it (docs/gpu.md)
   * @param lr learning rate for this step
   * @param beforeNorm sees the unscaled float32 gradients first and may change them in place
   */
  public StepOutcome apply(DoubleSupplier loss, double lr, Consumer<Gradients> beforeNorm) {
    if (!(lr >= 0) || Double.isInfinite(lr)) {
      throw new IllegalArgumentException("lr: must be finite and >= 0, got " + lr);
    }
    List<NamedParameter> parameters = optimizer.parameters();
    double scaleUsed = scaler.scale();
    try (Gradients grads = scaler.unscale(parameters)) {
      beforeNorm.accept(grads);
      double norm = grads.globalNorm();
      double lossValue = loss.getAsDouble();
      boolean finite = Double.isFinite(norm) && Double.isFinite(lossValue);
      boolean clipped = finite && GradientClipping.clipToNorm(grads, norm, maxGradNorm);
      if (!finite && Double.isFinite(lossValue)) {
        // expected now and then with float16 (the scaler backs off); worth a look in float32
        LOG.warn("non-finite gradient norm with a finite loss ({}, loss scale {}): step skipped; NaN/inf in {}", lossValue, scaleUsed,
            grads.nonFiniteNames());
      }
      boolean applied = scaler.update(finite);
      if (applied) {
        optimizer.step(grads, lr);
      }
      return new StepOutcome(lossValue, applied, norm, clipped, scaleUsed, scaler.scale(), scaler.skippedSteps(),
          optimizer.stepCount());
    } finally {
      Gradients.zero(parameters);
    }
  }
}
