package org.longctx.trainer.eval;

import org.longctx.trainer.model.Precision;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.SplittableRandom;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.trainer.model.LlamaModel;

/** A tiny random Llama for tests that need a model but no particular weights. */
public final class TinyModels {
  private TinyModels() {}

  static LlamaConfig config(int vocab) throws IOException {
    String json = """
        {"architectures": ["LlamaForCausalLM"], "vocab_size": %d, "hidden_size": 32, "intermediate_size": 48,
         "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 128,
         "rms_norm_eps": 1e-6, "tie_word_embeddings": false, "rope_theta": 10000.0}
        """.formatted(vocab);
    return LlamaConfig.fromHuggingFace(new ObjectMapper().readTree(json));
  }

  static LlamaModel model(int vocab, long seed) throws IOException {
    return withRandomWeights(config(vocab), seed);
  }

  /** {@code config} with weights normal(0, 1/√fan_in), so logits are far from uniform and argmax is well defined. */
  public static LlamaModel withRandomWeights(LlamaConfig config, long seed) throws IOException {
    SplittableRandom rng = new SplittableRandom(seed);
    return LlamaModel.create(config, Precision.FLOAT32, (t, m) -> {
      long[] s = t.shape();
      int n = (int) (s.length == 1 ? s[0] : s[0] * s[1]);
      float[] v = new float[n];
      boolean norm = t.ours().endsWith("norm.weight");
      for (int i = 0; i < n; i++) {
        v[i] = norm ? 1f : (float) (rng.nextGaussian() / Math.sqrt(s[s.length - 1]));
      }
      return m.create(v, t.djlShape());
    });
  }
}
