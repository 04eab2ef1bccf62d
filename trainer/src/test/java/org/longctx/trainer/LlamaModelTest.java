package org.longctx.trainer;

import org.longctx.trainer.model.Precision;
import org.longctx.trainer.model.LlamaModel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.longctx.checkpoints.LlamaConfig;

/** Properties of the model that need no reference: chunking, gradients, shapes. */
class LlamaModelTest {

  /** A small Qwen2-style config (biases) with GQA and yarn, from config.json text. */
  static LlamaConfig config() throws IOException {
    String json = """
        {"architectures": ["Qwen2ForCausalLM"], "vocab_size": 50, "hidden_size": 32, "intermediate_size": 40,
         "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 64,
         "rms_norm_eps": 1e-6, "tie_word_embeddings": false,
         "rope_parameters": {"rope_type": "yarn", "factor": 2.0, "original_max_position_embeddings": 32, "rope_theta": 10000.0}}
        """;
    return LlamaConfig.fromHuggingFace(new ObjectMapper().readTree(json));
  }

  /** Weights of O(1) effect (normal(0, 1/√fan_in)), so attention is far from uniform. */
  static LlamaModel model(LlamaConfig config, long seed) throws IOException {
    SplittableRandom rng = new SplittableRandom(seed);
    return LlamaModel.create(config, Precision.FLOAT32, (t, m) -> {
      long[] s = t.shape();
      int n = (int) (s.length == 1 ? s[0] : s[0] * s[1]);
      float[] v = new float[n];
      double std = t.ours().endsWith("norm.weight") || t.ours().endsWith(".bias") ? 0.1 : 1 / Math.sqrt(s[s.length - 1]);
      for (int i = 0; i < n; i++) {
        v[i] = (float) ((t.ours().endsWith("norm.weight") ? 1 : 0) + rng.nextGaussian() * std);
      }
      return m.create(v, t.djlShape());
    });
  }

  static long[] ids(int n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    long[] ids = new long[n];
    for (int i = 0; i < n; i++) {
      ids[i] = rng.nextInt(50);
    }
    return ids;
  }

  @Test
  void chunkedAttentionEqualsWholeAttention() throws IOException {
    try (LlamaModel model = model(config(), 1); NDManager m = NDManager.newBaseManager()) {
      NDArray input = m.create(ids(2 * 37, 5), new Shape(2, 37));
      model.setAttentionChunk(37);
      float[] whole = model.forward(input, null).toFloatArray();
      for (int chunk : new int[] {1, 5, 36}) {
        model.setAttentionChunk(chunk);
        float[] chunked = model.forward(input, null).toFloatArray();
        double worst = 0;
        for (int i = 0; i < whole.length; i++) {
          worst = Math.max(worst, Math.abs(whole[i] - chunked[i]));
        }
        assertTrue(worst < 1e-5, "chunk " + chunk + ": max |Δ| " + worst);
      }
    }
  }

  @Test
  void laterTokensDoNotChangeEarlierLogits() throws IOException {
    try (LlamaModel model = model(config(), 2); NDManager m = NDManager.newBaseManager()) {
      model.setAttentionChunk(4);
      long[] a = ids(20, 7);
      long[] b = a.clone();
      b[15] = (b[15] + 1) % 50;
      float[] la = model.forward(m.create(a, new Shape(1, 20)), null).toFloatArray();
      float[] lb = model.forward(m.create(b, new Shape(1, 20)), null).toFloatArray();
      for (int i = 0; i < 15 * 50; i++) {
        assertEquals(la[i], lb[i], 0f, "position " + i / 50);
      }
      boolean changed = false;
      for (int i = 15 * 50; i < 20 * 50; i++) {
        changed |= la[i] != lb[i];
      }
      assertTrue(changed, "token 15 must change its own and later logits");
    }
  }

  /** loss = Σ logits · r for fixed random r: simple, and every logit matters. */
  private static NDArray loss(LlamaModel model, NDManager m, long[] ids) {
    NDArray logits = model.forward(m.create(ids, new Shape(1, ids.length)), null);
    SplittableRandom rng = new SplittableRandom(99);
    float[] r = new float[(int) logits.size()];
    for (int i = 0; i < r.length; i++) {
      r[i] = (float) rng.nextGaussian();
    }
    return logits.mul(m.create(r, logits.getShape())).sum();
  }

  private static Map<String, float[]> gradients(LlamaModel model, long[] ids) {
    Map<String, float[]> grads = new LinkedHashMap<>();
    try (NDManager m = NDManager.newBaseManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      gc.backward(loss(model, m, ids));
    }
    model.parameters().forEach((k, v) -> {
      grads.put(k, v.getGradient().toFloatArray());
      v.getGradient().subi(v.getGradient()); // gradients accumulate across backward calls
    });
    return grads;
  }

  @Test
  void autogradReachesEveryParameterAndChunkingDoesNotChangeGradients() throws IOException {
    long[] ids = ids(23, 11);
    try (LlamaModel model = model(config(), 3)) {
      model.setTrainable(true);
      model.setAttentionChunk(23);
      Map<String, float[]> whole = gradients(model, ids);
      model.setAttentionChunk(6);
      Map<String, float[]> chunked = gradients(model, ids);
      assertEquals(model.parameters().keySet(), whole.keySet());
      for (String name : whole.keySet()) {
        float[] a = whole.get(name);
        float[] b = chunked.get(name);
        double norm = 0;
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
          norm = Math.max(norm, Math.abs(a[i]));
          worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        assertTrue(norm > 0, name + " gets no gradient");
        assertTrue(worst <= 1e-4 * Math.max(1, norm), name + ": chunked gradient differs by " + worst + " (scale " + norm + ")");
      }
      // one element checked against a central finite difference (an independent derivation)
      for (String name : new String[] {"blocks.1.attention.k.weight", "embedding.weight", "blocks.0.attention.q.bias"}) {
        NDArray p = model.parameters().get(name);
        int index = 3;
        float g = whole.get(name)[index];
        float original = p.toFloatArray()[index];
        float h = 1e-2f;
        double[] losses = new double[2];
        for (int side = 0; side < 2; side++) {
          p.set(new NDIndex(flatIndex(p, index)), original + (side == 0 ? h : -h));
          try (NDManager m = NDManager.newBaseManager()) {
            losses[side] = loss(model, m, ids).getFloat();
          }
        }
        p.set(new NDIndex(flatIndex(p, index)), original);
        double numeric = (losses[0] - losses[1]) / (2 * h);
        assertEquals(numeric, g, 2e-2 * Math.max(1, Math.abs(numeric)), name + "[" + index + "]");
      }
    }
  }

  private static String flatIndex(NDArray p, int flat) {
    long[] shape = p.getShape().getShape();
    StringBuilder sb = new StringBuilder();
    long rest = flat;
    long[] idx = new long[shape.length];
    for (int d = shape.length - 1; d >= 0; d--) {
      idx[d] = rest % shape[d];
      rest /= shape[d];
    }
    for (int d = 0; d < idx.length; d++) {
      sb.append(d == 0 ? "" : ",").append(idx[d]);
    }
    return sb.toString();
  }

  @Test
  void randomInitialisationFollowsTransformers() throws IOException {
    try (LlamaModel model = LlamaModel.random(config(), Precision.FLOAT32, 42, 0.02)) {
      Map<String, NDArray> p = model.parameters();
      assertEquals(1f, p.get("norm.weight").min().getFloat());
      assertEquals(1f, p.get("blocks.1.mlp_norm.weight").max().getFloat());
      assertEquals(0f, p.get("blocks.0.attention.v.bias").abs().max().getFloat());
      float[] w = p.get("blocks.0.mlp.up.weight").toFloatArray();
      double sq = 0;
      for (float v : w) {
        sq += v * v;
      }
      assertEquals(0.02, Math.sqrt(sq / w.length), 0.002);
      try (LlamaModel same = LlamaModel.random(config(), Precision.FLOAT32, 42, 0.02)) {
        assertEquals(p.get("embedding.weight"), same.parameters().get("embedding.weight"), "same seed, same weights");
      }
    }
  }

  @Test
  void badInputsAreNamed() throws IOException {
    try (LlamaModel model = model(config(), 4); NDManager m = NDManager.newBaseManager()) {
      assertThrows(IllegalArgumentException.class, () -> model.forward(m.create(new long[] {1, 2, 3}), null));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> model.forward(m.create(new long[] {1, 2, 3}, new Shape(1, 3)), m.create(new long[] {0, 1}, new Shape(1, 2))));
      assertTrue(e.getMessage().contains("positionIds"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> model.setAttentionChunk(-1));
    }
  }
}
