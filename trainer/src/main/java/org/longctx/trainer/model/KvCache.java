package org.longctx.trainer.model;

import java.util.List;

/**
 * Everything a model keeps of the tokens seen so far, for one batch of sequences decoded
 * together: one {@link LayerCache} per layer (made by that layer's {@link AttentionMode}), and the
 * token ids and positions, so the whole sequence can be re-run. Dynamic NTK (beyond
 * {@code max_position_embeddings}) and longrope (past {@code original_max_position_embeddings})
 * change their frequencies with the length, which changes every cached hidden state; see
 * {@link OnRopeChange}. Made by {@link LlamaModel#newCache}; used by the model view that made it
 * only. Not thread-safe; close it to free its arrays.
 */
public final class KvCache implements AutoCloseable {

  /** What to do when the rope's frequency set changes as the sequence grows. */
  public enum OnRopeChange {
    /**
     * Re-run the whole sequence with the new frequencies, so every step equals a forward over
     * all tokens (Phi-3's generate drops its cache at the longrope switch the same way). Dynamic
     * NTK beyond max_position_embeddings changes at every step, so each step re-runs everything.
     */
    REBUILD,
    /**
     * Keep the cached keys and values as they are and use the new frequencies for new tokens
     * only: what transformers' LlamaForCausalLM generate does with dynamic NTK or longrope;
     * cheaper, but no longer equal to a forward over all tokens.
     */
    KEEP
  }

  private final LlamaModel model;
  private final OnRopeChange onRopeChange;
  private final List<LayerCache> layers;
  private final boolean keysRotated;
  long ropeLength;
  private long[][] tokens; // [batch][length]
  private long[][] positions; // [batch][length]
  private int length;
  long maxPosition = -1;
  String frequencySet;
  int rebuilds;
  private boolean closed;

  KvCache(LlamaModel model, List<LayerCache> layers, boolean keysRotated, OnRopeChange onRopeChange, long ropeLength) {
    if (onRopeChange == null) {
      throw new IllegalArgumentException("onRopeChange: must be REBUILD or KEEP, got null");
    }
    if (ropeLength < 0) {
      throw new IllegalArgumentException("ropeLength: must be ≥ 0, got " + ropeLength);
    }
    this.model = model;
    this.layers = List.copyOf(layers);
    this.keysRotated = keysRotated;
    this.onRopeChange = onRopeChange;
    this.ropeLength = ropeLength;
  }

  /** Tokens cached per sequence. */
  public int length() {
    return length;
  }

  /** Sequences in the batch (0 while empty). */
  public int batchSize() {
    return tokens == null ? 0 : tokens.length;
  }

  /** Token ids of sequence {@code row}, in order. */
  public long[] tokens(int row) {
    return tokens == null ? new long[0] : tokens[row].clone();
  }

  /** Positions of sequence {@code row}, in order. */
  public long[] positions(int row) {
    return positions == null ? new long[0] : positions[row].clone();
  }

  /** How often the whole sequence was re-run because the rope's frequencies changed. */
  public int rebuilds() {
    return rebuilds;
  }

  public OnRopeChange onRopeChange() {
    return onRopeChange;
  }

  /** Whether cached keys are stored rotated (plain attention) or not (SelfExtend). */
  public boolean keysRotated() {
    return keysRotated;
  }

  /** Layer {@code i}'s cache. */
  LayerCache layer(int i) {
    return layers.get(i);
  }

  void check(LlamaModel caller, long batch) {
    if (closed) {
      throw new IllegalStateException("KvCache is closed");
    }
    if (caller != model) {
      throw new IllegalArgumentException("cache: made by another model or view (its rope or attention mode may differ); "
          + "use this model's newCache()");
    }
    if (tokens != null && batch != tokens.length) {
      throw new IllegalArgumentException("inputIds: batch " + batch + " but the cache holds " + tokens.length + " sequences");
    }
  }

  /** Positions continuing each cached sequence: last + 1, last + 2, … ({@code 0 …} when empty). */
  long[][] nextPositions(int batch, int count) {
    long[][] out = new long[batch][count];
    for (int b = 0; b < batch; b++) {
      long next = positions == null || length == 0 ? 0 : positions[b][length - 1] + 1;
      for (int i = 0; i < count; i++) {
        out[b][i] = next + i;
      }
    }
    return out;
  }

  /** The cached positions per row, or null while empty. */
  long[][] cachedPositions() {
    return positions;
  }

  void appendTokens(long[][] ids, long[][] newPositions, String set) {
    tokens = withTokens(ids);
    positions = withPositions(newPositions);
    length = tokens[0].length;
    maxPosition = Math.max(maxPosition, ForwardPass.maxOf(newPositions));
    frequencySet = set;
  }

  long[][] withTokens(long[][] ids) {
    return ForwardPass.joined(tokens, ids);
  }

  long[][] withPositions(long[][] more) {
    return ForwardPass.joined(positions, more);
  }

  /**
   * The local context ends (a model with memory layers, see {@link LayerCache#endLocalContext}):
   * memory layers keep its tokens in memory, other layers forget them; positions start again at 0.
   */
  void endLocalContext() {
    layers.forEach(LayerCache::endLocalContext);
    tokens = null;
    positions = null;
    length = 0;
  }

  /** Forgets every token (the rope length floor stays). */
  public void clear() {
    layers.forEach(LayerCache::clear);
    tokens = null;
    positions = null;
    length = 0;
    maxPosition = -1;
    frequencySet = null;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      layers.forEach(LayerCache::close);
      tokens = null;
      positions = null;
    }
  }
}
