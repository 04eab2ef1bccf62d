package org.longctx.search;

/**
 * A scored candidate.
 *
 * @param id its index in the search's history (creation order)
 * @param generation 0 for the initial population, else the generation that made it
 * @param origin how it was made: {@code start} (YaRN-shaped start point), {@code pi}, {@code ntk},
 *     {@code mutation}, {@code crossover} or {@code start_tokens} (a parent tried with another n̂)
 * @param genome n̂ and λ
 * @param perplexity its fitness; lower is better
 */
public record Individual(int id, int generation, String origin, Genome genome, double perplexity) {

  /** The perplexity as the search ranks it: a non-finite value ranks last. */
  double rank() {
    return Double.isFinite(perplexity) ? perplexity : Double.POSITIVE_INFINITY;
  }
}
