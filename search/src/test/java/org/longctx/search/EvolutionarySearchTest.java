package org.longctx.search;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The search's rules (docs/methods.md §3), its determinism and its resumption, on a synthetic fitness. */
class EvolutionarySearchTest {

  /** d = 16 (8 factors), L0 = 512, target 2048 (s = 4): the tiny base model's shape. */
  static final SearchSpace SPACE = new SearchSpace(16, 10000, 512, 2048);

  /** A smooth bowl with its minimum at a known monotone λ*, and a penalty per start token away from 4. */
  static final double[] OPTIMUM = {1.0, 1.1, 1.3, 1.8, 2.6, 3.4, 4.2, 4.6};

  static double bowl(Genome g) {
    double sum = 0;
    for (int i = 0; i < OPTIMUM.length; i++) {
      double d = g.factors()[i] - OPTIMUM[i];
      sum += d * d;
    }
    return 1 + sum + 0.01 * Math.abs(g.startTokens() - 4);
  }

  static final Fitness BOWL = batch -> batch.stream().mapToDouble(EvolutionarySearchTest::bowl).toArray();

  static SearchConfig config(long seed, int iterations, List<Integer> startTokens) {
    SearchConfig d = SearchConfig.defaults();
    return new SearchConfig(2048, 512, 16, 8, 4, 4, iterations, d.maxCrossoverTries(), d.step(), d.mutationProbability(),
        d.crossoverProbability(), seed, true, true, false, startTokens, 2, 0, d.minDelta(), "su", 1, "synth", true, "", "", "", 2.0);
  }

  /** A store in memory that can fail after a number of saves (a crash mid-run). */
  static final class MemoryStore implements EvolutionarySearch.Store {
    SearchState state;
    int saves;
    int failAfter = Integer.MAX_VALUE;

    @Override
    public Optional<SearchState> load() {
      return Optional.ofNullable(state);
    }

    @Override
    public void save(SearchState s) throws IOException {
      state = s;
      if (++saves >= failAfter) {
        throw new IOException("simulated crash after save " + saves);
      }
    }
  }

  static SearchState run(SearchConfig c) throws Exception {
    return new EvolutionarySearch(c, SPACE, "test").run(BOWL, new MemoryStore(), (s, scored, t) -> {});
  }

  @Test
  void sameSeedSameSearchBitForBit(@TempDir Path dir) throws Exception {
    SearchConfig c = config(7, 6, List.of());
    StateFile a = new StateFile(dir.resolve("a.json"));
    StateFile b = new StateFile(dir.resolve("b.json"));
    new EvolutionarySearch(c, SPACE, "test").run(BOWL, a, (s, scored, t) -> {});
    new EvolutionarySearch(c, SPACE, "test").run(BOWL, b, (s, scored, t) -> {});
    assertArrayEquals(Files.readAllBytes(a.path()), Files.readAllBytes(b.path()));
    SearchState other = run(config(8, 6, List.of()));
    assertNotEquals(a.load().orElseThrow().individuals().get(3).genome(), other.individuals().get(3).genome(),
        "another seed draws other mutations");
  }

  @Test
  void resumedSearchEqualsUninterrupted(@TempDir Path dir) throws Exception {
    SearchConfig c = config(3, 8, List.of(2, 8));
    SearchState uninterrupted = run(c);
    // crash after population 0 and three generations, then rerun from the saved file
    StateFile file = new StateFile(dir.resolve("state.json"));
    AtomicInteger generations = new AtomicInteger();
    EvolutionarySearch.Listener crash = (s, scored, t) -> {
      if (generations.incrementAndGet() == 4) {
        throw new IOException("simulated crash");
      }
    };
    assertThrows(IOException.class, () -> new EvolutionarySearch(c, SPACE, "test").run(BOWL, file, crash));
    assertEquals(3, file.load().orElseThrow().generations());
    List<Integer> resumedGenerations = new ArrayList<>();
    SearchState resumed = new EvolutionarySearch(c, SPACE, "test").run(BOWL, file,
        (s, scored, t) -> resumedGenerations.add(s.generations()));
    assertEquals(List.of(4, 5, 6, 7, 8), resumedGenerations, "continues after the last saved generation");
    assertEquals(uninterrupted, resumed);
    // a state of another search is refused
    assertThrows(IllegalStateException.class,
        () -> new EvolutionarySearch(config(4, 8, List.of(2, 8)), SPACE, "test").run(BOWL, file, (s, scored, t) -> {}));
  }

  @Test
  void everyCandidateIsValidAndNew() throws Exception {
    SearchState s = run(config(1, 10, List.of()));
    List<Individual> all = s.individuals();
    assertEquals(16 + 10 * 8, all.size(), "population 0 plus mutations + crossovers per generation");
    for (int i = 0; i < all.size(); i++) {
      Genome g = all.get(i).genome();
      assertTrue(g.monotone(), "non-decreasing: " + g);
      assertTrue(g.inRange(SPACE.scale()), "within [1, 1 + s]: " + g);
      for (int j = 0; j < i; j++) {
        assertFalse(g.allClose(all.get(j).genome()), "candidate " + i + " repeats " + j);
      }
    }
    assertEquals(List.of("start", "pi", "ntk", "mutation"), all.subList(0, 4).stream().map(Individual::origin).toList());
    assertArrayEquals(Factors.yarnStart(SPACE), all.get(0).genome().factors());
    assertArrayEquals(Factors.pi(SPACE), all.get(1).genome().factors());
    assertTrue(all.stream().anyMatch(i -> i.origin().equals("crossover")));
  }

  @Test
  void searchImprovesOnItsStartPoint() throws Exception {
    SearchState s = run(config(5, 20, List.of()));
    double start = s.individuals().get(0).perplexity();
    assertTrue(s.best().perplexity() < start - 0.5, "best " + s.best().perplexity() + " vs start " + start);
    List<Double> best = s.bestByGeneration();
    for (int g = 1; g < best.size(); g++) {
      assertTrue(best.get(g) <= best.get(g - 1), "the best never gets worse (parents survive)");
    }
  }

  @Test
  void startTokensAreTriedOnTheBestAndNeverMutated() throws Exception {
    SearchState s = run(config(2, 6, List.of(2, 4, 8)));
    List<Individual> tried = s.individuals().stream().filter(i -> i.origin().equals("start_tokens")).toList();
    assertEquals(2 * 3, tried.size(), "start_token_parents (2) × start_tokens (3)");
    assertTrue(tried.stream().allMatch(i -> i.generation() == 1));
    for (Individual i : s.individuals()) {
      assertTrue(Set.of(0, 2, 4, 8).contains(i.genome().startTokens()));
    }
    // the two best of population 0, each with every n̂
    List<Individual> zero = new ArrayList<>(s.individuals().stream().filter(i -> i.generation() == 0).toList());
    zero.sort(java.util.Comparator.comparingDouble(Individual::perplexity));
    for (Individual t : tried) {
      assertTrue(java.util.Arrays.equals(t.genome().factors(), zero.get(0).genome().factors())
          || java.util.Arrays.equals(t.genome().factors(), zero.get(1).genome().factors()), "tried on a best parent: " + t);
    }
  }

  @Test
  void mutationStaysBetweenNeighboursOnTheGrid() {
    EvolutionarySearch search = new EvolutionarySearch(config(0, 1, List.of()), SPACE, "test");
    Genome parent = new Genome(0, new double[] {1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5});
    Rng rng = new Rng(11);
    List<Genome> seen = new ArrayList<>(List.of(parent));
    for (int k = 0; k < 200; k++) {
      Genome child = search.mutate(parent, rng, seen);
      assertTrue(search.valid(child, seen));
      double[] f = child.factors();
      for (double v : f) {
        double steps = (v - 1) / 0.01;
        assertEquals(Math.rint(steps), steps, 1e-6, "on the 0.01 grid from a grid start: " + v);
      }
      seen.add(child);
    }
  }

  @Test
  void crossoverTakesGenesFromTheParentsOnly() {
    EvolutionarySearch search = new EvolutionarySearch(config(0, 1, List.of()), SPACE, "test");
    Genome a = new Genome(0, new double[] {1, 1, 1.5, 2, 2.5, 3, 4, 4});
    Genome b = new Genome(0, new double[] {1, 1.2, 1.6, 2.2, 2.6, 3.2, 4.2, 5});
    Rng rng = new Rng(3);
    List<Genome> seen = new ArrayList<>(List.of(a, b));
    Genome child = search.crossover(a, b, rng, seen);
    double[] f = child.factors();
    for (int i = 0; i < f.length; i++) {
      assertTrue(f[i] == a.factors()[i] || f[i] == b.factors()[i]);
    }
    assertTrue(search.valid(child, seen));
    assertNull(search.crossover(a, new Genome(0, a.factors()), rng, seen), "identical parents give no child");
    // a crossover whose every mix decreases somewhere, or was seen, gives up
    Genome up = new Genome(0, new double[] {1, 1, 1, 1, 1, 1, 1, 5});
    Genome down = new Genome(0, new double[] {1, 2, 2, 2, 2, 2, 2, 2});
    List<Genome> all = new ArrayList<>(List.of(up, down));
    Genome mixed = search.crossover(up, down, new Rng(1), all);
    if (mixed != null) {
      assertTrue(mixed.monotone());
    }
  }

  @Test
  void validityRules() {
    EvolutionarySearch search = new EvolutionarySearch(config(0, 1, List.of()), SPACE, "test");
    Genome ok = new Genome(0, new double[] {1, 1, 1.5, 2, 2.5, 3, 4, 5});
    assertTrue(search.valid(ok, List.of()));
    assertFalse(search.valid(new Genome(0, new double[] {1, 1.2, 1.1, 2, 2.5, 3, 4, 5}), List.of()), "decreasing");
    assertFalse(search.valid(new Genome(0, new double[] {0.99, 1, 1.5, 2, 2.5, 3, 4, 5}), List.of()), "below 1");
    assertFalse(search.valid(new Genome(0, new double[] {1, 1, 1.5, 2, 2.5, 3, 4, 5.01}), List.of()), "above 1 + s");
    Genome near = new Genome(0, new double[] {1, 1, 1.5, 2, 2.5, 3, 4, 5 - 1e-6});
    assertFalse(search.valid(near, List.of(ok)), "all-close to a candidate seen before");
    assertTrue(search.valid(new Genome(2, ok.factors()), List.of(ok)), "another n̂ is another candidate");
  }

  @Test
  void earlyStopWhenTheBestStalls() throws Exception {
    SearchConfig d = config(0, 40, List.of());
    SearchConfig c = new SearchConfig(2048, 512, 16, 8, 4, 4, 40, d.maxCrossoverTries(), d.step(), d.mutationProbability(),
        d.crossoverProbability(), 0, false, false, false, List.of(), 2, 5, 0.001, "su", 1, "synth", true, "", "", "", 2.0);
    SearchState s = new EvolutionarySearch(c, SPACE, "test").run(batch -> batch.stream().mapToDouble(g -> 3.0).toArray(),
        new MemoryStore(), (st, scored, t) -> {});
    assertTrue(s.stoppedEarly());
    assertEquals(5, s.generations());
  }

  /** A bowl for short factors: its minimum lies within [1, 1.5]. */
  static final double[] SHORT_OPTIMUM = {1.0, 1.0, 1.05, 1.1, 1.2, 1.3, 1.4, 1.45};

  @Test
  void shortFactorSearchKeepsItsOwnRange() throws Exception {
    double[] longFactor = {1, 1.2, 1.9, 2.6, 3.3, 4.0, 4.6, 5.0};
    Start start = Start.shortFactors(longFactor, 1.5);
    Fitness bowl = batch -> batch.stream().mapToDouble(g -> {
      double sum = 0;
      for (int i = 0; i < SHORT_OPTIMUM.length; i++) {
        sum += Math.pow(g.factors()[i] - SHORT_OPTIMUM[i], 2);
      }
      return 1 + sum;
    }).toArray();
    SearchState s = new EvolutionarySearch(config(6, 12, List.of()), start, "test").run(bowl, new MemoryStore(), (st, b, t) -> {});
    List<Individual> all = s.individuals();
    // population 0: the original rope (ones), then the long factors clamped into [1, 1.5], then mutations
    assertEquals(List.of("start", "long", "mutation"), all.subList(0, 3).stream().map(Individual::origin).toList());
    assertArrayEquals(new double[] {1, 1, 1, 1, 1, 1, 1, 1}, all.get(0).genome().factors());
    assertArrayEquals(new double[] {1, 1.2, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5}, all.get(1).genome().factors());
    for (int i = 0; i < all.size(); i++) {
      Genome g = all.get(i).genome();
      assertTrue(g.monotone(), "non-decreasing: " + g);
      for (double f : g.factors()) {
        assertTrue(f >= 1 && f <= 1.5 + 1e-9, "within [1, max_short_factor = 1.5]: " + g);
      }
      for (int j = 0; j < i; j++) {
        assertFalse(g.allClose(all.get(j).genome()), "candidate " + i + " repeats " + j);
      }
    }
    assertTrue(all.stream().anyMatch(i -> i.origin().equals("mutation") && i.genome().factors()[7] > 1.0),
        "mutations move away from the original rope");
    assertTrue(s.best().perplexity() < all.get(0).perplexity(), "the search improves on the original rope");
    // the same bound refuses what a long search of the same model would allow
    EvolutionarySearch shortSearch = new EvolutionarySearch(config(6, 1, List.of()), start, "test");
    assertFalse(shortSearch.valid(new Genome(0, new double[] {1, 1, 1, 1, 1, 1, 1, 1.6}), List.of()), "above max_short_factor");
    assertTrue(new EvolutionarySearch(config(6, 1, List.of()), SPACE, "test")
        .valid(new Genome(0, new double[] {1, 1, 1, 1, 1, 1, 1, 1.6}), List.of()), "within 1 + s for the long search");
  }

  @Test
  void initFactorsSeedPopulationZeroWithinTheRange() throws Exception {
    // factors searched for 4× rescaled to 8× (docs/methods.md §3's rule, ratio (8 − 1)/(4 − 1) = 7/3):
    // [1, 1.5, 3, 4] → [1, 2.1666667, 5.6666667, 8]
    double[] up = Factors.rescale(new double[] {1, 1.5, 3, 4}, 512, 2048, 4096);
    assertArrayEquals(new double[] {1, 1 + 0.5 * 7 / 3, 1 + 2.0 * 7 / 3, 8}, up, 1e-12);
    // a seed above 1 + s is clamped into the range (s = 4 here: at most 5)
    double[] init = {1, 1.1, 1.4, 2.0, 3.0, 4.5, 5.5, 6.0};
    Start start = Start.longFactors(config(0, 1, List.of()), SPACE, init);
    assertEquals(List.of("start", "pi", "ntk", "init"), start.members().stream().map(Start.Member::origin).toList());
    assertArrayEquals(new double[] {1, 1.1, 1.4, 2.0, 3.0, 4.5, 5, 5}, start.members().get(3).genome().factors());
    SearchState s = new EvolutionarySearch(config(0, 2, List.of()), start, "test").run(BOWL, new MemoryStore(), (st, b, t) -> {});
    assertEquals("init", s.individuals().get(3).origin());
    assertNotEquals(new EvolutionarySearch(config(0, 2, List.of()), SPACE, "test").fingerprint(),
        new EvolutionarySearch(config(0, 2, List.of()), start, "test").fingerprint(), "the seed is part of what the search is");
  }

  @Test
  void configErrorsNameTheKey() {
    SearchConfig d = SearchConfig.defaults();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SearchConfig(2048, 0, 8, 16, 16, 16, 40,
        20, 0.01, 0.3, 0.3, 0, false, false, false, List.of(), 4, 20, 0.001, "su", 5, "synth", true, "", "", "", 2.0));
    assertTrue(e.getMessage().startsWith("parents: "), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new SearchConfig(2048, 0, 64, 32, 16, 16, 40,
        20, 0.01, 0.3, 0.3, 0, false, false, false, List.of(), 4, 20, 0.001, "ntk", 5, "synth", true, "", "", "", 2.0));
    assertEquals("mscale: 'ntk' is not an attention-factor rule; allowed: su, yarn", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new SearchConfig(2048, 0, 64, 32, 16, 16, 40,
        20, 0.01, 0.3, 0.3, 0, false, false, false, List.of(0), 4, 20, 0.001, "su", 5, "synth", true, "", "", "", 2.0));
    assertTrue(e.getMessage().startsWith("start_tokens: "), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new SearchConfig(2048, 0, 64, 32, 16, 16, 40,
        20, 0.01, 0.3, 0.3, 0, false, false, false, List.of(), 4, 20, 0.001, "su", 5, "synth", true, "", "", "f.json", 0.9));
    assertTrue(e.getMessage().startsWith("max_short_factor: "), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new SearchConfig(2048, 0, 64, 32, 16, 16, 40,
        20, 0.01, 0.3, 0.3, 0, false, false, false, List.of(), 4, 20, 0.001, "su", 5, "synth", true, "", "a.json", "b.json", 2));
    assertTrue(e.getMessage().startsWith("init_factors: "), e.getMessage());
    assertEquals(64, d.population());
    assertEquals(40, d.iterations());
  }
}
