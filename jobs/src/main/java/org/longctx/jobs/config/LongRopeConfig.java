package org.longctx.jobs.config;

import java.util.List;

/**
 * The {@code longrope:} section: LongRoPE's progressive recipe as a list of stages
 * (docs/longrope.md, docs/methods.md §3 "Progressive plan"), run by {@code longctx longrope}.
 *
 * <pre>
 * longrope:
 *   stages:
 *     - {stage: search, length: 2048}                      # long factors for 2048 on the base model
 *     - {stage: train, set: [train.steps=100]}             # fine-tune with them (train: section's recipe)
 *     - {stage: search, length: 4096}                      # re-search on the fine-tuned model
 *     - {stage: train}
 *     - {stage: short}                                     # short factors at L0
 *     - {stage: export}                                    # Hugging Face longrope, both lists
 * </pre>
 *
 * @param stages the stages in order; empty = not set (the longrope command refuses it)
 */
public record LongRopeConfig(List<Stage> stages) {

  /** The kinds of stage, in the words the YAML uses. */
  public static final List<String> KINDS = List.of("search", "train", "short", "export");

  /**
   * One stage.
   *
   * @param stage {@code search} (long factors for {@code length}), {@code train} (fine-tune at
   *     {@code length}, default the last search's, with the last factors as the rope),
   *     {@code short} (short factors read at {@code length}, default L0) or {@code export}
   * @param length tokens the stage works at; left out (or 0) = its default
   * @param set {@code key=value} overrides for this stage only, as {@code --set} takes them
   */
  public record Stage(String stage, Integer length, List<String> set) {
    public Stage {
      stage = stage == null ? "" : stage.strip();
      length = length == null ? 0 : length;
      if (!KINDS.contains(stage)) {
        throw new IllegalArgumentException("stage: '" + stage + "' is not a stage; allowed: " + String.join(", ", KINDS));
      }
      if (length < 0) {
        throw new IllegalArgumentException("length: must be ≥ 0 (0 = the stage's default), got " + length);
      }
      if (stage.equals("search") && length == 0) {
        throw new IllegalArgumentException("length: a search stage needs the length its long factors are searched for");
      }
      if (stage.equals("export") && length != 0) {
        throw new IllegalArgumentException("length: an export stage takes no length (it writes the last factors' target)");
      }
      set = set == null ? List.of() : List.copyOf(set);
      for (String s : set) {
        if (s.indexOf('=') <= 0) {
          throw new IllegalArgumentException("set: entries are key=value, as --set takes them (e.g. train.steps=100), got '" + s + "'");
        }
      }
    }
  }

  public LongRopeConfig {
    stages = stages == null ? List.of() : List.copyOf(stages);
  }

  public static LongRopeConfig defaults() {
    return new LongRopeConfig(List.of());
  }
}
