package org.longctx.trainer;

import org.longctx.trainer.model.Precision;
import org.longctx.trainer.model.ModelWeights;
import org.longctx.trainer.model.LlamaModel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.longctx.positional.RopeConfig;
import org.longctx.positional.SelfExtend;

/** Segmented, head-chunked perplexity equals the log-softmax of one full forward's logits. */
class PerplexityTest {
  static LlamaModel model;

  @BeforeAll
  static void load() throws IOException {
    model = ModelWeights.load(Golden.folder("llama-gqa-yarn").toString(), Precision.FLOAT32);
  }

  @AfterAll
  static void close() {
    model.close();
  }

  /** −ln p(ids[t] | ids[&lt;t]) from one forward, log-softmax in double. */
  static double[] fullForwardNll(LlamaModel m, int[] ids) {
    int vocab = m.config().vocabSize();
    float[] logits;
    try (NDManager nd = NDManager.newBaseManager()) {
      long[] longs = Arrays.stream(ids).asLongStream().toArray();
      logits = ReferenceLlama.flat(m.forward(nd.create(longs, new Shape(1, ids.length)), null));
    }
    double[] nll = new double[ids.length - 1];
    for (int t = 0; t < nll.length; t++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < vocab; j++) {
        max = Math.max(max, logits[t * vocab + j]);
      }
      double sum = 0;
      for (int j = 0; j < vocab; j++) {
        sum += Math.exp(logits[t * vocab + j] - max);
      }
      nll[t] = -(logits[t * vocab + ids[t + 1]] - max - Math.log(sum));
    }
    return nll;
  }

  @Test
  void equalsFullForwardForEveryMode() {
    int[] ids = IntStream.range(0, 80).map(i -> (i * 53 + 7) % 128).toArray(); // beyond max_position_embeddings 64
    LlamaModel[] views = {
        model.withRope(model.config().rope()),
        model.withRope(RopeConfig.builder("dynamic").factor(2.0).build()), // frequencies depend on the whole length
        model.withSelfExtend(new SelfExtend(4, 8)),
    };
    try {
      for (LlamaModel m : views) {
        double[] expected = fullForwardNll(m, ids);
        for (int segment : new int[] {7, 32, 2048}) {
          Perplexity.Result r = Perplexity.of(m, ids, segment);
          assertEquals(ids.length - 1, r.nll().length);
          double worst = 0;
          for (int t = 0; t < expected.length; t++) {
            worst = Math.max(worst, Math.abs(expected[t] - r.nll()[t]));
          }
          assertTrue(worst <= 1e-4, m.config().rope().ropeType() + " SE " + m.selfExtend() + " segment " + segment
              + ": max |Δ nll| " + worst);
          assertEquals(Arrays.stream(expected).average().orElseThrow(), r.meanNll(), 1e-5);
          assertEquals(Math.exp(r.meanNll()), r.perplexity(), 1e-9);
          assertEquals(Arrays.stream(expected, 0, 19).average().orElseThrow(), r.meanNll(20), 1e-5);
        }
      }
    } finally {
      for (LlamaModel m : views) {
        m.close();
      }
    }
  }

  @Test
  void rejectsInputsItCannotScore() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Perplexity.of(model, new int[] {3})).getMessage()
        .startsWith("ids:"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Perplexity.of(model, new int[] {3, 400})).getMessage()
        .startsWith("ids:"));
  }
}
