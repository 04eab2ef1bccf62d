package org.longctx.jobs.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.longctx.trainer.EvalConfig;

/** The {@code eval:} section as users write it, through the real loader. */
class EvalSectionTest {

  private static EvalConfig parse(String yaml, String... overrides) {
    return ConfigLoader.parse(yaml, "test.yaml", List.of(overrides)).eval();
  }

  private static String error(String yaml, String... overrides) {
    return assertThrows(ConfigException.class, () -> parse(yaml, overrides)).getMessage();
  }

  @Test
  void methodsWithRopeOverridesAndSelfExtendBind() {
    EvalConfig e = parse("""
        eval:
          lengths: [256, 1024]
          depths: [0.0, 0.5]
          trials: 3
          perplexity_lengths: [128]
          methods:
            - name: base
            - name: yarn
              rope: {rope_type: yarn, factor: 4.0, original_max_position_embeddings: 256}
            - name: self-extend
              self_extend: {group_size: 8, window_size: 64}
            - name: pose
              model: runs/pose/checkpoints
        """);
    assertEquals(List.of(256, 1024), e.lengths());
    assertEquals(3, e.trials());
    assertEquals(List.of(128), e.resolvedPerplexityLengths());
    assertEquals(4, e.methods().size());
    assertNull(e.methods().get(0).rope());
    assertEquals("", e.methods().get(0).model());
    assertEquals(4.0, e.methods().get(1).rope().factor());
    assertEquals(8, e.methods().get(2).selfExtend().groupSize());
    assertEquals(64, e.methods().get(2).selfExtend().windowSize());
    assertEquals(0.0, e.methods().get(2).selfExtend().scaleBase(), "scale_base defaults to off");
    assertEquals("runs/pose/checkpoints", e.methods().get(3).model());
  }

  @Test
  void defaultsEvaluateTheModelAsItIsAndPerplexityFollowsThePasskeyLengths() {
    EvalConfig e = parse("", "eval.lengths=[512]");
    assertEquals(List.of("base"), e.methods().stream().map(EvalConfig.Method::name).toList());
    assertEquals(List.of(512), e.resolvedPerplexityLengths());
    assertEquals(EvalConfig.SYNTH, e.perplexityData());
    assertTrue(e.addBos());
  }

  @Test
  void badValuesNameTheirKey() {
    assertTrue(error("eval: {trials: 0}").contains("eval.trials: must be >= 1, got 0"), error("eval: {trials: 0}"));
    assertTrue(error("eval: {depths: [0.5, 1.5]}").contains("eval.depths: every depth must be in [0, 1], got 1.5"));
    String dup = error("eval: {methods: [{name: a}, {name: a}]}");
    assertTrue(dup.contains("eval.methods: name 'a' appears twice"), dup);
    String group = error("eval: {methods: [{name: a}, {name: b, self_extend: {group_size: 0, window_size: 4}}]}");
    assertTrue(group.contains("eval.methods[1].self_extend.group_size"), group);
    String name = error("eval: {methods: [{name: 'a b'}]}");
    assertTrue(name.contains("eval.methods[0].name: must be letters"), name);
    String rope = error("eval: {methods: [{name: y, rope: {rope_type: yarn}}]}");
    assertTrue(rope.contains("eval.methods[0].rope") && rope.contains("factor"), rope);
  }

  @Test
  void anUnknownKeyInsideAMethodIsNamed() {
    String message = error("eval: {methods: [{name: a, self_extnd: {group_size: 2, window_size: 4}}]}");
    assertTrue(message.contains("self_extnd"), message);
  }
}
