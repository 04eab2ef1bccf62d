package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.longctx.kernels.NativeKernels;

/**
 * Next-token cross-entropy, in float32 whatever the logits' precision (as transformers computes
 * it). On a GPU with the native kernel library it runs fused and chunked, never holding a
 * float32 copy of the whole logits; elsewhere it is composed of DJL operations.
 */
public final class Losses {
  /** Targets with this value are not predicted (padding), as in PyTorch. */
  public static final long IGNORE = -100;

  private Losses() {}

  /**
   * @param logits {@code [rows, length, vocab]}; position {@code t} predicts {@code targets[t]}
   * @param targets {@code rows × (length − 1)} next tokens, row-major, {@link #IGNORE} for padding
   * @param predictions how many targets are not ignored (the mean's denominator)
   * @return the mean over the predicted targets, a float32 scalar in {@code manager}
   */
  public static NDArray nextTokenCrossEntropy(NDArray logits, long[] targets, long predictions, NDManager manager) {
    long rows = logits.getShape().get(0);
    long length = logits.getShape().get(1);
    NDArray predicting = logits.get(":, :-1, :"); // [rows, length-1, vocab]
    NDArray target = manager.create(targets, new Shape(rows, length - 1));
    if (logits.getDevice().isGpu() && NativeSupport.available()) {
      return NativeKernels.crossEntropy(predicting, target, IGNORE);
    }
    predicting = Casts.to(predicting, DataType.FLOAT32, true);
    NDArray logProbabilities = predicting.logSoftmax(-1);
    NDArray real = target.neq(IGNORE); // [rows, length-1]
    NDArray safe = target.mul(real.toType(DataType.INT64, false)); // ignored targets gather row 0, then count 0
    NDArray picked = logProbabilities.gather(safe.expandDims(-1), -1).squeeze(-1); // [rows, length-1]
    NDArray mask = real.toType(DataType.FLOAT32, false);
    return picked.mul(mask).sum().neg().div(Scalars.of(manager, (float) predictions));
  }
}
