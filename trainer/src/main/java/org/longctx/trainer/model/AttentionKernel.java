package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;

/**
 * Computes attention from prepared inputs: {@code softmax(q·kᵀ·scale + mask)·v}. The eager
 * kernel ({@link EagerKernel}) is the reference and the fallback; a fused kernel plugs in here
 * without touching the modes (it may hand inputs it cannot take to the eager one).
 */
public interface AttentionKernel {

  /**
   * @param chunk queries per chunk for kernels that chunk (≥ 1), chosen by the model from
   *     {@code model.attention_chunk} and its score budget
   * @param recording whether autograd records the call (the model is being trained): decides
   *     which casts keep the gradient (see {@link Casts})
   * @return {@code [batch, heads, seq, headDim]}, in the queries' manager
   */
  NDArray attend(AttentionInputs inputs, long chunk, boolean recording);

  /** Score tables of {@code [chunk × keys]} per head this kernel holds at once for these inputs, to size chunks. */
  default int tablesPerQuery(AttentionInputs inputs) {
    return inputs.alternative() == null ? 1 : 3;
  }
}
