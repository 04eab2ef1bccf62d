package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * The mask of a cross-batch memory layer ({@link CrossBatch}): keys are laid out as
 * {@code range} blocks of {@code length} keys — entries {@code b − range, …, b − 1} — followed by
 * the entry's own {@code length} keys. Block {@code j} is visible to entry {@code b} when
 * {@code j ≥ range − allowed[b]} (the {@code allowed[b]} entries just before it); its own keys
 * are causal.
 *
 * @param length tokens per entry
 * @param range blocks of other entries' keys before the entry's own
 * @param allowed per entry, the blocks it may see ({@link CrossBatch#allowedContexts})
 */
public record CrossBatchMask(long length, int range, int[] allowed) implements AttentionMask {

  public CrossBatchMask {
    allowed = allowed.clone();
  }

  @Override
  public long keyLimit(long queryEnd) {
    return range * length + queryEnd;
  }

  @Override
  public NDArray hidden(NDManager m, long queryStart, long queryEnd, long keys) {
    NDArray causal = new CausalMask(range * length).hidden(m, queryStart, queryEnd, keys); // [c, keys] or null
    boolean[] blocked = new boolean[allowed.length * (int) keys]; // [batch, keys]: another entry's key it may not see
    for (int b = 0; b < allowed.length; b++) {
      long firstVisible = (range - allowed[b]) * length;
      for (int j = 0; j < Math.min(keys, firstVisible); j++) {
        blocked[b * (int) keys + j] = true;
      }
    }
    NDArray perEntry = m.create(blocked, new Shape(allowed.length, 1, 1, 1, keys)); // [batch, 1, 1, 1, keys]
    return causal == null ? perEntry : perEntry.logicalOr(causal); // [batch, 1, 1, c, keys]
  }
}
