package org.longctx.trainer;

import java.util.List;

/**
 * The {@code eval:} section of an experiment config.
 *
 * @param lengths sequence lengths (tokens) to evaluate at
 * @param seed seeds the evaluation prompts so every method sees the same ones
 */
public record EvalConfig(List<Integer> lengths, long seed) {

  public EvalConfig {
    lengths = lengths == null ? List.of() : List.copyOf(lengths);
    for (int length : lengths) {
      if (length < 1) {
        throw new IllegalArgumentException("lengths: every length must be >= 1, got " + length);
      }
    }
  }

  public static EvalConfig defaults() {
    return new EvalConfig(List.of(), 0);
  }
}
