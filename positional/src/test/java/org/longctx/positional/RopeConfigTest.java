package org.longctx.positional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Validation of the YAML {@code rope:} section and of the variant records: messages name the key. */
class RopeConfigTest {

  private static String failure(Runnable r) {
    return assertThrows(IllegalArgumentException.class, r::run).getMessage();
  }

  private static JsonNode json(String text) throws Exception {
    return new ObjectMapper().readTree(text.replace('\'', '"'));
  }

  @Test
  void yarnFactorBelowOneNamesTheKeyAndRange() {
    String m = failure(() -> RopeConfig.builder("yarn").factor(0.5).build());
    assertTrue(m.startsWith("factor: ") && m.contains("≥ 1") && m.contains("0.5"), m);
  }

  @Test
  void longropeListsOfTheWrongLengthFailWhenTheHeadDimIsKnown() {
    RopeConfig rope = RopeConfig.builder("longrope").shortFactor(List.of(1.0, 1.0, 1.0))
        .longFactor(List.of(2.0, 2.0, 2.0)).build();
    String m = failure(() -> rope.toRope(64, 10000, 4096));
    assertEquals("short_factor: must have head_dim/2 = 32 values, got 3", m);
    String mismatch = failure(() -> RopeConfig.builder("longrope").shortFactor(List.of(1.0, 1.0))
        .longFactor(List.of(2.0, 2.0, 2.0)).build());
    assertTrue(mismatch.startsWith("long_factor: "), mismatch);
    String negative = failure(() -> RopeConfig.builder("longrope").shortFactor(List.of(1.0, -1.0))
        .longFactor(List.of(2.0, 2.0)).build());
    assertTrue(negative.startsWith("short_factor[1]: "), negative);
  }

  @Test
  void keysAreCheckedAgainstTheType() {
    assertTrue(failure(() -> RopeConfig.builder("linear").factor(2.0).betaFast(32.0).build())
        .startsWith("beta_fast: not used by rope_type 'linear'"));
    assertTrue(failure(() -> RopeConfig.builder("yarn").build()).startsWith("factor: required for rope_type 'yarn'"));
    assertTrue(failure(() -> RopeConfig.builder("llama3").factor(8.0).lowFreqFactor(1.0).build())
        .startsWith("high_freq_factor: required"));
    assertTrue(failure(() -> RopeConfig.builder("llama3").factor(8.0).lowFreqFactor(4.0).highFreqFactor(1.0).build())
        .startsWith("high_freq_factor: must be greater than low_freq_factor"));
    assertTrue(failure(() -> RopeConfig.builder("yarn").factor(4.0).betaFast(1.0).betaSlow(2.0).build())
        .startsWith("beta_fast: must be greater than beta_slow"));
    assertTrue(failure(() -> RopeConfig.builder("default").startTokens(4).build()).startsWith("start_tokens: not used"));
    String unknown = failure(() -> RopeConfig.builder("rotary").build());
    assertTrue(unknown.startsWith("rope_type: 'rotary' is not a rope variant; allowed: default, linear, dynamic"), unknown);
    assertTrue(failure(() -> RopeConfig.builder("default").ropeTheta(0.5).build()).startsWith("rope_theta: "));
  }

  @Test
  void yamlBindingRunsTheSameChecks() {
    Exception e = assertThrows(IllegalArgumentException.class, () -> Golden.SNAKE.convertValue(
        Golden.SNAKE.createObjectNode().put("rope_type", "yarn").put("factor", 0.5), RopeConfig.class));
    assertTrue(String.valueOf(e.getMessage()).contains("factor: must be a finite number ≥ 1"), e.getMessage());
    RopeConfig ok = Golden.ropeConfig(Golden.SNAKE.createObjectNode().put("rope_type", "yarn").put("factor", 4.0)
        .put("original_max_position_embeddings", 4096));
    assertEquals("yarn", ok.toRope(128, 10000, 16384).ropeType());
  }

  @Test
  void variantRecordsValidateToo() {
    assertTrue(failure(() -> new DefaultRope(63, 10000, 2048)).startsWith("head_dim: "));
    assertTrue(failure(() -> new LinearRope(64, 10000, 2048, 0.5)).startsWith("factor: "));
    assertTrue(failure(() -> new DynamicRope(64, 10000, 0, 2)).startsWith("max_position_embeddings: "));
    assertTrue(failure(() -> new YarnRope(64, 10000, 8192, 4, 0, 32, 1, null, null, null, true))
        .startsWith("original_max_position_embeddings: "));
  }

  @Test
  void badHuggingFaceConfigsNameTheKey() throws Exception {
    String yarn = failure(() -> HfRopeConfig.parse(unchecked("{'hidden_size': 256, 'num_attention_heads': 4, "
        + "'max_position_embeddings': 8192, 'rope_theta': 10000.0, 'rope_scaling': {'type': 'yarn', 'factor': 0.5}}")));
    assertTrue(yarn.startsWith("rope_scaling.factor: must be a finite number ≥ 1"), yarn);
    String lists = failure(() -> HfRopeConfig.parse(unchecked("{'hidden_size': 256, 'num_attention_heads': 4, "
        + "'max_position_embeddings': 8192, 'rope_parameters': {'rope_type': 'longrope', 'rope_theta': 10000.0, "
        + "'short_factor': [1, 1, 1], 'long_factor': [2, 2, 2], 'original_max_position_embeddings': 2048}}")));
    assertEquals("rope_parameters.short_factor: must have head_dim/2 = 32 values, got 3", lists);
    String type = failure(() -> HfRopeConfig.parse(unchecked("{'head_dim': 64, 'max_position_embeddings': 8192, "
        + "'rope_scaling': {'rope_type': 'ntk', 'factor': 2}}")));
    assertTrue(type.startsWith("rope_scaling.rope_type: 'ntk' is not a Hugging Face rope type"), type);
    String partial = failure(() -> HfRopeConfig.parse(unchecked("{'head_dim': 64, 'max_position_embeddings': 8192, "
        + "'partial_rotary_factor': 0.5}")));
    assertTrue(partial.startsWith("partial_rotary_factor: "), partial);
    String noMax = failure(() -> HfRopeConfig.parse(unchecked("{'head_dim': 64}")));
    assertTrue(noMax.startsWith("max_position_embeddings: missing"), noMax);
    String text = failure(() -> HfRopeConfig.parse(unchecked("{'head_dim': 64, 'max_position_embeddings': 8192, "
        + "'rope_scaling': {'rope_type': 'linear', 'factor': 'two'}}")));
    assertTrue(text.startsWith("rope_scaling.factor: expected a number"), text);
  }

  @Test
  void huggingFaceDefaultsAndAliases() throws Exception {
    Rope noTheta = HfRopeConfig.parse(json("{'hidden_size': 256, 'num_attention_heads': 4, 'max_position_embeddings': 2048}"));
    assertEquals(new DefaultRope(64, 10000, 2048), noTheta);
    Rope su = HfRopeConfig.parse(json("{'head_dim': 8, 'max_position_embeddings': 131072, 'rope_theta': 10000.0, "
        + "'original_max_position_embeddings': 4096, 'rope_scaling': {'type': 'su', 'short_factor': [1, 1, 1.5, 2], "
        + "'long_factor': [1, 2, 4, 8]}}"));
    assertEquals("longrope", su.ropeType());
    assertEquals(4096, ((LongRope) su).originalMaxPositionEmbeddings());
    assertEquals(32.0, ((LongRope) su).factor(), 0.0);
    // rope_scaling wins over rope_parameters when both are set (transformers 5's convert_rope_params_to_dict)
    Rope both = HfRopeConfig.parse(json("{'head_dim': 64, 'max_position_embeddings': 4096, 'rope_theta': 500000.0, "
        + "'rope_scaling': {'rope_type': 'linear', 'factor': 2}, 'rope_parameters': {'rope_type': 'default'}}"));
    assertEquals(new LinearRope(64, 500000, 4096, 2), both);
    // keys another type would use are ignored, as transformers ignores them
    Rope extra = HfRopeConfig.parse(json("{'head_dim': 64, 'max_position_embeddings': 4096, "
        + "'rope_scaling': {'rope_type': 'linear', 'factor': 2, 'beta_fast': 7, 'unknown': 1}}"));
    assertEquals(new LinearRope(64, 10000, 4096, 2), extra);
  }

  private static JsonNode unchecked(String text) {
    try {
      return json(text);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
