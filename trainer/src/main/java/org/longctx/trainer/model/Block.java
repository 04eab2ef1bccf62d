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
    // h + attention(norm(h)), then + mlp(norm(...)); the intermediates are closed once used
    // (autograd keeps what backward needs), so a layer's temporaries do not pile up until the
    // step ends
    try (NDArray normed = attentionNorm.forward(h, pass);
        NDArray attended = attention.forward(normed, mode, cache, pass);
        NDArray afterAttention = h.add(attended);
        NDArray mlpNormed = mlpNorm.forward(afterAttention, pass);
        NDArray mlpOut = mlp.forward(mlpNormed, pass)) {
      return afterAttention.add(mlpOut);
    }
  }
}
