package org.longctx.trainer.model;

import org.longctx.positional.RotaryEmbedding.CosSin;

/**
 * Rotary causal attention, as transformers' Llama computes it: queries and keys rotated at their
 * position ids, cached keys (already rotated) first, causal by sequence index.
 */
public final class PlainMode implements AttentionMode {

  public static final PlainMode INSTANCE = new PlainMode();

  private PlainMode() {}

  @Override
  public Step begin(ForwardPass pass) {
    CosSin cs = pass.cosSin(pass.positions()); // each [batch, 1, seq, headDim]
    CausalMask mask = new CausalMask(pass.offset());
    return (q, k, v, cache) -> {
      q = pass.rotate(q, cs);
      k = pass.rotate(k, cs);
      if (cache != null) {
        LayerCache.KeysValues all = cache.append(k, v, pass.manager()); // [batch, kvHeads, offset + seq, headDim]
        k = all.keys();
        v = all.values();
      }
      return new AttentionInputs(q, k, v, pass.scale(), mask);
    };
  }

  @Override
  public boolean cachesRotatedKeys() {
    return true;
  }

  @Override
  public String toString() {
    return "plain";
  }
}
