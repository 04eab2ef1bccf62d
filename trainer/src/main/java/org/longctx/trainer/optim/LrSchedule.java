package org.longctx.trainer.optim;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Learning rate by optimizer step: linear warm-up from 0, then cosine, linear or constant, with
 * the formulas of transformers' {@code get_cosine_schedule_with_warmup},
 * {@code get_linear_schedule_with_warmup} and {@code get_constant_schedule_with_warmup}.
 *
 * <p>With {@code s} the step (0 for the first update, as Hugging Face's Trainer counts: with
 * warm-up the first update runs at lr 0), {@code W} warm-up steps, {@code T} total steps,
 * {@code r} the floor ratio and {@code p = (s - W) / max(1, T - W)}:
 * <pre>
 *   s &lt; W      factor = s / max(1, W)
 *   cosine     factor = r + (1 - r) * 0.5 * (1 + cos(pi * p))
 *   linear     factor = r + (1 - r) * (1 - p)
 *   constant   factor = 1
 *   lr         = peak_lr * max(0, factor)
 * </pre>
 * The floor {@code r} (min-lr ratio) is transformers' {@code min_lr_rate} of
 * {@code get_cosine_with_min_lr_schedule_with_warmup}, extended the same way to linear; with
 * {@code r = 0} the formulas are exactly the three functions above.
 *
 * <p>One deliberate difference: for {@code s > T} Hugging Face's cosine rises again (the cosine
 * is periodic) and its linear stays at 0; here {@code p} is capped at 1 so both stay at the
 * floor {@code r * peak_lr}.
 *
 * @param kind cosine, linear or constant
 * @param peakLr learning rate at the end of warm-up, finite and {@code > 0}
 * @param warmupSteps {@code 0 <= W <= T}
 * @param totalSteps {@code T >= 1}, the step count of the whole run
 * @param minLrRatio {@code r} in [0, 1]; ignored by constant
 */
public record LrSchedule(Kind kind, double peakLr, long warmupSteps, long totalSteps, double minLrRatio) {

  /** Shape after warm-up; {@link #yamlName()} is the config spelling. */
  public enum Kind {
    COSINE, LINEAR, CONSTANT;

    public String yamlName() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code cosine}, {@code linear} or {@code constant}. */
    public static Kind fromName(String name) {
      for (Kind k : values()) {
        if (k.yamlName().equals(name)) {
          return k;
        }
      }
      throw new IllegalArgumentException("lr_schedule: '" + name + "' is not allowed; allowed: "
          + Arrays.stream(values()).map(Kind::yamlName).collect(Collectors.joining(", ")));
    }
  }

  public LrSchedule {
    if (kind == null) {
      throw new IllegalArgumentException("lr_schedule: missing; allowed: cosine, linear, constant");
    }
    if (!(peakLr > 0) || Double.isInfinite(peakLr)) {
      throw new IllegalArgumentException("lr: must be finite and > 0, got " + peakLr);
    }
    if (totalSteps < 1) {
      throw new IllegalArgumentException("steps: must be >= 1, got " + totalSteps);
    }
    if (warmupSteps < 0 || warmupSteps > totalSteps) {
      throw new IllegalArgumentException("warmup_steps: must be in [0, steps = " + totalSteps + "], got " + warmupSteps);
    }
    if (!(minLrRatio >= 0 && minLrRatio <= 1)) {
      throw new IllegalArgumentException("min_lr_ratio: must be in [0, 1], got " + minLrRatio);
    }
  }

  /** The schedule with no floor. */
  public static LrSchedule of(Kind kind, double peakLr, long warmupSteps, long totalSteps) {
    return new LrSchedule(kind, peakLr, warmupSteps, totalSteps, 0.0);
  }

  /** Learning rate for the update at {@code step} (0-based, {@code >= 0}). */
  public double lr(long step) {
    return peakLr * factor(step);
  }

  /** The multiplier of {@code peakLr} at {@code step}, in [0, 1]. */
  public double factor(long step) {
    if (step < 0) {
      throw new IllegalArgumentException("step: must be >= 0, got " + step);
    }
    if (step < warmupSteps) {
      return (double) step / (double) Math.max(1, warmupSteps);
    }
    double progress = Math.min(1.0, (double) (step - warmupSteps) / (double) Math.max(1, totalSteps - warmupSteps));
    double factor;
    switch (kind) {
      case CONSTANT:
        return 1.0;
      case LINEAR:
        // transformers: max(0, (T - s) / max(1, T - W)), i.e. 1 - p
        factor = (double) (totalSteps - Math.min(step, totalSteps)) / (double) Math.max(1, totalSteps - warmupSteps);
        break;
      case COSINE:
        // transformers: 0.5 * (1 + cos(pi * num_cycles * 2 * p)) with num_cycles = 0.5
        factor = 0.5 * (1.0 + Math.cos(Math.PI * 0.5 * 2.0 * progress));
        break;
      default:
        throw new IllegalStateException("unreachable: " + kind);
    }
    if (minLrRatio != 0) {
      factor = factor * (1 - minLrRatio) + minLrRatio;  // transformers' min_lr_rate, same order
    }
    return Math.max(0.0, factor);
  }
}
