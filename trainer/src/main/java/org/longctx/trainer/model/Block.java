package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;
import java.util.Map;
import org.longctx.checkpoints.LlamaConfig;

/** One decoder layer: pre-norm attention and pre-norm MLP, each with a residual. */
final class Block {
  private final RmsNorm attentionNorm;
  private final Attention attention;
  private final RmsNorm mlpNorm;
  private final FeedForward mlp;

  Block(LlamaConfig c, Map<String, NDArray> p, String prefix) {
    attentionNorm = new RmsNorm(p.get(prefix + "attention_norm.weight"), c.rmsNormEps());
    attention = new Attention(c, p, prefix + "attention.");
    mlpNorm = new RmsNorm(p.get(prefix + "mlp_norm.weight"), c.rmsNormEps());
    mlp = new FeedForward(p, prefix + "mlp.");
  }

  NDArray forward(NDArray h, AttentionMode.Step mode, LayerCache cache, ForwardPass pass) {
    NDArray afterAttention = h.add(attention.forward(attentionNorm.forward(h), mode, cache, pass));
    return afterAttention.add(mlp.forward(mlpNorm.forward(afterAttention)));
  }
}
