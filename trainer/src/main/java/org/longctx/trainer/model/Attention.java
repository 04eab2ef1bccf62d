package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;
import java.util.Map;
import org.longctx.checkpoints.LlamaConfig;

/**
 * Grouped-query self-attention: project q, k, v → the layer's {@link AttentionMode} rotates them
 * and puts cached keys first → the {@link AttentionKernel} computes
 * {@code softmax(q·kᵀ/√d + mask)·v} → output projection.
 */
final class Attention {
  private final int heads;
  private final int kvHeads;
  private final int headDim;
  private final NDArray wq;
  private final NDArray wk;
  private final NDArray wv;
  private final NDArray wo;
  private final NDArray bq;
  private final NDArray bk;
  private final NDArray bv;
  private final NDArray bo;

  Attention(LlamaConfig c, Map<String, NDArray> p, String prefix) {
    heads = c.numAttentionHeads();
    kvHeads = c.numKeyValueHeads();
    headDim = c.headDim();
    wq = p.get(prefix + "q.weight");
    wk = p.get(prefix + "k.weight");
    wv = p.get(prefix + "v.weight");
    wo = p.get(prefix + "o.weight");
    bq = p.get(prefix + "q.bias");
    bk = p.get(prefix + "k.bias");
    bv = p.get(prefix + "v.bias");
    bo = p.get(prefix + "o.bias");
  }

  /**
   * @param x {@code [batch, seq, hidden]}
   * @param mode this layer's mode, started for this call
   * @param cache this layer's cache, or null
   * @return {@code [batch, seq, hidden]}
   */
  NDArray forward(NDArray x, AttentionMode.Step mode, LayerCache cache, ForwardPass pass) {
    long batch = x.getShape().get(0);
    long seq = x.getShape().get(1);
    NDArray q = Linear.apply(x, wq, bq).reshape(batch, seq, heads, headDim).transpose(0, 2, 1, 3); // [batch, heads, seq, headDim]
    NDArray k = Linear.apply(x, wk, bk).reshape(batch, seq, kvHeads, headDim).transpose(0, 2, 1, 3); // [batch, kvHeads, seq, headDim]
    NDArray v = Linear.apply(x, wv, bv).reshape(batch, seq, kvHeads, headDim).transpose(0, 2, 1, 3);
    AttentionInputs inputs = mode.inputs(q, k, v, cache);
    try (NDArray attended = pass.attend(inputs); // [batch, heads, seq, headDim]
        NDArray merged = attended.transpose(0, 2, 1, 3).reshape(batch, seq, (long) heads * headDim)) {
      return Linear.apply(merged, wo, bo);
    }
  }
}
