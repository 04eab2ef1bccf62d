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
   * Targets for every one of {@code length} positions per row: the {@code length − 1} next tokens,
   * then {@link #IGNORE} for the last position (which predicts nothing).
   *
   * @param targets {@code rows × (length − 1)}, row-major
   * @return {@code rows × length}, row-major
   */
  static long[] ignoringLast(long[] targets, int rows, int length) {
    if (targets.length != (long) rows * (length - 1)) {
      throw new IllegalArgumentException("targets: " + targets.length + " values for " + rows + " rows of " + (length - 1));
    }
    long[] padded = new long[rows * length];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(targets, r * (length - 1), padded, r * length, length - 1);
      padded[r * length + length - 1] = IGNORE;
    }
    return padded;
  }

  /**
   * @param logits {@code [rows, length, vocab]}; position {@code t} predicts {@code targets[t]}
   * @param targets {@code rows × (length − 1)} next tokens, row-major, {@link #IGNORE} for padding
   * @param predictions how many targets are not ignored (the mean's denominator)
   * @return the mean over the predicted targets, a float32 scalar in {@code manager}
   */
  public static NDArray nextTokenCrossEntropy(NDArray logits, long[] targets, long predictions, NDManager manager) {
    int rows = (int) logits.getShape().get(0);
    int length = (int) logits.getShape().get(1);
    if (logits.getDevice().isGpu() && NativeSupport.available()) {
      // every position, the last one with nothing to predict: slicing it off the logits instead
      // would make backward write a zero-filled copy of the whole [rows, length, vocab] gradient
      return NativeKernels.crossEntropy(logits, manager.create(ignoringLast(targets, rows, length), new Shape(rows, length)),
          IGNORE);
    }
    NDArray predicting = logits.get(":, :-1, :"); // [rows, length-1, vocab]
    NDArray target = manager.create(targets, new Shape(rows, length - 1));
    predicting = Casts.to(predicting, DataType.FLOAT32, true);
    NDArray logProbabilities = predicting.logSoftmax(-1);
    NDArray real = target.neq(IGNORE); // [rows, length-1]
    NDArray safe = target.mul(real.toType(DataType.INT64, false)); // ignored targets gather row 0, then count 0
    NDArray picked = logProbabilities.gather(safe.expandDims(-1), -1).squeeze(-1); // [rows, length-1]
    NDArray mask = real.toType(DataType.FLOAT32, false);
    return picked.mul(mask).sum().neg().div(Scalars.of(manager, (float) predictions));
  }
}
