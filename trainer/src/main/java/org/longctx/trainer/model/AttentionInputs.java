package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * What an {@link AttentionKernel} computes {@code softmax(q·kᵀ·scale + mask)·v} of, as a layer's
 * {@link AttentionMode} prepared it (rotated, with cached or remembered keys first).
 *
 * @param queries {@code [batch, heads, seq, e]}; query head {@code h} reads key/value head
 *     {@code h / (heads / kvHeads)}, as transformers' {@code repeat_kv} arranges them
 * @param keys {@code [batch, kvHeads, keys, e]}
 * @param values {@code [batch, kvHeads, keys, headDim]}
 * @param scale multiplies the scores ({@code 1/√headDim})
 * @param mask the hidden pairs
 * @param alternative a second score source, or null: SelfExtend scores a pair either with its
 *     true positions or with its group positions
 * @param maxQueriesPerChunk at most this many queries per chunk (a memory layer's
 *     {@code mem_attention_grouping}), 0 = as the model chooses
 */
public record AttentionInputs(NDArray queries, NDArray keys, NDArray values, float scale, AttentionMask mask,
    Alternative alternative, int maxQueriesPerChunk) {

  public AttentionInputs {
    if (maxQueriesPerChunk < 0) {
      throw new IllegalArgumentException("maxQueriesPerChunk: must be ≥ 0 (0 = no limit), got " + maxQueriesPerChunk);
    }
  }

  /** Plain attention: one score source. */
  public AttentionInputs(NDArray queries, NDArray keys, NDArray values, float scale, AttentionMask mask) {
    this(queries, keys, values, scale, mask, null, 0);
  }

  /** Two score sources, chunked as the model chooses. */
  public AttentionInputs(NDArray queries, NDArray keys, NDArray values, float scale, AttentionMask mask,
      Alternative alternative) {
    this(queries, keys, values, scale, mask, alternative, 0);
  }

  /** The same inputs attended at most {@code queries} queries per chunk (0 = no limit). */
  public AttentionInputs withMaxQueriesPerChunk(int queries) {
    return new AttentionInputs(this.queries, keys, values, scale, mask, alternative, queries);
  }

  /**
   * Scores {@code queries·keysᵀ} from other rotations of the same tokens, used where
   * {@code primary} is false.
   *
   * @param queries shaped as the primary queries
   * @param keys shaped as the primary keys
   * @param primary which pairs keep the primary score
   */
  public record Alternative(NDArray queries, NDArray keys, PairSelector primary) {}

  /** Chooses between two score sources per (query, key) pair, one query chunk at a time. */
  @FunctionalInterface
  public interface PairSelector {
    /**
     * @return boolean, broadcasting against {@code [batch, kvHeads, group, c, keys]}: true where
     *     the primary score is used, for queries {@code [queryStart, queryEnd)} and keys {@code [0, keys)}
     */
    NDArray primary(NDManager manager, long queryStart, long queryEnd, long keys);
  }
}
