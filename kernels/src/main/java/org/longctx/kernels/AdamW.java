package org.longctx.kernels;

/**
 * Hyperparameters of one AdamW step (Loshchilov &amp; Hutter, "Decoupled Weight Decay
 * Regularization", ICLR 2019), validated as {@code torch.optim.AdamW} validates them.
 *
 * @param lr learning rate of this step (a schedule passes a new record per step)
 * @param beta1 first-moment decay, in [0, 1)
 * @param beta2 second-moment decay, in [0, 1)
 * @param weightDecay decoupled weight decay, applied as {@code p -= lr * weightDecay * p}
 * @param eps added to the bias-corrected root of the second moment
 */
public record AdamW(double lr, double beta1, double beta2, double weightDecay, double eps) {

  public AdamW {
    check(Double.isFinite(lr) && lr >= 0, "lr", lr, "a finite value >= 0");
    check(beta1 >= 0 && beta1 < 1, "beta1", beta1, "in [0, 1)");
    check(beta2 >= 0 && beta2 < 1, "beta2", beta2, "in [0, 1)");
    check(Double.isFinite(weightDecay) && weightDecay >= 0, "weightDecay", weightDecay, "a finite value >= 0");
    check(Double.isFinite(eps) && eps >= 0, "eps", eps, "a finite value >= 0");
  }

  /** The same hyperparameters with another learning rate (schedules). */
  public AdamW withLr(double newLr) {
    return new AdamW(newLr, beta1, beta2, weightDecay, eps);
  }

  private static void check(boolean ok, String name, double value, String wanted) {
    if (!ok) {
      throw new IllegalArgumentException("AdamW " + name + " must be " + wanted + ", got " + value);
    }
  }
}
