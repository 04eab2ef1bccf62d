package org.longctx.trainer;

import org.longctx.trainer.model.LlamaModel;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import org.longctx.trainer.model.KvCache;

/**
 * Per-token negative log-likelihood of a long input in bounded memory: the input goes through
 * the model in segments that append to a {@link KvCache} (whose rope frequencies are chosen for
 * the whole input, as one forward would choose them), attention runs in query chunks, and the
 * output head and log-softmax run on a few rows at a time, so neither {@code L × L} scores nor a
 * {@code [L, vocab]} table ever exist. Works with every model view (rope overrides, SelfExtend).
 */
public final class Perplexity {

  /** Logits computed at once are bounded by this many values (64 MB in float32). */
  static final long LOGIT_BUDGET_ELEMENTS = 1L << 24;

  private Perplexity() {}

  /**
   * @param nll per predicted token {@code t = 1 … n−1}: {@code −ln p(ids[t] | ids[0 … t−1])} (index t−1)
   * @param meanNll their mean
   */
  public record Result(double[] nll, double meanNll) {
    /** {@code exp(meanNll)}. */
    public double perplexity() {
      return Math.exp(meanNll);
    }

    /** Mean NLL of the predictions of tokens {@code 1 … length−1} only: the score of the input's first {@code length} tokens. */
    public double meanNll(int length) {
      if (length < 2 || length > nll.length + 1) {
        throw new IllegalArgumentException("length: must be in [2, " + (nll.length + 1) + "], got " + length);
      }
      return Arrays.stream(nll, 0, length - 1).average().orElseThrow();
    }
  }

  /**
   * Scores {@code ids} in segments of the model's {@link LlamaModel#prefillSegment()} (2048 if that
   * is 0); a model with memory layers reads the whole input in one call, which it splits into
   * memory windows and a last local context itself (docs/methods.md §4).
   */
  public static Result of(LlamaModel model, int[] ids) {
    int segment = model.prefillSegment() > 0 ? model.prefillSegment() : LlamaModel.DEFAULT_PREFILL_SEGMENT;
    if (model.config().memory() != null && ids != null) {
      segment = Math.max(1, ids.length);
    }
    return of(model, ids, segment);
  }

  /**
   * Scores {@code ids} feeding {@code segment} tokens per pass.
   *
   * @param ids at least two tokens
   */
  public static Result of(LlamaModel model, int[] ids, int segment) {
    if (ids == null || ids.length < 2) {
      throw new IllegalArgumentException("ids: need at least 2 tokens to score, got " + (ids == null ? 0 : ids.length));
    }
    if (segment < 1) {
      throw new IllegalArgumentException("segment: must be ≥ 1, got " + segment);
    }
    int vocab = model.config().vocabSize();
    for (int id : ids) {
      if (id < 0 || id >= vocab) {
        throw new IllegalArgumentException("ids: token id " + id + " outside the vocabulary [0, " + vocab + ")");
      }
    }
    int n = ids.length;
    double[] nll = new double[n - 1];
    int rowsPerHead = (int) Math.max(1, LOGIT_BUDGET_ELEMENTS / vocab);
    try (KvCache cache = model.newCache(KvCache.OnRopeChange.REBUILD, n)) {
      for (int start = 0; start < n - 1; start += segment) { // the last token predicts nothing
        int end = Math.min(n, start + segment);
        try (NDManager m = NDManager.newBaseManager(model.device())) {
          long[] part = new long[end - start];
          for (int i = start; i < end; i++) {
            part[i - start] = ids[i];
          }
          NDArray hidden = model.hiddenStates(m.create(part, new Shape(1, part.length)), null, cache); // [1, seg, hidden]
          int predicting = Math.min(end, n - 1) - start; // rows whose next token exists
          for (int r = 0; r < predicting; r += rowsPerHead) {
            int r2 = Math.min(predicting, r + rowsPerHead);
            try (NDManager scratch = m.newSubManager()) {
              NDArray rows = hidden.get(scratch, new NDIndex(":, {}:{}, :", r, r2)); // [1, c, hidden]
              NDArray logits = model.logits(rows).toType(DataType.FLOAT32, false); // [1, c, vocab]
              NDArray logProbs = logits.logSoftmax(-1);
              long[] targets = new long[r2 - r];
              for (int i = 0; i < targets.length; i++) {
                targets[i] = ids[start + r + i + 1];
              }
              NDArray picked = logProbs.gather(scratch.create(targets, new Shape(1, targets.length, 1)), 2); // [1, c, 1]
              float[] values = picked.toFloatArray();
              for (int i = 0; i < values.length; i++) {
                nll[start + r + i] = -values[i];
              }
            }
          }
        }
      }
    }
    return new Result(nll, Arrays.stream(nll).average().orElseThrow());
  }
}
