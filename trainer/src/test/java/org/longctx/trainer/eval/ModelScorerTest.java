package org.longctx.trainer.eval;

import org.longctx.trainer.model.Precision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.checkpoints.Storage;
import org.longctx.positional.RopeConfig;
import org.longctx.positional.SelfExtend;
import org.longctx.trainer.Generator;
import org.longctx.trainer.InferenceSettings;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.model.ModelWeights;
import org.longctx.trainer.Perplexity;

/**
 * One scorer, several settings: the numbers equal those of loading the model afresh for each
 * setting and applying it directly, while the weights are read once.
 */
class ModelScorerTest {
  static final int VOCAB = EvalRunnerTest.VOCAB;

  @TempDir Path dir;

  /** The tiny model saved as a Hugging Face folder; its location as eval passes it. */
  private String saved(long seed) throws Exception {
    try (LlamaModel model = TinyModels.model(VOCAB, seed)) {
      ModelWeights.saveHuggingFace(model, Storage.path(dir), "float32", Long.MAX_VALUE, Storage.defaultConf());
    }
    return Storage.path(dir).toString();
  }

  /** Two LongRoPE candidates (as the search tries them), yarn, and SelfExtend with query scaling. */
  static List<InferenceSettings> settings() {
    RopeConfig.Builder longrope = RopeConfig.builder("longrope").originalMaxPositionEmbeddings(16).factor(4.0)
        .shortFactor(List.of(1.0, 1.0, 1.0, 1.0));
    return List.of(
        new InferenceSettings(longrope.longFactor(List.of(1.0, 2.0, 4.0, 8.0)).build(), null),
        new InferenceSettings(longrope.longFactor(List.of(1.0, 1.5, 3.0, 16.0)).build(), null),
        new InferenceSettings(RopeConfig.builder("yarn").factor(4.0).originalMaxPositionEmbeddings(16).build(), null),
        new InferenceSettings(null, new SelfExtend(4, 8, 20)));
  }

  @Test
  void severalSettingsThroughOneScorerGiveTheNumbersOfSeparateLoadsAndReadTheWeightsOnce() throws Exception {
    String location = saved(7);
    int[] document = EvalRunnerTest.ids(37, 11);
    PasskeyPrompt prompt = new PasskeyPrompt(24, 0.5, 0, "12345", EvalRunnerTest.ids(24, 12));
    List<InferenceSettings> all = settings();
    double[][] nll = new double[all.size()][];
    int[][] answers = new int[all.size()][];
    long before = ModelScorer.loads();
    try (ModelScorer scorer = ModelScorer.load(location, Precision.FLOAT32)) {
      for (int i = 0; i < all.size(); i++) {
        nll[i] = scorer.perplexity(all.get(i), document).nll();
        answers[i] = scorer.answer(all.get(i), prompt, 5);
      }
      assertArrayEquals(nll[0], scorer.perplexity(all.get(0).rope(), document).nll(), "a rope override alone");
    }
    assertEquals(1, ModelScorer.loads() - before, "the weights are read once for every setting");

    for (int i = 0; i < all.size(); i++) {
      try (LlamaModel fresh = ModelWeights.load(location, Precision.FLOAT32); LlamaModel view = fresh.with(all.get(i))) {
        Perplexity.Result direct = Perplexity.of(view, document);
        assertArrayEquals(direct.nll(), nll[i], "setting " + i + ": per-token NLL, exactly");
        assertArrayEquals(Generator.greedy(view, prompt.ids(), PasskeyPrompt.maxNewTokens(5)), answers[i], "setting " + i + ": answer");
      }
    }
    for (int i = 1; i < all.size(); i++) {
      assertFalse(Arrays.equals(nll[0], nll[i]), "setting " + i + " scores differently from setting 0, so the views really differ");
    }
  }

  @Test
  void sharedLeasesReadTheModelOnceAndFreeItWithTheLastLease() throws Exception {
    String location = saved(8);
    long before = ModelScorer.loads();
    try (ModelScorer a = ModelScorer.shared(location, Precision.FLOAT32); ModelScorer b = ModelScorer.shared(location, Precision.FLOAT32)) {
      assertSame(a.model(), b.model());
      assertEquals(1, ModelScorer.loads() - before);
      try (ModelScorer half = ModelScorer.shared(location, Precision.FLOAT16)) {
        assertEquals(DataType.FLOAT16, half.model().dtype());
        assertEquals(2, ModelScorer.loads() - before, "another dtype is another copy");
      }
    }
    try (ModelScorer again = ModelScorer.shared(location, Precision.FLOAT32)) {
      assertEquals(3, ModelScorer.loads() - before, "after the last lease closed the copy was freed, so it is read again");
    }
  }

  @Test
  void evalTasksOfSeveralMethodsOnOneModelRunningTogetherReadItOnce() throws Exception {
    String location = saved(9);
    EvalInputs inputs = EvalRunnerTest.inputs();
    List<MethodSpec> methods = List.of(MethodSpec.of("yarn", location, settings().get(2).rope()),
        new MethodSpec("se", location, null, 4, 8, 20), MethodSpec.of("longrope", location, settings().get(0).rope()));
    // expected: each method on a model loaded for it alone
    List<List<EvalOutput>> alone = new java.util.ArrayList<>();
    for (MethodSpec m : methods) {
      try (ModelScorer own = ModelScorer.load(location, Precision.FLOAT32)) {
        alone.add(EvalRunner.run(own, m, EvalRunnerTest.ITEMS, inputs));
      }
    }
    long before = ModelScorer.loads();
    ExecutorService cores = Executors.newFixedThreadPool(methods.size());
    // an executor's task threads: one holds the model while the others start, as Spark tasks overlap
    try (ModelScorer task = ModelScorer.shared(location, Precision.FLOAT32)) {
      List<Future<List<EvalOutput>>> running = new java.util.ArrayList<>();
      for (MethodSpec m : methods) {
        running.add(cores.submit(() -> EvalRunner.run(m, EvalRunnerTest.ITEMS, inputs)));
      }
      for (int i = 0; i < methods.size(); i++) {
        List<EvalOutput> out = running.get(i).get();
        for (int j = 0; j < out.size(); j++) {
          assertEquals(alone.get(i).get(j).nllSum(), out.get(j).nllSum(), 0.0, methods.get(i).name() + " item " + j);
          assertArrayEquals(alone.get(i).get(j).generated(), out.get(j).generated(), methods.get(i).name() + " item " + j);
        }
      }
    } finally {
      cores.shutdown();
    }
    assertEquals(1, ModelScorer.loads() - before, "three methods, one read of the weights");
    assertTrue(alone.get(0).get(1).nllSum() != alone.get(1).get(1).nllSum(), "the methods differ");
  }
}
