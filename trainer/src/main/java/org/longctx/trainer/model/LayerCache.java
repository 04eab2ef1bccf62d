package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * What one attention layer keeps of the tokens it has seen, so later tokens attend to them
 * without running them again. A layer's {@link AttentionMode} makes its cache: a plain KV cache
 * ({@link KvLayerCache}) for ordinary layers; other modes bring their own (a memory of earlier
 * windows, for instance).
 */
public interface LayerCache extends AutoCloseable {

  /** The keys and values a layer attends to, each {@code [batch, kvHeads, keys, headDim]}. */
  record KeysValues(NDArray keys, NDArray values) {}

  /**
   * Appends this layer's keys and values of new tokens and returns all of them (cached first),
   * as arrays of {@code step}'s manager, so arrays derived from them during the step are freed
   * with the step.
   *
   * @param keys {@code [batch, kvHeads, seq, headDim]} the new tokens' keys
   * @param values {@code [batch, kvHeads, seq, headDim]}
   */
  KeysValues append(NDArray keys, NDArray values, NDManager step);

  /** Tokens held. */
  long length();

  /** Forgets every token. */
  void clear();

  /**
   * The local context is full and its tokens leave it (a model with memory layers,
   * docs/methods.md §4): a plain cache forgets them; a {@link MemoryCache} keeps them in its
   * memory.
   */
  default void endLocalContext() {
    clear();
  }

  @Override
  void close();
}
