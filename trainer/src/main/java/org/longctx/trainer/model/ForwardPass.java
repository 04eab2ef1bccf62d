package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import org.longctx.kernels.NativeKernels;
import org.longctx.positional.HostReads;
import org.longctx.positional.RotaryEmbedding;
import org.longctx.positional.RotaryEmbedding.CosSin;

/**
 * What every layer of one forward call shares: where its arrays go, the new tokens' positions,
 * how many tokens are cached before them, and the length the rope's frequencies are chosen for.
 *
 * @param manager the call's manager (the input ids'); every intermediate array goes here
 * @param rotary the model's rotary embedding
 * @param precision the model's precision
 * @param scale {@code 1/√headDim}
 * @param positions {@code [batch, seq]} int64 position ids of the new tokens, on the model's device
 * @param hostPositions the same on the host, or null when the caller made them on the device
 *     (modes that need them read them back, see {@link #queryPositions})
 * @param cachedPositions positions of the cached tokens per row, or null without a cache
 * @param maxPosition an upper bound of every position id of the call (cached and new), known on
 *     the host so the rope needs no device read
 * @param ropeLength the sequence length the rope chooses its frequencies for
 * @param offset tokens already cached before the new ones
 * @param kernel computes attention
 * @param nativeLayerOps RMSNorm, the rope and SwiGLU's gate as one native call each ({@link LlamaModel#nativeLayerOps})
 * @param attentionChunk queries per attention chunk; 0 = sized by {@link LlamaModel#SCORE_BUDGET_ELEMENTS}
 *     ({@link LlamaModel#CPU_INFERENCE_SCORE_BUDGET_ELEMENTS} for inference on a CPU)
 * @param heads query heads, to size chunks
 * @param recording whether autograd records this call (the parameters take gradients)
 */
public record ForwardPass(NDManager manager, RotaryEmbedding rotary, Precision precision, float scale, NDArray positions,
    long[][] hostPositions, long[][] cachedPositions, long maxPosition, long ropeLength, long offset, AttentionKernel kernel,
    boolean nativeLayerOps, int attentionChunk, int heads, boolean recording) {

  /** Runs the kernel with a chunk size that keeps one chunk's score tables within the budget (or {@code attentionChunk}). */
  NDArray attend(AttentionInputs inputs) {
    long batch = inputs.queries().getShape().get(0);
    long queries = inputs.queries().getShape().get(2);
    long keys = inputs.keys().getShape().get(2);
    long chunk;
    if (attentionChunk > 0) {
      chunk = Math.min(attentionChunk, queries);
    } else {
      long perQuery = batch * heads * keys * kernel.tablesPerQuery(inputs);
      long budget = recording || manager.getDevice().isGpu()
          ? LlamaModel.SCORE_BUDGET_ELEMENTS
          : LlamaModel.CPU_INFERENCE_SCORE_BUDGET_ELEMENTS;
      chunk = Math.max(1, Math.min(queries, budget / Math.max(1, perQuery)));
    }
    if (inputs.maxQueriesPerChunk() > 0) {
      chunk = Math.min(chunk, inputs.maxQueriesPerChunk());
    }
    return kernel.attend(inputs, chunk, recording);
  }

  /** cos and sin of the rope at {@code ids} ({@code [batch, n]} int64, each ≤ {@link #maxPosition}), each {@code [batch, 1, n, headDim]}. */
  public CosSin cosSin(NDArray ids) {
    if (precision == Precision.BFLOAT16) { // DJL cannot make bfloat16 tables itself: float32, cast by the native library
      CosSin wide = rotary.cosSin(ids, maxPosition, ropeLength, DataType.FLOAT32, ids.getDevice());
      return new CosSin(Casts.to(wide.cos(), DataType.BFLOAT16, false), Casts.to(wide.sin(), DataType.BFLOAT16, false));
    }
    return rotary.cosSin(ids, maxPosition, ropeLength, precision.dataType(), ids.getDevice());
  }

  /** {@code x} rotated by the rope's {@code cs} ({@link RotaryEmbedding#apply}), in one native call with {@link #nativeLayerOps}. */
  public NDArray rotate(NDArray x, CosSin cs) {
    return nativeLayerOps ? NativeKernels.rope(x, cs.cos(), cs.sin()) : RotaryEmbedding.apply(x, cs);
  }

  /** The new tokens' positions on the host (read back from the device when the caller made them there). */
  public long[][] queryPositions() {
    return hostPositions != null ? hostPositions : rows(positions);
  }

  /** Positions of every key: the cached tokens', then the new ones'. */
  public long[][] keyPositions() {
    return joined(cachedPositions, queryPositions());
  }

  /** A {@code [batch, seq]} integer array as host rows (one counted device read). */
  static long[][] rows(NDArray a) {
    int batch = (int) a.getShape().get(0);
    int seq = (int) a.getShape().get(1);
    long[] flat = HostReads.longs(a);
    long[][] out = new long[batch][];
    for (int b = 0; b < batch; b++) {
      out[b] = Arrays.copyOfRange(flat, b * seq, (b + 1) * seq);
    }
    return out;
  }

  static long[] flatten(long[][] rows) {
    int seq = rows[0].length;
    long[] flat = new long[rows.length * seq];
    for (int b = 0; b < rows.length; b++) {
      System.arraycopy(rows[b], 0, flat, b * seq, seq);
    }
    return flat;
  }

  /** Row-wise concatenation; {@code first} may be null. */
  static long[][] joined(long[][] first, long[][] more) {
    if (first == null) {
      return more;
    }
    long[][] out = new long[first.length][];
    for (int b = 0; b < first.length; b++) {
      out[b] = Arrays.copyOf(first[b], first[b].length + more[b].length);
      System.arraycopy(more[b], 0, out[b], first[b].length, more[b].length);
    }
    return out;
  }

  static long[][] slice(long[][] rows, int start, int end) {
    long[][] out = new long[rows.length][];
    for (int b = 0; b < rows.length; b++) {
      out[b] = Arrays.copyOfRange(rows[b], start, end);
    }
    return out;
  }

  /** The largest value, checking every value is ≥ 0. */
  static long maxOf(long[][] rows) {
    long max = Long.MIN_VALUE;
    for (long[] row : rows) {
      for (long p : row) {
        if (p < 0) {
          throw new IllegalArgumentException("positionIds: must be ≥ 0, got " + p);
        }
        max = Math.max(max, p);
      }
    }
    return max;
  }
}
