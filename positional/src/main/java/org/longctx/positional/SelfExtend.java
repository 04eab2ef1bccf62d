package org.longctx.positional;

/**
 * SelfExtend (datamllab/LongLM {@code self_extend_forward}, methods.md §5): its parameters,
 * their rules, and its two position maps. The <em>neighbour</em> map uses true positions for
 * keys within the window, the <em>group</em> map uses floor-divided positions for everything
 * older, so an unmodified model reads {@code (L0 − W)·G + W} tokens. Attention takes the
 * neighbour logit where {@code 0 ≤ q − k < W} and the group logit elsewhere, then one causal
 * softmax. Integer division throughout (the reference's {@code /} gives fractional positions
 * when G does not divide W). The model's attention mode takes this record as it is
 * ({@code LlamaModel.withSelfExtend}).
 *
 * @param groupSize G ({@code group_size}): how many positions share one group position, ≥ 1
 * @param windowSize W ({@code window_size}): how many most recent keys keep their true
 *     positions, ≥ 1
 * @param scaleBase {@code scale_base}: when set, queries are multiplied by
 *     {@code max(1, ln(p + 1)/ln(scale_base))} before rotation; 0 switches it off, otherwise it
 *     must be greater than 1 (its logarithm divides)
 */
public record SelfExtend(int groupSize, int windowSize, double scaleBase) {

  public SelfExtend {
    if (groupSize < 1) {
      throw new IllegalArgumentException("group_size: must be ≥ 1, got " + groupSize);
    }
    if (windowSize < 1) {
      throw new IllegalArgumentException("window_size: must be ≥ 1, got " + windowSize);
    }
    if (Double.isNaN(scaleBase) || Double.isInfinite(scaleBase) || (scaleBase != 0 && !(scaleBase > 1))) {
      throw new IllegalArgumentException("scale_base: must be 0 (off) or > 1, got " + scaleBase);
    }
  }

  /** Without query scaling (the reference's default). */
  public SelfExtend(int groupSize, int windowSize) {
    this(groupSize, windowSize, 0);
  }

  /** Whether queries are scaled by {@code ln(p + 1)/ln(scale_base)}. */
  public boolean scalesQueries() {
    return scaleBase > 0;
  }

  /** The query scale at true position {@code position}: {@link #queryScale(long, double)} with this {@code scale_base}. */
  public double queryScale(long position) {
    return queryScale(position, scaleBase);
  }

  /**
   * The group position of a query at true position {@code p}: {@code p // G + W − W // G} once
   * {@code p ≥ W}, else {@code p // G}. Below W every key a query sees is a neighbour, so its
   * group position is never used; this per-query rule therefore gives the same attention as
   * the reference's (shift decided by the largest query position of a call,
   * {@link #groupQueryPositions}) for prefill, chunks and decode alike.
   */
  public long groupQueryPosition(long p) {
    long shift = p >= windowSize ? windowSize : 0;
    return p / groupSize + shift - shift / groupSize;
  }

  /** The group position of a key at true position {@code p}: {@code p // G}. */
  public long groupKeyPosition(long p) {
    return p / groupSize;
  }

  /**
   * Group positions of queries: {@code q // G + shift − shift // G} with {@code shift = W} once
   * the largest query position of the call reaches W (the reference's {@code position_ids.max()}),
   * else 0. Works for prefill (all queries) and decode (one query).
   */
  public long[] groupQueryPositions(long[] queryPositions) {
    long max = Long.MIN_VALUE;
    for (long q : queryPositions) {
      checkPosition(q);
      max = Math.max(max, q);
    }
    long shift = max >= windowSize ? windowSize : 0;
    long[] out = new long[queryPositions.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = queryPositions[i] / groupSize + shift - shift / groupSize;
    }
    return out;
  }

  /** Group positions of keys: {@code k // G}. */
  public long[] groupKeyPositions(long[] keyPositions) {
    long[] out = new long[keyPositions.length];
    for (int i = 0; i < out.length; i++) {
      checkPosition(keyPositions[i]);
      out[i] = groupKeyPosition(keyPositions[i]);
    }
    return out;
  }

  /** Whether the pair uses the neighbour logit: {@code 0 ≤ q − k < W}. */
  public boolean isNeighbour(long queryPosition, long keyPosition) {
    long d = queryPosition - keyPosition;
    return d >= 0 && d < windowSize;
  }

  /**
   * The relative position each query sees for each key after the merge: {@code q − k} for
   * neighbours, {@code gq − gk} for older keys, −1 for future keys (masked).
   *
   * @return {@code [queries][keys]}
   */
  public long[][] relativePositions(long[] queryPositions, long[] keyPositions) {
    long[] gq = groupQueryPositions(queryPositions);
    long[] gk = groupKeyPositions(keyPositions);
    long[][] out = new long[queryPositions.length][keyPositions.length];
    for (int i = 0; i < queryPositions.length; i++) {
      for (int j = 0; j < keyPositions.length; j++) {
        long q = queryPositions[i];
        long k = keyPositions[j];
        out[i][j] = k > q ? -1 : isNeighbour(q, k) ? q - k : gq[i] - gk[j];
      }
    }
    return out;
  }

  /**
   * The longest input an unmodified model with window {@code originalLength} reads:
   * {@code (L0 − W)·G + W} (the reference README's rule). Exact when G divides W; otherwise the
   * last query's group position reaches L0 one token earlier.
   */
  public long capacity(int originalLength) {
    if (originalLength <= windowSize) {
      throw new IllegalArgumentException("window_size: must be below the model's original window " + originalLength
          + ", got " + windowSize);
    }
    return (long) (originalLength - windowSize) * groupSize + windowSize;
  }

  /**
   * The reference's optional query scaling before RoPE: {@code max(1, ln(p + 1)/ln(scaleBase))};
   * 1 when {@code scaleBase ≤ 0} (disabled).
   */
  public static double queryScale(long position, double scaleBase) {
    if (scaleBase <= 0) {
      return 1.0;
    }
    return Math.max(1.0, Math.log(position + 1) / Math.log(scaleBase));
  }

  private static void checkPosition(long p) {
    if (p < 0) {
      throw new IllegalArgumentException("position: must be ≥ 0, got " + p);
    }
  }
}
