package org.longctx.trainer.optim;

/**
 * Global-norm gradient clipping, as {@code torch.nn.utils.clip_grad_norm_} does it: the L2 norm
 * over all gradients together (the norm of the per-tensor norms, in float32); when it exceeds
 * {@code maxNorm}, every gradient is multiplied by {@code maxNorm / (norm + 1e-6)}.
 *
 * <p>A non-finite norm (NaN or infinity anywhere, or float32 overflow of the squares) is
 * returned as it is and leaves the gradients untouched: the caller must skip the step (torch
 * would multiply every gradient by 0 or NaN instead).
 */
public final class GradientClipping {

  /** torch's guard against dividing by a zero norm. */
  public static final float EPS = 1e-6f;

  private GradientClipping() {
  }

  /**
   * Clips {@code grads} in place to global L2 norm {@code maxNorm}.
   *
   * @param maxNorm {@code > 0}; {@link Double#POSITIVE_INFINITY} measures without clipping
   * @return the global norm before clipping (what training logs as {@code grad_norm})
   */
  public static double clipGradNorm(Gradients grads, double maxNorm) {
    if (!(maxNorm > 0)) {
      throw new IllegalArgumentException("max_grad_norm: must be > 0 (infinity: no clipping), got " + maxNorm);
    }
    double norm = grads.globalNorm();
    clipToNorm(grads, norm, maxNorm);
    return norm;
  }

  /**
   * Clips with a norm already measured by {@link Gradients#globalNorm()}; returns whether the
   * gradients were scaled.
   */
  public static boolean clipToNorm(Gradients grads, double norm, double maxNorm) {
    if (!Double.isFinite(norm) || Double.isInfinite(maxNorm)) {
      return false;
    }
    // float32 throughout, as torch computes clip_coef from float32 tensors.
    float coefficient = (float) maxNorm / ((float) norm + EPS);
    if (coefficient >= 1f) {
      return false;  // torch clamps the coefficient to 1: the gradients stay as they are
    }
    grads.scale(coefficient);
    return true;
  }
}
