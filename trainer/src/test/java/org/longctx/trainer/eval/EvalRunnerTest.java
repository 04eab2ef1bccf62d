package org.longctx.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.checkpoints.Storage;
import org.longctx.positional.RopeConfig;
import org.longctx.positional.SelfExtend;
import org.longctx.trainer.EvalConfig;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.model.ModelWeights;

/**
 * The runner's outputs checked against a direct derivation from the plain forward pass: the
 * greedy tokens re-derived by argmax over a full forward per step (no cache), the summed NLL by
 * a log-softmax computed here in double precision.
 */
class EvalRunnerTest {
  static final int VOCAB = 40;

  static int[] ids(int n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    int[] ids = new int[n];
    for (int i = 0; i < n; i++) {
      ids[i] = rng.nextInt(VOCAB);
    }
    return ids;
  }

  /** Logits of every position, [n][vocab], from the plain forward pass. */
  static float[][] logits(LlamaModel model, int[] ids) {
    try (NDManager m = NDManager.newBaseManager()) {
      long[] input = Arrays.stream(ids).asLongStream().toArray();
      float[] flat = model.forward(m.create(input, new Shape(1, ids.length)), null).toFloatArray();
      float[][] out = new float[ids.length][VOCAB];
      for (int t = 0; t < ids.length; t++) {
        System.arraycopy(flat, t * VOCAB, out[t], 0, VOCAB);
      }
      return out;
    }
  }

  static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }

  static double nllSum(float[][] logits, int[] ids) {
    double sum = 0;
    for (int t = 0; t + 1 < ids.length; t++) {
      double max = Double.NEGATIVE_INFINITY;
      for (float v : logits[t]) {
        max = Math.max(max, v);
      }
      double z = 0;
      for (float v : logits[t]) {
        z += Math.exp(v - max);
      }
      sum += max + Math.log(z) - logits[t][ids[t + 1]];
    }
    return sum;
  }

  /** One 24-token prompt wanting 5 + 3 new tokens, one 50-token document scored at 37 tokens. */
  static EvalInputs inputs() {
    PasskeyPrompt prompt = new PasskeyPrompt(24, 0.5, 0, "12345", ids(24, 4));
    EvalDocument doc = new EvalDocument(0, "test", ids(50, 5));
    return new EvalInputs(List.of(prompt), List.of(doc), 5, new int[0], "float32", 0);
  }

  static final List<EvalItem> ITEMS = List.of(new EvalItem(EvalItem.Kind.PASSKEY, 0, 24), new EvalItem(EvalItem.Kind.PERPLEXITY, 0, 37));

  @Test
  void outputsMatchTheDirectDerivationFromTheForwardPass() throws Exception {
    try (LlamaModel model = TinyModels.model(VOCAB, 1)) {
      EvalInputs inputs = inputs();
      List<EvalOutput> out = EvalRunner.run(model, "plain", ITEMS, inputs);
      assertEquals(2, out.size());
      int[] seq = inputs.prompts().get(0).ids();
      int[] expected = new int[PasskeyPrompt.maxNewTokens(5)];
      for (int step = 0; step < expected.length; step++) {
        float[][] l = logits(model, seq);
        expected[step] = argmax(l[seq.length - 1]);
        seq = Arrays.copyOf(seq, seq.length + 1);
        seq[seq.length - 1] = expected[step];
      }
      assertArrayEquals(expected, out.get(0).generated());
      int[] prefix = Arrays.copyOf(inputs.documents().get(0).ids(), 37);
      double direct = nllSum(logits(model, prefix), prefix);
      assertEquals(36, out.get(1).predicted());
      assertEquals(direct, out.get(1).nllSum(), 1e-4 * direct);
      assertTrue(direct / 36 > 0.5, "a non-trivial loss: " + direct);
    }
  }

  @Test
  void aLoadedMethodAppliesItsRopeOverrideAndSelfExtend(@TempDir Path dir) throws Exception {
    EvalInputs inputs = inputs();
    RopeConfig yarn = RopeConfig.builder("yarn").factor(4.0).originalMaxPositionEmbeddings(16).build();
    SelfExtend se = new SelfExtend(4, 8);
    List<EvalOutput> expectedYarn;
    List<EvalOutput> expectedSe;
    List<EvalOutput> plain;
    try (LlamaModel model = TinyModels.model(VOCAB, 2)) {
      ModelWeights.saveHuggingFace(model, Storage.path(dir), "float32", Long.MAX_VALUE, Storage.defaultConf());
      try (LlamaModel y = model.withRope(yarn); LlamaModel s = model.withSelfExtend(se)) {
        expectedYarn = EvalRunner.run(y, "yarn", ITEMS, inputs);
        expectedSe = EvalRunner.run(s, "se", ITEMS, inputs);
      }
      plain = EvalRunner.run(model, "plain", ITEMS, inputs);
    }
    String location = Storage.path(dir).toString();
    List<EvalOutput> yarnRun = EvalRunner.run(MethodSpec.of("yarn", location, yarn), ITEMS, inputs);
    List<EvalOutput> seRun = EvalRunner.run(
        MethodSpec.of(new EvalConfig.Method("se", "", null, EvalConfig.SelfExtendOptions.of(se)), location), ITEMS, inputs);
    assertEquals(expectedYarn.get(1).nllSum(), yarnRun.get(1).nllSum(), 1e-9);
    assertArrayEquals(expectedYarn.get(0).generated(), yarnRun.get(0).generated());
    assertEquals(expectedSe.get(1).nllSum(), seRun.get(1).nllSum(), 1e-9);
    assertArrayEquals(expectedSe.get(0).generated(), seRun.get(0).generated());
    // both extensions change what the model computes at these lengths
    assertTrue(Math.abs(plain.get(1).nllSum() - yarnRun.get(1).nllSum()) > 1e-3);
    assertTrue(Math.abs(plain.get(1).nllSum() - seRun.get(1).nllSum()) > 1e-3);
  }

  @Test
  void aTokenOutsideTheVocabularyNamesTheTokenizerProblem() throws Exception {
    try (LlamaModel model = TinyModels.model(VOCAB, 1)) {
      EvalInputs inputs = new EvalInputs(List.of(new PasskeyPrompt(3, 0, 0, "1", new int[] {1, 2, VOCAB})), List.of(), 1,
          new int[0], "float32", 0);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> EvalRunner.run(model, "m", List.of(new EvalItem(EvalItem.Kind.PASSKEY, 0, 3)), inputs));
      assertTrue(e.getMessage().contains("eval.tokenizer"), e.getMessage());
    }
  }
}
