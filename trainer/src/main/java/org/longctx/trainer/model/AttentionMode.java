package org.longctx.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;

/**
 * How one layer's attention treats positions and earlier tokens: it rotates the new tokens'
 * queries and keys, decides which keys and values precede them (a KV cache, a memory) and which
 * pairs are hidden, and hands the result to the {@link AttentionKernel}. Modes are per layer, so
 * a model may mix them. Implementations: {@link PlainMode} (rotary causal attention),
 * {@link SelfExtendMode}.
 */
public interface AttentionMode {

  /**
   * Starts one forward call: whatever every layer of this mode shares in the call (rotary tables
   * at the call's positions), computed once.
   */
  Step begin(ForwardPass pass);

  /** A new, empty cache for one layer of this mode. */
  default LayerCache newCache(Device device) {
    return new KvLayerCache(device);
  }

  /** Whether this mode's cache holds keys rotated (plain attention) or as projected (modes that rotate keys afresh every call). */
  boolean cachesRotatedKeys();

  /** One forward call of this mode. */
  interface Step {
    /**
     * @param q {@code [batch, heads, seq, headDim]} the new tokens' projected queries (not rotated)
     * @param k {@code [batch, kvHeads, seq, headDim]} their keys (not rotated)
     * @param v {@code [batch, kvHeads, seq, headDim]} their values
     * @param cache this layer's cache, appended to; null without one
     */
    AttentionInputs inputs(NDArray q, NDArray k, NDArray v, LayerCache cache);
  }
}
