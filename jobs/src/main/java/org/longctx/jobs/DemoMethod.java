package org.longctx.jobs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.longctx.positional.RopeConfig;
import org.longctx.trainer.EvalConfig;
import org.longctx.trainer.eval.EvalResults;

/**
 * One row of the demo: a method, how the demo gets it from what its stages made, and the one
 * claim the demo checks for it. {@link #ALL} is the demo's list; a new method (a fine-tuning
 * stage's model, another training-free extension) is one entry there, and its row in the
 * tables, its verdict and its place in results.json follow from it.
 *
 * @param name the method's name in eval (results.json, charts)
 * @param label what the verdict and the docs call it
 * @param method the method to evaluate, from the stages' outputs; empty when this run has none
 *     (a stage skipped, or a configured method left out of {@code eval.methods})
 * @param claim what the method claims, checked on the measured figures
 */
record DemoMethod(String name, String label, Function<Stages, Optional<EvalConfig.Method>> method, Claim claim) {

  /**
   * What the stages made that methods are built from.
   *
   * @param configured {@code eval.methods} of the demo's config (inference-time extensions of the base)
   * @param searched the LongRoPE factors the search stage found, or null when it was skipped
   * @param poseModel the PoSE model's Hugging Face folder
   * @param fotModel the FoT model's Hugging Face folder
   */
  record Stages(List<EvalConfig.Method> configured, RopeConfig searched, Path poseModel, Path fotModel) {
    /** The configured method named {@code name}. */
    Optional<EvalConfig.Method> configured(String name) {
      return configured.stream().filter(m -> m.name().equals(name)).findFirst();
    }
  }

  /**
   * The demo's methods in table order. Every verdict is a claim the method makes: the base
   * retrieves inside its window only; YaRN without training keeps language modelling working
   * beyond the window (perplexity at 4× below the base's); SelfExtend and the PoSE fine-tune
   * retrieve at 4× the window; LongRoPE's searched factors, training-free, beat a uniform rule
   * (the paper: PI; here the stronger YaRN row) in perplexity at 4× — not passkey retrieval,
   * which LongRoPE reaches only after fine-tuning (docs/methods.md §6); the FoT fine-tune reads
   * any length through its memory layers and retrieves at 8× the window, a length only its claim
   * needs (docs/fot.md).
   */
  static final List<DemoMethod> ALL = List.of(
      configured("base", "base model", new Claim.RetrievesOnlyInsideWindow(0.90, 0.10)),
      configured("yarn", "base + yarn ×4, no training", new Claim.PerplexityBelow("base", 4)),
      configured("self-extend", "base + SelfExtend, no training", new Claim.PasskeyAtLeast(4, 0.90)),
      new DemoMethod("longrope", "base + searched LongRoPE factors, no training",
          s -> Optional.ofNullable(s.searched()).map(rope -> new EvalConfig.Method("longrope", "", rope, null)),
          new Claim.PerplexityBelow("yarn", 4)),
      new DemoMethod("pose", "PoSE fine-tune to 4× the window",
          s -> Optional.of(new EvalConfig.Method("pose", s.poseModel().toString(), null, null)),
          new Claim.PasskeyAtLeast(4, 0.90)),
      new DemoMethod("fot", "FoT fine-tune, memory layers",
          s -> Optional.of(new EvalConfig.Method("fot", s.fotModel().toString(), null, null)),
          new Claim.PasskeyAtLeast(8, 0.90)));

  /** A method of {@code eval.methods} (the demo's config), found by name. */
  static DemoMethod configured(String name, String label, Claim claim) {
    return new DemoMethod(name, label, s -> s.configured(name), claim);
  }

  /**
   * The methods to evaluate: {@code eval.methods} in their order (also those without an entry
   * here: a row without a verdict), then the entries' other methods in {@code entries}' order.
   */
  static List<EvalConfig.Method> methods(List<DemoMethod> entries, Stages stages) {
    List<EvalConfig.Method> out = new ArrayList<>(stages.configured());
    for (DemoMethod entry : entries) {
      entry.method().apply(stages).filter(m -> out.stream().noneMatch(o -> o.name().equals(m.name()))).ifPresent(out::add);
    }
    return out;
  }

  /**
   * The passkey lengths to evaluate {@code method} at: {@code lengths} ({@code eval.lengths})
   * and those its entry's claim needs beyond them, in increasing order, so a claim at 8× the
   * window costs 8× prompts for its own method only.
   *
   * @param window the base model's window (tokens); 0 when unknown (then {@code lengths})
   */
  static List<Integer> passkeyLengths(List<DemoMethod> entries, String method, List<Integer> lengths, int window) {
    java.util.SortedSet<Integer> out = new java.util.TreeSet<>(lengths);
    if (window > 0 && !lengths.isEmpty()) {
      entries.stream().filter(e -> e.name().equals(method)).forEach(e -> out.addAll(e.claim().passkeyLengths(window)));
    }
    return List.copyOf(out);
  }

  /** The verdicts of {@code entries} on {@code r}, in their order; none when the base window is unknown. */
  static List<Claim.Verdict> verdicts(List<DemoMethod> entries, EvalResults r, int window) {
    List<Claim.Verdict> out = new ArrayList<>();
    if (window > 0) {
      for (DemoMethod entry : entries) {
        entry.claim().judge(r, entry.name(), window).ifPresent(out::add);
      }
    }
    return out;
  }
}
