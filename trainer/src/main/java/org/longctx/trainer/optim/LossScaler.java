package org.longctx.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.List;
import org.longctx.trainer.model.Scalars;

/**
 * Dynamic loss scaling, with the rules of {@code torch.amp.GradScaler}: the loss is multiplied
 * by {@code scale} before backward, so small float16 gradients do not flush to zero, and the
 * gradients are divided by it again in float32 ({@link #unscale}). Then {@link #update} with
 * whether the gradients (and loss) came out finite:
 * <ul>
 *   <li>not finite: the step is skipped, {@code scale *= backoff} (0.5), the good-step count
 *       restarts;</li>
 *   <li>finite: the step is applied; after {@code growth_interval} (2000) good steps in a row,
 *       {@code scale *= growth} (2) if that stays finite in float32.</li>
 * </ul>
 * The scale starts at 2^16. Arithmetic is float32, like GradScaler's scale tensor.
 *
 * <p>A {@linkplain #disabled() disabled} scaler (float32 training) keeps the scale at 1 but
 * still skips a step whose gradients or loss are not finite, so a NaN never reaches the
 * weights (torch's disabled GradScaler would let it through).
 *
 * <p>Keep the loss itself in float32 where possible: a float16 loss times the scale overflows
 * at 65504, which this class can only treat as overflow and back off from.
 */
public final class LossScaler {

  public static final double DEFAULT_INIT_SCALE = 65536.0;
  public static final double DEFAULT_GROWTH_FACTOR = 2.0;
  public static final double DEFAULT_BACKOFF_FACTOR = 0.5;
  public static final int DEFAULT_GROWTH_INTERVAL = 2000;

  private final boolean enabled;
  private final double growthFactor;
  private final double backoffFactor;
  private final int growthInterval;
  private float scale;
  private int growthTracker;
  private long skippedSteps;

  private LossScaler(boolean enabled, double initScale, double growthFactor, double backoffFactor,
      int growthInterval) {
    if (!(initScale > 0) || Float.isInfinite((float) initScale)) {
      throw new IllegalArgumentException("init_scale: must be > 0 and finite in float32, got " + initScale);
    }
    if (!(growthFactor > 1) || Double.isInfinite(growthFactor)) {
      throw new IllegalArgumentException("growth_factor: must be finite and > 1, got " + growthFactor);
    }
    if (!(backoffFactor > 0 && backoffFactor < 1)) {
      throw new IllegalArgumentException("backoff_factor: must be in (0, 1), got " + backoffFactor);
    }
    if (growthInterval < 1) {
      throw new IllegalArgumentException("growth_interval: must be >= 1, got " + growthInterval);
    }
    this.enabled = enabled;
    this.scale = (float) initScale;
    this.growthFactor = growthFactor;
    this.backoffFactor = backoffFactor;
    this.growthInterval = growthInterval;
  }

  /** GradScaler's defaults: scale 2^16, growth 2, backoff 0.5, growth interval 2000. */
  public static LossScaler dynamic() {
    return dynamic(DEFAULT_INIT_SCALE, DEFAULT_GROWTH_FACTOR, DEFAULT_BACKOFF_FACTOR, DEFAULT_GROWTH_INTERVAL);
  }

  public static LossScaler dynamic(double initScale, double growthFactor, double backoffFactor, int growthInterval) {
    return new LossScaler(true, initScale, growthFactor, backoffFactor, growthInterval);
  }

  /** Scale fixed at 1; non-finite steps are still skipped. */
  public static LossScaler disabled() {
    return new LossScaler(false, 1.0, DEFAULT_GROWTH_FACTOR, DEFAULT_BACKOFF_FACTOR, DEFAULT_GROWTH_INTERVAL);
  }

  /** Dynamic for float16 parameters, disabled for float32 ones. */
  public static LossScaler forParameterType(DataType type) {
    if (type == DataType.FLOAT16) {
      return dynamic();
    }
    if (type == DataType.FLOAT32) {
      return disabled();
    }
    throw new IllegalArgumentException("parameter type: " + type + " is not trainable; allowed: float32, float16");
  }

  public boolean isEnabled() {
    return enabled;
  }

  /** The current scale (a float32 value). */
  public double scale() {
    return scale;
  }

  /** Good steps since the last growth or backoff. */
  public int growthTracker() {
    return growthTracker;
  }

  /** Steps skipped so far for non-finite gradients or loss. */
  public long skippedSteps() {
    return skippedSteps;
  }

  /** {@code loss * scale}, a new array to call backward on. */
  public NDArray scaleLoss(NDArray loss) {
    return scaleLoss(loss, 1);
  }

  /**
   * {@code loss * scale / microBatches}: for gradient accumulation over {@code microBatches}
   * backward passes, so the accumulated gradient is that of the mean loss. One multiplication,
   * so a float16 loss overflows no earlier than it must.
   */
  public NDArray scaleLoss(NDArray loss, int microBatches) {
    if (microBatches < 1) {
      throw new IllegalArgumentException("micro-batches: must be >= 1, got " + microBatches);
    }
    return loss.mul(Scalars.of(loss.getManager(), (float) ((double) scale / microBatches)));
  }

  /**
   * The parameters' gradients in float32, divided by the scale (multiplied by its float32
   * reciprocal, as GradScaler does). Close the result after the step.
   */
  public Gradients unscale(List<NamedParameter> parameters) {
    return Gradients.read(parameters, (float) (1.0 / scale));
  }

  /**
   * Records the outcome of a step and adapts the scale.
   *
   * @param finite whether the unscaled gradients (their global norm) and the loss are finite
   * @return whether the optimizer may apply the step
   */
  public boolean update(boolean finite) {
    if (!finite) {
      skippedSteps++;
      if (enabled) {
        scale = (float) (scale * backoffFactor);
        growthTracker = 0;
      }
      return false;
    }
    if (enabled) {
      int successful = growthTracker + 1;
      if (successful == growthInterval) {
        float grown = (float) (scale * growthFactor);
        if (Float.isFinite(grown)) {
          scale = grown;
        }
        growthTracker = 0;
      } else {
        growthTracker = successful;
      }
    }
    return true;
  }

  /** The state to checkpoint. */
  public LossScalerState state() {
    return new LossScalerState(scale, growthTracker, skippedSteps);
  }

  /** Continues from a checkpointed state; a disabled scaler only accepts scale 1. */
  public void restore(LossScalerState state) {
    if (!enabled && state.scale() != 1.0) {
      throw new IllegalArgumentException("loss scale: a disabled scaler (float32 training) has scale 1, got "
          + state.scale());
    }
    if (state.growthTracker() >= growthInterval) {
      throw new IllegalArgumentException("loss scale growth tracker: must be < growth_interval " + growthInterval
          + ", got " + state.growthTracker());
    }
    this.scale = (float) state.scale();
    this.growthTracker = state.growthTracker();
    this.skippedSteps = state.skippedSteps();
  }
}
