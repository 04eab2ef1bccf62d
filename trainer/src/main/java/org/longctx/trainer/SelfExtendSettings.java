package org.longctx.trainer;

import org.longctx.trainer.model.LlamaModel;
import org.longctx.positional.SelfExtend;

/**
 * SelfExtend as an attention mode of {@link LlamaModel} (methods.md §5, datamllab/LongLM): keys
 * within {@code window_size} of a query keep their true relative position; older keys are seen
 * through floor-divided "group" positions, so an unmodified model reads about
 * {@code (L0 − W)·G + W} tokens. Switch it on with {@link LlamaModel#withSelfExtend}.
 *
 * @param groupSize G ({@code group_size}): positions sharing one group position, ≥ 1
 * @param windowSize W ({@code window_size}): most recent keys that keep their true positions, ≥ 1
 * @param scaleBase {@code scale_base}: when set, queries are multiplied by
 *     {@code max(1, ln(p + 1)/ln(scale_base))} before rotation; 0 switches it off, otherwise it
 *     must be greater than 1 (its logarithm divides)
 */
public record SelfExtendSettings(int groupSize, int windowSize, double scaleBase) {

  public SelfExtendSettings {
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
  public SelfExtendSettings(int groupSize, int windowSize) {
    this(groupSize, windowSize, 0);
  }

  /** The position maps (group positions, neighbour test) these settings define. */
  public SelfExtend positions() {
    return new SelfExtend(groupSize, windowSize);
  }

  /** Whether queries are scaled by {@code ln(p + 1)/ln(scale_base)}. */
  public boolean scalesQueries() {
    return scaleBase > 0;
  }

  /**
   * The group position of a query at true position {@code p}: {@code p // G + W − W // G} once
   * {@code p ≥ W}, else {@code p // G}. Below W every key a query sees is a neighbour, so its
   * group position is never used; the reference's rule (shift decided by the largest query
   * position of a call) therefore gives the same attention for prefill, chunks and decode.
   */
  public long groupQueryPosition(long p) {
    long shift = p >= windowSize ? windowSize : 0;
    return p / groupSize + shift - shift / groupSize;
  }

  /** The group position of a key at true position {@code p}: {@code p // G}. */
  public long groupKeyPosition(long p) {
    return p / groupSize;
  }
}
