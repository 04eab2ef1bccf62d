package org.longctx.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The tiny-model fixtures under {@code src/test/resources/golden/}, written by
 * {@code tools/reference/model_fixtures.py} with transformers (see each {@code reference.json}).
 */
final class Golden {
  static final List<String> MODELS = List.of("llama-gqa-yarn", "qwen2-bias-tied", "mistral-sharded", "llama3-bf16");

  /** One recorded input and transformers' float32 logits for it. */
  record Case(String name, long[] inputIds, long[] positionIds, float[][] logits) {}

  private Golden() {}

  static Path folder(String model) {
    try {
      return Path.of(Golden.class.getResource("/golden/" + model + "/config.json").toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static JsonNode reference(String model) {
    try {
      return new ObjectMapper().readTree(folder(model).resolve("reference.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<Case> cases(String model) {
    List<Case> out = new ArrayList<>();
    for (JsonNode c : reference(model).get("cases")) {
      long[] ids = longs(c.get("input_ids"));
      long[] pos = c.get("position_ids").isNull() ? null : longs(c.get("position_ids"));
      JsonNode rows = c.get("logits");
      float[][] logits = new float[rows.size()][];
      for (int i = 0; i < rows.size(); i++) {
        logits[i] = new float[rows.get(i).size()];
        for (int j = 0; j < logits[i].length; j++) {
          logits[i][j] = (float) rows.get(i).get(j).asDouble();
        }
      }
      out.add(new Case(c.get("name").asText(), ids, pos, logits));
    }
    return out;
  }

  static Case find(String model, String name) {
    return cases(model).stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
  }

  private static long[] longs(JsonNode a) {
    long[] v = new long[a.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = a.get(i).asLong();
    }
    return v;
  }

  /** Largest |a − b| over two [seq, vocab] tables. */
  static double maxAbsDiff(float[][] expected, float[] actualFlat) {
    int vocab = expected[0].length;
    if (actualFlat.length != expected.length * vocab) {
      throw new AssertionError("got " + actualFlat.length + " logits, expected " + expected.length + " × " + vocab);
    }
    double worst = 0;
    for (int i = 0; i < expected.length; i++) {
      for (int j = 0; j < vocab; j++) {
        worst = Math.max(worst, Math.abs(expected[i][j] - actualFlat[i * vocab + j]));
      }
    }
    return worst;
  }
}
