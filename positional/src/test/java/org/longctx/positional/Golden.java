package org.longctx.positional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The rope fixtures written by tools/reference/rope_fixtures.py, and helpers to read them. */
final class Golden {

  static final ObjectMapper SNAKE = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

  private static JsonNode fixtures;

  private Golden() {}

  static synchronized JsonNode ropeFixtures() {
    if (fixtures == null) {
      try (InputStream in = Golden.class.getResourceAsStream("/golden/rope_fixtures.json")) {
        fixtures = new ObjectMapper().readTree(in);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return fixtures;
  }

  static float[] floats(JsonNode array) {
    float[] out = new float[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) array.get(i).doubleValue();
    }
    return out;
  }

  static double[] doubles(JsonNode array) {
    double[] out = new double[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).doubleValue();
    }
    return out;
  }

  static long[] longs(JsonNode array) {
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).longValue();
    }
    return out;
  }

  /** A {@code rope:} section from its snake_case keys, as the YAML loader binds it. */
  static RopeConfig ropeConfig(JsonNode keys) {
    return SNAKE.convertValue(keys, RopeConfig.class);
  }
}
