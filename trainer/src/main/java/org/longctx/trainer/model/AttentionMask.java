package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Which keys each query may not see, by sequence index (queries are the new tokens, keys are
 * every key the layer attends to: cached or remembered ones first, then the new tokens').
 * A kernel asks it per query chunk, so no {@code L × L} mask ever exists.
 */
public interface AttentionMask {

  /** Keys at or after this index are hidden from every query before {@code queryEnd}: a kernel may leave them out. */
  long keyLimit(long queryEnd);

  /**
   * The hidden pairs of queries {@code [queryStart, queryEnd)} against keys {@code [0, keys)}.
   *
   * @return a boolean array that broadcasts against {@code [batch, kvHeads, group, c, keys]}
   *     scores (e.g. {@code [c, keys]}), true where the key is hidden; null when none is
   */
  NDArray hidden(NDManager manager, long queryStart, long queryEnd, long keys);
}
