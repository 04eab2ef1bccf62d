package org.longctx.search;

import java.util.List;

/**
 * Everything a search needs to continue: saved after every generation, so a rerun resumes where
 * the last one stopped and draws the same numbers an uninterrupted run would.
 *
 * @param fingerprint what the search is for (space, settings, model and documents); a state of another search is refused
 * @param generations generations completed after population 0
 * @param rng the random generator's state
 * @param individuals every candidate scored so far, by id (the evaluated set; "seen before" checks against it)
 * @param population ids of the current population (parents first, best first, then the last children)
 * @param bestByGeneration the best perplexity after population 0 and after each generation
 * @param startTokensTried whether the best individuals have been tried with every n̂
 * @param stoppedEarly whether the best perplexity stalled (patience / min_delta)
 */
public record SearchState(
    String fingerprint,
    int generations,
    long rng,
    List<Individual> individuals,
    List<Integer> population,
    List<Double> bestByGeneration,
    boolean startTokensTried,
    boolean stoppedEarly) {

  public SearchState {
    individuals = List.copyOf(individuals);
    population = List.copyOf(population);
    bestByGeneration = List.copyOf(bestByGeneration);
  }

  /** The best individual scored so far (the earliest among equals). */
  public Individual best() {
    Individual best = null;
    for (Individual i : individuals) {
      if (best == null || i.rank() < best.rank()) {
        best = i;
      }
    }
    return best;
  }
}
