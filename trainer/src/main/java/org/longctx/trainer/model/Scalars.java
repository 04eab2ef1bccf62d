package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Scalar operands for arithmetic that autograd records. Use {@code x.mul(Scalars.of(m, c))},
 * never DJL's {@code x.mul(c)}, wherever {@code x} may need a gradient.
 *
 * <p>Why: on CPU, DJL turns the number of {@code mul(Number)}, {@code div(Number)} and
 * {@code pow(Number)} into a tensor that <em>borrows</em> a Java direct buffer, and closes it
 * as soon as the forward result exists. Autograd keeps that tensor for backward (the gradient
 * of {@code x·c} is {@code grad·c}), but the buffer is no longer referenced, so a garbage
 * collection between forward and backward frees it and backward reads whatever memory is
 * there. Training then saw gradients scaled by garbage, now and then, depending on when the
 * collector ran (a replayed step gave gradient norms 0.647, 0.218, 3.4e17 and infinity).
 * {@code NDManager.full} makes the scalar in PyTorch's own memory, which the autograd graph
 * keeps alive by reference counting, however early the Java handle is closed.
 *
 * <p>The same holds for any array made from Java data ({@code NDManager.create(float[])} and
 * friends): on CPU it must stay open until backward has run. The recipes make theirs in the
 * micro-batch's scope, which closes after backward. (On GPU DJL copies such data, so the
 * hazard is CPU-only.)
 */
public final class Scalars {
  private Scalars() {}

  /** {@code value} as a float32 0-d array in PyTorch-owned memory (float32 like DJL's own scalars, so results are unchanged). */
  public static NDArray of(NDManager manager, float value) {
    return manager.full(new Shape(), value, DataType.FLOAT32);
  }
}
