package org.longctx.search;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * LongRoPE's evolutionary search for non-uniform rope factors, exactly as docs/methods.md §3
 * states it [microsoft/LongRoPE {@code evolution/algorithms/genetic_base.py:run_genetic_algorithm},
 * {@code dim_mono.py}]: population 0 is the YaRN-shaped start point (optionally PI and NTK
 * seeds) plus mutations of it; every generation keeps the best {@code parents}, adds
 * {@code mutations} mutated parents and {@code crossovers} crossed pairs, and scores the new
 * children as one batch. A child is valid when it is non-decreasing, within [1, 1 + s] and not
 * seen before.
 *
 * <p>It knows no engine: a {@link Fitness} scores each generation's children (the search job
 * does it in Spark tasks). Every random choice comes from one seeded generator whose state is
 * saved with the population after every generation ({@link Store}), so the same seed gives the
 * same search, and a resumed search the same result as an uninterrupted one.
 *
 * <p>Differences from the reference, each on purpose: children are made first and scored
 * together (the reference scores each as it is made; the choices do not depend on scores made
 * within a generation, so the search is the same); a mutation pass considers every gene with
 * probability {@code mutation_probability} (docs/methods.md §3; the reference draws it once per
 * pass), and gives up after {@link #MAX_MUTATION_PASSES} passes (the reference loops forever when
 * no valid neighbour exists); the last factor mutates like the others (the reference's
 * {@code dim_piece_mono} never mutates the last two).
 */
public final class EvolutionarySearch {

  /** Mutation passes before a parent counts as having no valid neighbour (its child is skipped). */
  static final int MAX_MUTATION_PASSES = 10_000;

  /** Crossover takes the other parent's gene with this probability once a gene is considered [dim_mono.py]. */
  static final double CROSSOVER_TAKE = 0.5;

  /** Where the state lives between generations. */
  public interface Store {
    Optional<SearchState> load() throws IOException;

    void save(SearchState state) throws IOException;
  }

  /** Told after population 0 and after each generation (progress, per-generation outputs). */
  @FunctionalInterface
  public interface Listener {
    /**
     * @param state the state just saved
     * @param scored the candidates scored in this generation
     * @param seconds how long scoring them took
     */
    void generation(SearchState state, List<Individual> scored, double seconds) throws IOException;
  }

  private final SearchConfig config;
  private final Start start;
  private final String fingerprint;

  /**
   * A long-factor search of {@code space} from the YaRN-shaped start point (and the seeds the config asks for).
   *
   * @param context what else the result depends on (model id and hash, documents); part of the fingerprint
   */
  public EvolutionarySearch(SearchConfig config, SearchSpace space, String context) {
    this(config, Start.longFactors(config, space, null), context);
  }

  /**
   * A search from {@code start}: its fixed members and mutations of its start point make
   * population 0, and every factor stays within [1, {@code start.maxFactor()}].
   *
   * @param context what else the result depends on (model id and hash, documents); part of the fingerprint
   */
  public EvolutionarySearch(SearchConfig config, Start start, String context) {
    this.config = config;
    this.start = start;
    this.fingerprint = fingerprint(config, start, context);
  }

  /**
   * What a state must match to be continued. {@code iterations}, {@code patience} and
   * {@code min_delta} are left out on purpose: a finished search may be extended by raising them.
   */
  static String fingerprint(SearchConfig c, Start start, String context) {
    return String.format(Locale.ROOT,
        "%s population=%d parents=%d mutations=%d crossovers=%d tries=%d step=%s pm=%s pc=%s "
            + "seed=%d pi=%b ntk=%b yarn=%b start_tokens=%s start_token_parents=%d mscale=%s max=%s | %s",
        start.description(), c.population(), c.parents(), c.mutations(),
        c.crossovers(), c.maxCrossoverTries(), c.step(), c.mutationProbability(), c.crossoverProbability(), c.seed(),
        c.includePi(), c.includeNtk(), c.includeYarn(), c.startTokens(), c.startTokenParents(), c.mscale(), start.maxFactor(), context);
  }

  public String fingerprint() {
    return fingerprint;
  }

  /**
   * Runs the search to its end (iterations done or stalled), continuing from {@code store}'s
   * state when it has one, and saving after population 0 and after every generation.
   *
   * @throws IllegalStateException when the stored state belongs to another search
   */
  public SearchState run(Fitness fitness, Store store, Listener listener) throws Exception {
    SearchState state = store.load().orElse(null);
    if (state != null && !state.fingerprint().equals(fingerprint)) {
      throw new IllegalStateException("the saved search state is for another search (" + state.fingerprint()
          + "), not this one (" + fingerprint + "); use another output folder or --overwrite");
    }
    if (state == null) {
      Rng rng = new Rng(config.seed());
      List<Genome> initial = initialPopulation(rng);
      long t0 = System.nanoTime();
      List<Individual> scored = score(fitness, initial, origins(initial), 0, 0);
      List<Integer> ids = scored.stream().map(Individual::id).toList();
      state = new SearchState(fingerprint, 0, rng.state(), scored, ids, List.of(bestOf(scored)), false, false);
      store.save(state);
      listener.generation(state, scored, (System.nanoTime() - t0) / 1e9);
    }
    while (!finished(state)) {
      long t0 = System.nanoTime();
      Step next = nextGeneration(state, fitness);
      store.save(next.state);
      listener.generation(next.state, next.scored, (System.nanoTime() - t0) / 1e9);
      state = next.state;
    }
    return state;
  }

  /** Whether the search is over: every iteration done, or the best perplexity stalled. */
  public boolean finished(SearchState state) {
    return state.generations() >= config.iterations() || state.stoppedEarly();
  }

  /** The origins of population 0, in order: the fixed members, then mutations. */
  private List<String> origins(List<Genome> initial) {
    List<String> origins = new ArrayList<>(start.origins());
    while (origins.size() < initial.size()) {
      origins.add("mutation");
    }
    return origins.subList(0, initial.size());
  }

  /**
   * Population 0: the start's fixed members (the YaRN-shaped start point, PI, NTK, YaRN and
   * init seeds when asked for), then mutations of the start point up to {@code population}
   * [genetic_base.py: {@code population_size − 1} mutations of the initial individual].
   */
  List<Genome> initialPopulation(Rng rng) {
    List<Genome> out = new ArrayList<>();
    start.members().forEach(m -> out.add(m.genome()));
    while (out.size() < config.population()) {
      Genome child = mutate(start.point(), rng, out);
      if (child == null) {
        break; // the start point has no valid neighbour left (a tiny space)
      }
      out.add(child);
    }
    return out;
  }

  private record Step(SearchState state, List<Individual> scored) {}

  /** One generation: parents, their children (scored as one batch), the new population. */
  private Step nextGeneration(SearchState state, Fitness fitness) throws Exception {
    Rng rng = new Rng(state.rng());
    List<Individual> all = state.individuals();
    List<Genome> seen = new ArrayList<>(all.size() + config.mutations() + config.crossovers());
    all.forEach(i -> seen.add(i.genome()));
    List<Individual> parents = parents(state);
    int p = parents.size();
    List<Genome> children = new ArrayList<>();
    List<String> origins = new ArrayList<>();
    boolean triedStartTokens = state.startTokensTried();
    if (config.searchesStartTokens() && !triedStartTokens) {
      // the best few individuals, each with every n̂ (docs/methods.md §3, "Searching n̂ too")
      for (Individual parent : parents.subList(0, Math.min(p, config.startTokenParents()))) {
        for (int n : config.startTokens()) {
          Genome g = new Genome(n, parent.genome().factors());
          if (!seenBefore(g, seen)) {
            children.add(g);
            origins.add("start_tokens");
            seen.add(g);
          }
        }
      }
      triedStartTokens = true;
    }
    for (int j = 0; j < config.mutations(); j++) {
      Genome child = mutate(parents.get(rng.nextInt(p)).genome(), rng, seen);
      if (child != null) {
        children.add(child);
        origins.add("mutation");
        seen.add(child);
      }
    }
    for (int j = 0; j < config.crossovers(); j++) {
      int a = rng.nextInt(p);
      int b = rng.nextInt(p - 1);
      if (b >= a) {
        b++;
      }
      Genome better = parents.get(Math.min(a, b)).genome();
      Genome worse = parents.get(Math.max(a, b)).genome();
      Genome child = crossover(better, worse, rng, seen);
      String origin = "crossover";
      if (child == null) {
        child = mutate(better, rng, seen); // [genetic_base.py] crossover failed: mutate parent #1 instead
        origin = "mutation";
      }
      if (child != null) {
        children.add(child);
        origins.add(origin);
        seen.add(child);
      }
    }
    int generation = state.generations() + 1;
    List<Individual> scored = score(fitness, children, origins, generation, all.size());
    List<Individual> history = new ArrayList<>(all);
    history.addAll(scored);
    List<Integer> population = new ArrayList<>();
    parents.forEach(i -> population.add(i.id()));
    scored.forEach(i -> population.add(i.id()));
    List<Double> best = new ArrayList<>(state.bestByGeneration());
    double bestNow = Math.min(best.get(best.size() - 1), bestOf(scored));
    best.add(bestNow);
    // early stop [methods.md §3]: the best moved less than min_delta over `patience` generations
    boolean stalled = config.patience() > 0 && generation >= config.patience()
        && Math.abs(bestNow - best.get(generation - config.patience())) < config.minDelta();
    SearchState next = new SearchState(fingerprint, generation, rng.state(), history, population, best, triedStartTokens, stalled);
    return new Step(next, scored);
  }

  /** The best {@code parents} of the population by perplexity (a stable sort: ties keep their order). */
  List<Individual> parents(SearchState state) {
    List<Individual> population = new ArrayList<>();
    state.population().forEach(id -> population.add(state.individuals().get(id)));
    population.sort(Comparator.comparingDouble(Individual::rank));
    return List.copyOf(population.subList(0, Math.min(config.parents(), population.size())));
  }

  private static List<Individual> score(Fitness fitness, List<Genome> genomes, List<String> origins, int generation, int firstId)
      throws Exception {
    double[] ppl = genomes.isEmpty() ? new double[0] : fitness.perplexities(List.copyOf(genomes));
    if (ppl.length != genomes.size()) {
      throw new IllegalStateException("fitness returned " + ppl.length + " perplexities for " + genomes.size() + " candidates");
    }
    List<Individual> out = new ArrayList<>();
    for (int i = 0; i < genomes.size(); i++) {
      out.add(new Individual(firstId + i, generation, origins.get(i), genomes.get(i), ppl[i]));
    }
    return out;
  }

  private static double bestOf(List<Individual> scored) {
    return scored.stream().mapToDouble(Individual::rank).min().orElse(Double.POSITIVE_INFINITY);
  }

  /**
   * A valid child is non-decreasing, within [1, 1 + s] (a short-factor search: [1,
   * max_short_factor]) and not all-close to a candidate seen before (docs/methods.md §3, "Valid candidate").
   */
  boolean valid(Genome g, List<Genome> seen) {
    return g.monotone() && g.within(start.maxFactor()) && !seenBefore(g, seen);
  }

  static boolean seenBefore(Genome g, List<Genome> seen) {
    for (Genome s : seen) {
      if (g.allClose(s)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Mutation (docs/methods.md §3): in each pass every factor, with probability
   * {@code mutation_probability}, moves to a value {@code lo + k·step} between its neighbours as
   * they are at that moment ({@code [1, λ_1]} for the first, {@code [λ_{n−2}, max]} for the
   * last); passes repeat until the child is valid. n̂ never changes. Null when no valid child
   * turned up in {@link #MAX_MUTATION_PASSES} passes.
   */
  Genome mutate(Genome parent, Rng rng, List<Genome> seen) {
    double[] f = parent.factors();
    int n = f.length;
    double top = start.maxFactor();
    for (int pass = 0; pass <= MAX_MUTATION_PASSES; pass++) {
      Genome candidate = new Genome(parent.startTokens(), f);
      if (valid(candidate, seen)) {
        return candidate;
      }
      for (int j = 0; j < n; j++) {
        if (rng.nextDouble() < config.mutationProbability()) {
          double lo = j == 0 ? 1.0 : f[j - 1];
          double hi = j == n - 1 ? top : f[j + 1];
          int steps = (int) Math.floor((hi - lo) / config.step() + 1e-9);
          if (steps >= 0) {
            f[j] = onGrid(lo + rng.nextInt(steps + 1) * config.step());
          }
        }
      }
    }
    return null;
  }

  /**
   * Crossover (docs/methods.md §3) [dim_mono.py:crossover]: starting from the better parent, each
   * gene (n̂ first when it is searched) is considered with probability
   * {@code crossover_probability} and then takes the other parent's value with probability 1/2;
   * after each considered gene the child is returned if valid. Null for identical parents or
   * after {@code max_crossover_tries} passes.
   */
  Genome crossover(Genome better, Genome worse, Rng rng, List<Genome> seen) {
    if (better.allClose(worse)) {
      return null;
    }
    double[] f = better.factors();
    double[] other = worse.factors();
    int startTokens = better.startTokens();
    int offset = config.searchesStartTokens() ? 1 : 0;
    for (int attempt = 0; attempt < config.maxCrossoverTries(); attempt++) {
      for (int i = 0; i < f.length + offset; i++) {
        if (rng.nextDouble() < config.crossoverProbability()) {
          if (rng.nextDouble() < CROSSOVER_TAKE) {
            if (i < offset) {
              startTokens = worse.startTokens();
            } else {
              f[i - offset] = other[i - offset];
            }
          }
          Genome child = new Genome(startTokens, f);
          if (valid(child, seen)) {
            return child;
          }
        }
      }
    }
    return null;
  }

  /** Rounds away the float noise of {@code lo + k·step} (1e-10 is far below any grid step), so factor files read cleanly. */
  static double onGrid(double v) {
    return Math.round(v * 1e10) / 1e10;
  }
}
