package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;
import org.longctx.kernels.NativeKernels;

/**
 * Attention through the native kernel library's fused {@code scaled_dot_product_attention}
 * (FlashAttention-2 and memory-efficient kernels on GPUs): no {@code L × L} table is kept for
 * backward, and grouped-query heads are read in place. It takes causal inputs with one score
 * source (plain attention, with or without cached keys); anything else (SelfExtend's two score
 * sources, other masks) goes to the {@link EagerKernel}, which stays the reference.
 * docs/gpu.md has its parity against the eager kernel and its speed.
 */
public final class FusedKernel implements AttentionKernel {

  public static final FusedKernel INSTANCE = new FusedKernel();

  private FusedKernel() {}

  /** Whether it can take these inputs (else {@link #attend} hands them to the eager kernel). */
  public static boolean accepts(AttentionInputs in) {
    return in.alternative() == null && in.mask() instanceof CausalMask
        && in.queries().getShape().get(3) == in.values().getShape().get(3);
  }

  @Override
  public NDArray attend(AttentionInputs in, long chunk, boolean recording) {
    if (!accepts(in)) {
      return EagerKernel.INSTANCE.attend(in, chunk, recording);
    }
    return NativeKernels.attention(in.queries(), in.keys(), in.values(), ((CausalMask) in.mask()).offset(), in.scale());
  }

  @Override
  public int tablesPerQuery(AttentionInputs inputs) {
    return accepts(inputs) ? 0 : EagerKernel.INSTANCE.tablesPerQuery(inputs);
  }
}
