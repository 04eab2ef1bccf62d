package org.longctx.jobs;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.longctx.jobs.report.EvalReport;
import org.longctx.trainer.eval.EvalResults;

/**
 * What a method claims, checked by the demo on the figures it measured ({@link DemoMethod}).
 * Lengths are multiples of the window: the smallest original window among the evaluated
 * models ({@link EvalReport#window}), the base model's. A claim whose figures were not measured
 * (the method or the length is not in the grid) gives no verdict.
 */
sealed interface Claim {

  /**
   * The verdict on {@code method}'s figures in {@code r}, empty when they were not measured.
   *
   * @param window the base model's window (tokens), > 0
   */
  Optional<Verdict> judge(EvalResults r, String method, int window);

  /**
   * The passkey lengths this claim needs measured, beyond those of the grid (none by default).
   *
   * @param window the base model's window (tokens), > 0
   */
  default List<Integer> passkeyLengths(int window) {
    return List.of();
  }

  /**
   * A checked claim, one line of the demo's output.
   *
   * @param method the method's name
   * @param claim what was checked, e.g. "passkey at 4× the window (2048)"
   * @param figure what was measured, e.g. "95%"
   * @param target what the claim needs, e.g. "≥ 90%"
   * @param met whether the figure meets it
   */
  record Verdict(String method, String claim, String figure, String target, boolean met) {
    /** {@code target: pose         passkey at 4× the window (2048)   95%  (≥ 90%: met)} */
    public String line() {
      return String.format(Locale.ROOT, "target: %-12s %-48s %-18s (%s: %s)", method, claim, figure, target, met ? "met" : "MISSED");
    }
  }

  /**
   * The base model's claim, the premise of every other: it retrieves the pass key inside its
   * window (worst length at least {@code inside}) and not beyond it (best length at most
   * {@code beyond}).
   */
  record RetrievesOnlyInsideWindow(double inside, double beyond) implements Claim {
    @Override
    public Optional<Verdict> judge(EvalResults r, String method, int window) {
      // the lengths this method was evaluated at: another method's extra length is no figure of this one's
      List<Integer> in = r.passkeyLengths(method).stream().filter(l -> l <= window).toList();
      List<Integer> out = r.passkeyLengths(method).stream().filter(l -> l > window).toList();
      if (!r.methodNames().contains(method) || in.isEmpty() || out.isEmpty()) {
        return Optional.empty();
      }
      double worstInside = in.stream().mapToDouble(l -> r.passkeyAccuracy(method, l)).min().orElseThrow();
      double bestBeyond = out.stream().mapToDouble(l -> r.passkeyAccuracy(method, l)).max().orElseThrow();
      return Optional.of(new Verdict(method, "passkey inside its window (" + window + ") and beyond it",
          EvalReport.pct(worstInside) + " / " + EvalReport.pct(bestBeyond), "≥ " + EvalReport.pct(inside) + " / ≤ "
              + EvalReport.pct(beyond), worstInside >= inside && bestBeyond <= beyond));
    }
  }

  /** Passkey accuracy at {@code times} × the window of at least {@code atLeast}. */
  record PasskeyAtLeast(int times, double atLeast) implements Claim {
    @Override
    public Optional<Verdict> judge(EvalResults r, String method, int window) {
      int length = times * window;
      if (!r.passkeyLengths(method).contains(length)) {
        return Optional.empty();
      }
      double a = r.passkeyAccuracy(method, length);
      return Optional.of(new Verdict(method, "passkey at " + times + "× the window (" + length + ")", EvalReport.pct(a),
          "≥ " + EvalReport.pct(atLeast), a >= atLeast));
    }

    @Override
    public List<Integer> passkeyLengths(int window) {
      return List.of(times * window);
    }
  }

  /**
   * Perplexity on the held-out documents at {@code times} × the window below that of method
   * {@code other} there: the claim of a training-free extension (a rope rescaling) against the
   * model it extends or against another rescaling.
   */
  record PerplexityBelow(String other, int times) implements Claim {
    @Override
    public Optional<Verdict> judge(EvalResults r, String method, int window) {
      int length = times * window;
      if (!r.methodNames().contains(method) || !r.methodNames().contains(other) || !r.perplexityLengths().contains(length)) {
        return Optional.empty();
      }
      double mine = r.perplexity(method, length);
      double theirs = r.perplexity(other, length);
      return Optional.of(new Verdict(method, "perplexity at " + times + "× the window (" + length + ") below " + other + "'s",
          perplexity(mine) + " vs " + perplexity(theirs), "< " + other, mine < theirs));
    }

    private static String perplexity(double p) {
      return Double.isNaN(p) ? "—" : p >= 1e4 ? String.format(Locale.ROOT, "%.2g", p) : String.format(Locale.ROOT, "%.2f", p);
    }
  }
}
