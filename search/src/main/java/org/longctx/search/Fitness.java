package org.longctx.search;

import java.util.List;

/**
 * Scores a batch of candidates: perplexity {@code exp(mean NLL)} of each over the validation
 * documents at the target length (docs/methods.md §3, "Fitness"). A batch is one generation's
 * children, so an implementation may score them in parallel (the search job: Spark tasks).
 * Lower is better; a non-finite value ranks last.
 */
@FunctionalInterface
public interface Fitness {
  /** One perplexity per candidate, in the batch's order. */
  double[] perplexities(List<Genome> batch) throws Exception;
}
