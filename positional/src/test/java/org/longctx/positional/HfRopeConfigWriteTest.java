package org.longctx.positional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Writing a rope back to config.json (both generations) and reading it again. */
class HfRopeConfigWriteTest {

  @Test
  void everyFixtureCaseRoundTripsThroughBothForms() {
    for (JsonNode c : Golden.ropeFixtures().get("cases")) {
      if (!c.get("source").asText().equals("transformers")) {
        continue;
      }
      String name = c.get("name").asText();
      Rope rope = HfRopeConfig.parse(c.get("config_v5"));

      ObjectNode v5 = c.get("config_v4").deepCopy(); // start from the other form on purpose
      HfRopeConfig.writeV5(rope, v5);
      assertFalse(v5.has("rope_scaling") || v5.has("rope_theta"), name + ": v5 form keeps no v4 keys");
      assertEquals(rope.ropeTheta(), v5.get("rope_parameters").get("rope_theta").asDouble(), 0.0, name);
      assertEquals(rope, HfRopeConfig.parse(v5), name + ": v5 round trip");

      ObjectNode v4 = c.get("config_v5").deepCopy();
      HfRopeConfig.writeV4(rope, v4);
      assertFalse(v4.has("rope_parameters"), name);
      assertEquals(rope.ropeTheta(), v4.get("rope_theta").asDouble(), 0.0, name);
      Rope back = HfRopeConfig.parse(v4);
      assertEquals(rope.ropeType(), back.ropeType(), name);
      for (JsonNode e : c.get("evaluations")) {
        long seqLen = e.get("seq_len").asLong();
        assertEquals(rope.frequencies(seqLen), back.frequencies(seqLen), name + ": v4 round trip @ " + seqLen);
      }
      if (!rope.ropeType().equals("default")) {
        assertEquals(rope.ropeType(), v4.get("rope_scaling").get("type").asText(), name + ": v4 carries the type alias");
      }
    }
  }

  @Test
  void defaultIsWrittenWithoutScaling() {
    ObjectNode config = Golden.SNAKE.createObjectNode().put("hidden_size", 256).put("num_attention_heads", 4);
    HfRopeConfig.writeV4(new DefaultRope(64, 500000, 8192), config);
    assertTrue(config.get("rope_scaling").isNull());
    assertEquals(500000.0, config.get("rope_theta").asDouble(), 0.0);
    assertEquals(8192, config.get("max_position_embeddings").asInt());
  }

  @Test
  void ntkIsExportedAsTheDefaultRopeWithItsBase() {
    NtkRope ntk = new NtkRope(128, 10000, 4096, 8);
    ObjectNode config = Golden.SNAKE.createObjectNode().put("head_dim", 128);
    HfRopeConfig.writeV5(ntk, config);
    Rope back = HfRopeConfig.parse(config);
    assertEquals("default", back.ropeType());
    assertArrayEquals(ntk.invFreq(1), back.invFreq(1));
  }

  @Test
  void yarnPoseIsExportedAsAnEquivalentLongrope() {
    YarnPoseRope pose = new YarnPoseRope(64, 10000, 8192, 4, 2048, 32, 1, null);
    ObjectNode config = Golden.SNAKE.createObjectNode().put("head_dim", 64);
    HfRopeConfig.writeV4(pose, config);
    Rope back = HfRopeConfig.parse(config);
    assertEquals("longrope", back.ropeType());
    for (long seqLen : new long[] {1, 2048, 2049, 8192}) {
      float[] expected = pose.invFreq(seqLen);
      float[] actual = back.invFreq(seqLen);
      for (int i = 0; i < expected.length; i++) {
        if (Math.abs(actual[i] - expected[i]) > 1e-6 * expected[i]) {
          fail("inv_freq[" + i + "] @ " + seqLen + ": " + expected[i] + " vs " + actual[i]);
        }
      }
      assertEquals(pose.attentionFactor(seqLen), back.attentionFactor(seqLen), 0.0);
    }
  }

  @Test
  void startTokensCannotBeWrittenForTransformers() {
    LongRope withStart = new LongRope(8, 10000, 8192, List.of(1.0, 1.0, 1.0, 1.0), List.of(1.0, 2.0, 3.0, 4.0), 4,
        2048, null, 4);
    String m = assertThrows(IllegalArgumentException.class,
        () -> HfRopeConfig.writeV5(withStart, Golden.SNAKE.createObjectNode())).getMessage();
    assertTrue(m.startsWith("start_tokens: "), m);
  }
}
