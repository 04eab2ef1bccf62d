package org.longctx.search;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * What population 0 is made of and where factors may go: the fixed members (the start point
 * first — its mutations fill the rest of population 0 — then the seeds) and the upper bound of
 * every factor. A long-factor search starts from the YaRN-shaped point within [1, 1 + s]
 * (docs/methods.md §3); a short-factor search starts from the original rope (all ones) within
 * [1, {@code max_short_factor}] — the paper lowers the bound for short lengths, which need less
 * interpolation [LongRoPE, §3.3 "recovering short context window performance"].
 *
 * @param members the fixed members of population 0, start point first
 * @param maxFactor every factor lies within [1, maxFactor]
 * @param description what the members are, for the search's fingerprint
 */
public record Start(List<Member> members, double maxFactor, String description) {

  /** One fixed member of population 0 and its origin ({@code start}, {@code pi}, {@code init}, {@code long}, ...). */
  public record Member(String origin, Genome genome) {}

  public Start {
    if (members.isEmpty() || !members.get(0).origin().equals("start")) {
      throw new IllegalArgumentException("the first member of population 0 is the start point");
    }
    if (!(maxFactor >= 1)) {
      throw new IllegalArgumentException("max factor: must be ≥ 1, got " + maxFactor);
    }
    members = List.copyOf(members);
  }

  /** The start point, whose mutations fill population 0. */
  public Genome point() {
    return members.get(0).genome();
  }

  /**
   * A long-factor search: the YaRN-shaped start point, then the seeds the config asks for (PI,
   * NTK, YaRN) and {@code init} (factors of an earlier search, already rescaled to this target),
   * within [1, 1 + s].
   *
   * @param init null, or factors to seed population 0 with (clamped into [1, 1 + s])
   */
  public static Start longFactors(SearchConfig config, SearchSpace space, double[] init) {
    List<Member> members = new ArrayList<>();
    members.add(new Member("start", new Genome(0, Factors.yarnStart(space))));
    if (config.includePi()) {
      members.add(new Member("pi", new Genome(0, Factors.pi(space))));
    }
    if (config.includeNtk()) {
      members.add(new Member("ntk", new Genome(0, Factors.ntk(space))));
    }
    if (config.includeYarn()) {
      members.add(new Member("yarn", new Genome(0, Factors.yarn(space))));
    }
    double max = 1 + space.scale();
    String description = String.format(Locale.ROOT, "d=%d theta=%s L0=%d L=%d", space.headDim(), space.ropeTheta(),
        space.originalLength(), space.targetLength());
    if (init != null) {
      checkCount(init, space.factorCount(), "init_factors");
      members.add(new Member("init", new Genome(0, clamp(init, max))));
      description += " init=" + Arrays.toString(init);
    }
    return new Start(members, max, description);
  }

  /**
   * A short-factor search for a long factor set: the start point is the original rope (λ = 1),
   * the seed {@code long} is the long factors clamped into [1, maxShortFactor] (what the model
   * was fine-tuned with, as far as the bound allows).
   */
  public static Start shortFactors(double[] longFactor, double maxShortFactor) {
    double[] ones = new double[longFactor.length];
    Arrays.fill(ones, 1.0);
    List<Member> members = new ArrayList<>();
    members.add(new Member("start", new Genome(0, ones)));
    double[] clamped = clamp(longFactor, maxShortFactor);
    if (!Arrays.equals(clamped, ones)) {
      members.add(new Member("long", new Genome(0, clamped)));
    }
    return new Start(members, maxShortFactor, "short factors of " + Arrays.toString(longFactor) + " max=" + maxShortFactor);
  }

  /** Into [1, max]; clamping keeps a non-decreasing list non-decreasing. */
  static double[] clamp(double[] factors, double max) {
    double[] out = new double[factors.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = Math.min(max, Math.max(1.0, factors[i]));
    }
    return out;
  }

  private static void checkCount(double[] factors, int count, String key) {
    if (factors.length != count) {
      throw new IllegalArgumentException(key + ": has " + factors.length + " factors, the model needs head_dim/2 = " + count);
    }
  }

  /** The origins of the fixed members, in order. */
  List<String> origins() {
    return Collections.unmodifiableList(members.stream().map(Member::origin).toList());
  }
}
