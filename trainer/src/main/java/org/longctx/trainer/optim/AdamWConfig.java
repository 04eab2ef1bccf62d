package org.longctx.trainer.optim;

/**
 * Hyper-parameters of {@link AdamW} (the learning rate comes from the schedule at each step).
 *
 * <p>Defaults are those of long-context fine-tuning of Llama models (Position Interpolation,
 * YaRN: betas 0.9/0.95; PoSE and PI: no weight decay), not torch's (betas 0.9/0.999, weight
 * decay 0.01): {@code beta2 = 0.95} lets the second moment follow the changing gradient scale
 * of a model adapting to new positions more quickly.
 *
 * @param beta1 decay of the first moment, in [0, 1)
 * @param beta2 decay of the second moment, in [0, 1)
 * @param eps added to the bias-corrected {@code sqrt(v)}, {@code > 0}
 * @param weightDecay decoupled decay rate (multiplied by the learning rate), {@code >= 0}
 */
public record AdamWConfig(double beta1, double beta2, double eps, double weightDecay) {

  public static final double DEFAULT_BETA1 = 0.9;
  public static final double DEFAULT_BETA2 = 0.95;
  public static final double DEFAULT_EPS = 1e-8;
  public static final double DEFAULT_WEIGHT_DECAY = 0.0;

  public AdamWConfig {
    if (!(beta1 >= 0 && beta1 < 1)) {
      throw new IllegalArgumentException("beta1: must be in [0, 1), got " + beta1);
    }
    if (!(beta2 >= 0 && beta2 < 1)) {
      throw new IllegalArgumentException("beta2: must be in [0, 1), got " + beta2);
    }
    if (!(eps > 0) || Double.isInfinite(eps)) {
      throw new IllegalArgumentException("eps: must be finite and > 0, got " + eps);
    }
    if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
      throw new IllegalArgumentException("weight_decay: must be finite and >= 0, got " + weightDecay);
    }
  }

  /** betas 0.9/0.95, eps 1e-8, no weight decay. */
  public static AdamWConfig defaults() {
    return new AdamWConfig(DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPS, DEFAULT_WEIGHT_DECAY);
  }

  /** The same with another weight decay. */
  public AdamWConfig withWeightDecay(double decay) {
    return new AdamWConfig(beta1, beta2, eps, decay);
  }
}
