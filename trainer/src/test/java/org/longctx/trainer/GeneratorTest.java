package org.longctx.trainer;

import org.longctx.trainer.model.Precision;
import org.longctx.trainer.model.ModelWeights;
import org.longctx.trainer.model.LlamaModel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.longctx.trainer.Generator.Sampling;

/** Sampling rules checked by hand, and the generator's contract on the tiny Llama. */
class GeneratorTest {
  static LlamaModel model;
  static final int[] PROMPT = {5, 17, 33, 2, 90, 64, 7};

  @BeforeAll
  static void load() throws IOException {
    model = ModelWeights.load(Golden.folder("llama-gqa-yarn").toString(), Precision.FLOAT32);
  }

  @AfterAll
  static void close() {
    model.close();
  }

  @Test
  void topKKeepsTiesAndRenormalises() {
    float[] logits = {2, 1, 0, -1, 1};
    double[] p = Generator.distribution(logits, new Sampling(1.0, 2, 1.0));
    double z = Math.exp(2) + 2 * Math.exp(1); // tokens 0, 1 and 4 (tied with the 2nd largest)
    assertArrayEquals(new double[] {Math.exp(2) / z, Math.exp(1) / z, 0, 0, Math.exp(1) / z}, p, 1e-12);
  }

  @Test
  void topPKeepsTheSmallestSetReachingP() {
    float[] logits = {2, 1, 0, -1, 1};
    // temperature 0.5: scaled 4, 2, 0, −2, 2; probabilities 0.774, 0.105, 0.014, 0.002, 0.105
    double[] p = Generator.distribution(logits, new Sampling(0.5, 0, 0.9));
    double z = Math.exp(4) + 2 * Math.exp(2); // 0.774 + 0.105 < 0.9, the next 0.105 reaches it
    assertArrayEquals(new double[] {Math.exp(4) / z, Math.exp(2) / z, 0, 0, Math.exp(2) / z}, p, 1e-12);
    // a tiny top_p keeps the most likely token alone
    assertArrayEquals(new double[] {1, 0, 0, 0, 0}, Generator.distribution(logits, new Sampling(1, 0, 0.01)), 0);
  }

  @Test
  void samplesFollowTheDistribution() {
    float[] logits = {0.5f, -1, 2, 0};
    Sampling s = new Sampling(1.3, 3, 0.95);
    double[] p = Generator.distribution(logits, s);
    int[] counts = new int[logits.length];
    SplittableRandom rng = new SplittableRandom(7);
    int n = 40_000;
    for (int i = 0; i < n; i++) {
      counts[Generator.sample(logits, s, rng)]++;
    }
    for (int i = 0; i < p.length; i++) {
      assertEquals(p[i], counts[i] / (double) n, 0.01, "token " + i);
    }
    assertEquals(0, counts[1], "outside top-k");
  }

  @Test
  void seededSamplingIsReproducibleAndTopOneIsGreedy() {
    int[] greedy = Generator.greedy(model, PROMPT, 8);
    assertEquals(8, greedy.length);
    int[] a = Generator.sample(model, PROMPT, 8, Sampling.ofTemperature(1.0), 42);
    int[] b = Generator.sample(model, PROMPT, 8, Sampling.ofTemperature(1.0), 42);
    int[] c = Generator.sample(model, PROMPT, 8, Sampling.ofTemperature(1.0), 43);
    assertArrayEquals(a, b);
    assertFalse(Arrays.equals(a, c), "another seed, another sample");
    assertArrayEquals(greedy, Generator.sample(model, PROMPT, 8, new Sampling(1.0, 1, 1.0), 5));
  }

  @Test
  void stopsAtAStopToken() {
    int[] greedy = Generator.greedy(model, PROMPT, 8);
    int stop = greedy[3];
    int first = 0;
    while (greedy[first] != stop) {
      first++;
    }
    int[] stopped = Generator.greedy(model, PROMPT, 8, 999, stop);
    assertArrayEquals(Arrays.copyOf(greedy, first + 1), stopped);
    assertEquals(0, Generator.greedy(model, PROMPT, 0).length);
  }

  @Test
  void badArgumentsNameTheirKey() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new Sampling(0, 0, 1)).getMessage().startsWith("temperature:"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new Sampling(1, -1, 1)).getMessage().startsWith("top_k:"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new Sampling(1, 0, 0)).getMessage().startsWith("top_p:"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Generator.greedy(model, new int[0], 3)).getMessage()
        .startsWith("prompt:"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Generator.greedy(model, new int[] {128}, 3)).getMessage()
        .startsWith("prompt:"));
  }
}
