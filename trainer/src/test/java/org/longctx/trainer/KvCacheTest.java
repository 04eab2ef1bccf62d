package org.longctx.trainer;

import org.longctx.trainer.model.Precision;
import org.longctx.trainer.model.ModelWeights;
import org.longctx.trainer.model.LlamaModel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.longctx.positional.RopeConfig;
import org.longctx.positional.SelfExtend;
import org.longctx.trainer.model.KvCache;
import org.longctx.trainer.model.KvCache.OnRopeChange;

/**
 * Incremental decoding with {@link KvCache}: against transformers' own {@code generate} and
 * per-prefix forwards ({@code tools/reference/generation_fixtures.py}), and against full
 * recomputation at every step for every rope and attention mode.
 */
class KvCacheTest {
  static final String FIXTURE = "llama-gqa-yarn";
  static final double TOLERANCE = 1e-4;

  static LlamaModel model;
  static JsonNode hf;

  @BeforeAll
  static void load() throws IOException {
    model = ModelWeights.load(Golden.folder(FIXTURE).toString(), Precision.FLOAT32);
    hf = new ObjectMapper().readTree(Golden.folder(FIXTURE).getParent().resolve("generation/hf_generate.json").toFile());
  }

  @AfterAll
  static void close() {
    model.close();
  }

  /** The rope a fixture variant names (null: the model's own). */
  static RopeConfig rope(JsonNode params) {
    if (params == null || params.isNull()) {
      return null;
    }
    RopeConfig.Builder b = RopeConfig.builder(params.get("rope_type").asText()).factor(params.get("factor").asDouble())
        .ropeTheta(params.get("rope_theta").asDouble());
    if (params.has("original_max_position_embeddings")) {
      b.originalMaxPositionEmbeddings(params.get("original_max_position_embeddings").asInt());
    }
    if (params.has("short_factor")) {
      b.shortFactor(doubles(params.get("short_factor"))).longFactor(doubles(params.get("long_factor")));
    }
    return b.build();
  }

  static List<Double> doubles(JsonNode a) {
    List<Double> out = new ArrayList<>();
    a.forEach(x -> out.add(x.asDouble()));
    return out;
  }

  static int[] ints(JsonNode a) {
    int[] out = new int[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).asInt();
    }
    return out;
  }

  static float[] floats(JsonNode a) {
    float[] out = new float[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) a.get(i).asDouble();
    }
    return out;
  }

  static double maxDiff(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    double worst = 0;
    for (int i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]));
    }
    return worst;
  }

  /** Feeds {@code prompt} then each of {@code forced} through one cache; logits of the last token after each feed. */
  static float[][] teacherForced(LlamaModel m, int[] prompt, int[] forced, int steps, KvCache cache) {
    float[][] out = new float[steps][];
    long[] next = Arrays.stream(prompt).asLongStream().toArray();
    for (int t = 0; t < steps; t++) {
      try (NDManager nd = NDManager.newBaseManager()) {
        NDArray logits = m.forward(nd.create(next, new Shape(1, next.length)), null, cache);
        float[] all = ReferenceLlama.flat(logits);
        int vocab = m.config().vocabSize();
        out[t] = Arrays.copyOfRange(all, all.length - vocab, all.length);
      }
      next = new long[] {forced[t]};
    }
    return out;
  }

  /** The last row of one forward (no cache) over {@code tokens}. */
  static float[] lastRow(LlamaModel m, long[] tokens) {
    try (NDManager nd = NDManager.newBaseManager()) {
      float[] all = ReferenceLlama.flat(m.forward(nd.create(tokens, new Shape(1, tokens.length)), null));
      return Arrays.copyOfRange(all, all.length - m.config().vocabSize(), all.length);
    }
  }

  /**
   * KEEP reproduces transformers' generate (cached keys keep the frequencies they were rotated
   * with); REBUILD reproduces transformers' forward over each prefix. Both equal for yarn.
   */
  @ParameterizedTest
  @ValueSource(strings = {"yarn", "dynamic", "longrope"})
  void matchesTransformersGenerateAndForward(String name) {
    JsonNode v = null;
    for (JsonNode x : hf.get("variants")) {
      if (x.get("name").asText().equals(name)) {
        v = x;
      }
    }
    int[] prompt = ints(v.get("prompt"));
    int[] generated = ints(v.get("generated"));
    int steps = generated.length;
    RopeConfig override = rope(v.get("rope_parameters"));
    try (LlamaModel m = override == null ? model.withRope(model.config().rope()) : model.withRope(override)) {
      assertEquals(name, m.config().rope().ropeType());
      try (KvCache keep = m.newCache(OnRopeChange.KEEP, 0); KvCache rebuild = m.newCache()) {
        float[][] kept = teacherForced(m, prompt, generated, steps, keep);
        float[][] rebuilt = teacherForced(m, prompt, generated, steps, rebuild);
        double worstKeep = 0;
        double worstRebuild = 0;
        double gap = 0;
        for (int t = 0; t < steps; t++) {
          float[] generateLogits = floats(v.get("generate_logits").get(t));
          float[] forwardLogits = floats(v.get("full_forward_logits").get(t));
          worstKeep = Math.max(worstKeep, maxDiff(generateLogits, kept[t]));
          worstRebuild = Math.max(worstRebuild, maxDiff(forwardLogits, rebuilt[t]));
          gap = Math.max(gap, maxDiff(kept[t], rebuilt[t]));
        }
        assertTrue(worstKeep <= TOLERANCE, name + " KEEP vs transformers generate: max |Δ| " + worstKeep);
        assertTrue(worstRebuild <= TOLERANCE, name + " REBUILD vs transformers forward: max |Δ| " + worstRebuild);
        assertEquals(0, keep.rebuilds());
        if (name.equals("yarn")) {
          assertEquals(0, rebuild.rebuilds());
        } else { // the policies differ once the frequencies change
          assertTrue(gap > 100 * TOLERANCE, name + ": KEEP and REBUILD should differ, gap " + gap);
          assertEquals(name.equals("longrope") ? 1 : prompt.length + steps - 1 - 64, rebuild.rebuilds(),
              "rebuilds: longrope once at the switch, dynamic at every step beyond 64 tokens");
        }
      }
      // the generator with KEEP picks transformers' tokens
      Generator.Result result = Generator.generate(m, prompt, steps, null, 0, OnRopeChange.KEEP, false);
      assertArrayEquals(generated, result.tokens());
    }
  }

  /**
   * Greedy decoding through the cache (REBUILD) equals recomputing the whole sequence at every
   * step, in tokens and logits, for every rope and for SelfExtend; the prompts cross dynamic's
   * and longrope's switch lengths.
   */
  @ParameterizedTest
  @ValueSource(strings = {"own-yarn", "none", "linear", "dynamic", "longrope", "selfextend", "selfextend-longrope",
      "selfextend-dynamic"})
  void greedyDecodeEqualsFullRecomputation(String variant) {
    RopeConfig longrope = rope(hf.get("variants").get(2).get("rope_parameters"));
    InferenceSettings settings = switch (variant) {
      case "own-yarn" -> InferenceSettings.NONE;
      case "none" -> new InferenceSettings(RopeConfig.builder("default").build(), null);
      case "linear" -> new InferenceSettings(RopeConfig.builder("linear").factor(2.0).build(), null);
      case "dynamic" -> new InferenceSettings(RopeConfig.builder("dynamic").factor(2.0).build(), null);
      case "longrope" -> new InferenceSettings(longrope, null);
      case "selfextend" -> new InferenceSettings(null, new SelfExtend(2, 4));
      case "selfextend-longrope" -> new InferenceSettings(longrope, new SelfExtend(3, 5, 12));
      case "selfextend-dynamic" -> new InferenceSettings(RopeConfig.builder("dynamic").factor(2.0).build(),
          new SelfExtend(4, 8));
      default -> throw new IllegalArgumentException(variant);
    };
    int promptLength = variant.contains("dynamic") ? 60 : 9;
    int steps = 10;
    int[] prompt = LongStream.range(0, promptLength).mapToInt(i -> (int) ((i * 37 + 11) % 128)).toArray();
    try (LlamaModel m = settings.applyTo(model)) {
      m.setAttentionChunk(variant.contains("selfextend") ? 5 : 0);
      Generator.Result result = Generator.generate(m, prompt, steps, null, 0, OnRopeChange.REBUILD, true);
      assertEquals(steps, result.tokens().length);
      long[] sequence = Arrays.copyOf(Arrays.stream(prompt).asLongStream().toArray(), promptLength + steps);
      for (int t = 0; t < steps; t++) {
        float[] full = lastRow(m, Arrays.copyOf(sequence, promptLength + t));
        double diff = maxDiff(full, result.logits()[t]);
        assertTrue(diff <= TOLERANCE, variant + " step " + t + ": cache vs full recomputation max |Δ| " + diff);
        assertEquals(Generator.argmax(full), result.tokens()[t], variant + " step " + t);
        sequence[promptLength + t] = result.tokens()[t];
      }
      if (variant.contains("longrope")) {
        assertEquals(1, result.rebuilds(), "longrope rebuilds once, when the length passes 16");
      } else if (variant.contains("dynamic")) {
        assertEquals(promptLength + steps - 1 - 64, result.rebuilds(), "dynamic rebuilds at every step beyond 64");
      } else {
        assertEquals(0, result.rebuilds());
      }
    }
  }

  /** A long input fed in prefill segments equals one pass; positions continue after the cache. */
  @Test
  void prefillSegmentsEqualOnePass() {
    long[] ids = Golden.find(FIXTURE, "long").inputIds();
    try (LlamaModel dynamic = model.withRope(RopeConfig.builder("dynamic").factor(2.0).build());
        NDManager nd = NDManager.newBaseManager()) {
      long[] longer = LongStream.range(0, 75).map(i -> ids[(int) (i % ids.length)]).toArray(); // beyond 64
      float[] onePass = ReferenceLlama.flat(dynamic.forward(nd.create(longer, new Shape(1, longer.length)), null));
      dynamic.setPrefillSegment(16);
      try (KvCache cache = dynamic.newCache()) {
        float[] segmented = ReferenceLlama.flat(dynamic.forward(nd.create(longer, new Shape(1, longer.length)), null, cache));
        assertTrue(maxDiff(onePass, segmented) <= 1e-5, "segments vs one pass " + maxDiff(onePass, segmented));
        assertEquals(0, cache.rebuilds(), "segments use the whole input's frequencies");
        assertArrayEquals(LongStream.range(0, 75).toArray(), cache.positions(0));
        assertArrayEquals(longer, cache.tokens(0));
      }
    }
  }

  @Test
  void plainCacheKeepsRotatedKeysAndChecksItsUse() {
    try (LlamaModel other = model.withRope(model.config().rope()); KvCache cache = model.newCache();
        NDManager nd = NDManager.newBaseManager()) {
      assertTrue(cache.keysRotated());
      model.forward(nd.create(new long[] {1, 2, 3, 4}, new Shape(2, 2)), null, cache);
      assertEquals(2, cache.batchSize());
      assertEquals(2, cache.length());
      IllegalArgumentException wrongModel = assertThrows(IllegalArgumentException.class,
          () -> other.forward(nd.create(new long[] {5}, new Shape(1, 1)), null, cache));
      assertTrue(wrongModel.getMessage().startsWith("cache:"), wrongModel.getMessage());
      IllegalArgumentException wrongBatch = assertThrows(IllegalArgumentException.class,
          () -> model.forward(nd.create(new long[] {5}, new Shape(1, 1)), null, cache));
      assertTrue(wrongBatch.getMessage().startsWith("inputIds:"), wrongBatch.getMessage());
      cache.clear();
      assertEquals(0, cache.length());
    }
  }
}
