package org.longctx.search;

import java.util.HashSet;
import java.util.List;

/**
 * The {@code search:} section: LongRoPE's evolutionary search (docs/methods.md §3). The
 * defaults are the reference's {@code default_hyper_params/dim_mono.json} [microsoft/LongRoPE].
 *
 * <pre>
 * search:
 *   target_length: 2048        # L, the window the factors are searched for
 *   population: 64
 *   parents: 32
 *   mutations: 16              # children per generation made by mutation
 *   crossovers: 16             # children per generation made by crossover
 *   iterations: 40
 *   documents: 5               # validation documents, each cut to target_length
 * </pre>
 *
 * @param targetLength L, the length the factors are searched for; 0 = not set (the search refuses it)
 * @param originalLength L0; 0 = the model's {@code max_position_embeddings}
 * @param population size of population 0 (the start point, seeds and mutations of the start point)
 * @param parents the best individuals kept each generation; children come from them
 * @param mutations children per generation made by mutating a uniformly chosen parent
 * @param crossovers children per generation made by crossing two distinct parents
 * @param iterations generations after population 0
 * @param maxCrossoverTries passes over the genes before a crossover gives up (then the better parent is mutated)
 * @param step the grid a mutated factor moves on
 * @param mutationProbability per gene, the chance that a mutation pass moves it
 * @param crossoverProbability per gene, the chance that crossover considers it (then a fair coin takes the other parent's value)
 * @param seed seeds every random choice: the same seed (and fitness) gives the same search
 * @param includePi seed population 0 with PI's factors (λ = s) as the paper does
 * @param includeNtk seed population 0 with static NTK's equivalent factors as the paper does
 * @param includeYarn seed population 0 with transformers YaRN's own frequencies as factors
 *     ({@code λ = 1/((1 − e)/s + e)}; the start point interpolates λ, YaRN the frequency)
 * @param startTokens n̂ values to try (e.g. 1, 2, 4, 8, …, 64); empty = no n̂ search
 * @param startTokenParents how many of the best individuals try each n̂ (in generation 1)
 * @param patience stop when the best perplexity moved less than {@code min_delta} over this many generations; 0 = never
 * @param minDelta see {@code patience}
 * @param mscale the attention factor of the factors: {@code su} ({@code sqrt(1 + ln s / ln L0)}) or {@code yarn} ({@code 0.1 ln s + 1})
 * @param documents validation documents, each read at exactly {@code target_length} tokens
 * @param data {@code synth} (held-out synthetic record/lookup documents seeded by {@code seed}),
 *     {@code synth:copy} or {@code synth:passkey} (the other synthetic kinds), several kinds joined by {@code +}
 *     ({@code synth:copy+passkey}, taken in turn), or a prepared output's location
 * @param addBos start synthetic documents with the tokenizer's BOS token
 * @param tokenizer a {@code tokenizer.json} or its folder; empty = the model folder's, else {@code data.tokenizer}
 * @param initFactors a {@code factors.json} whose long factors, rescaled to {@code target_length}
 *     (docs/methods.md §3), seed population 0 (origin {@code init}; the reference's
 *     {@code --init-factors}); the progressive pipeline passes the previous search's; empty = none
 * @param longFactors a {@code factors.json}: search that set's <em>short</em> factors (used up to
 *     L0) instead of long ones, keeping its long factors and attention factor; the documents are
 *     then {@code target_length} ≤ L0 tokens long (0 = L0); empty = a long-factor search
 * @param maxShortFactor short factors lie within [1, max_short_factor] (the paper lowers the bound
 *     for short lengths)
 */
public record SearchConfig(
    int targetLength,
    int originalLength,
    int population,
    int parents,
    int mutations,
    int crossovers,
    int iterations,
    int maxCrossoverTries,
    double step,
    double mutationProbability,
    double crossoverProbability,
    long seed,
    boolean includePi,
    boolean includeNtk,
    boolean includeYarn,
    List<Integer> startTokens,
    int startTokenParents,
    int patience,
    double minDelta,
    String mscale,
    int documents,
    String data,
    boolean addBos,
    String tokenizer,
    String initFactors,
    String longFactors,
    double maxShortFactor) {

  /** The attention-factor rules a factor set may use. */
  public static final List<String> MSCALES = List.of("su", "yarn");

  /** {@code data} value meaning "synthetic held-out documents". */
  public static final String SYNTH = "synth";

  public SearchConfig {
    if (targetLength < 0) {
      throw new IllegalArgumentException("target_length: must be ≥ 0 (0 = not set), got " + targetLength);
    }
    if (originalLength < 0) {
      throw new IllegalArgumentException("original_length: must be ≥ 0 (0 = the model's max_position_embeddings), got " + originalLength);
    }
    if (population < 1) {
      throw new IllegalArgumentException("population: must be ≥ 1, got " + population);
    }
    if (parents < 1 || parents > population) {
      throw new IllegalArgumentException("parents: must be in [1, population = " + population + "], got " + parents);
    }
    if (mutations < 0 || crossovers < 0 || mutations + crossovers < 1) {
      throw new IllegalArgumentException("mutations: mutations (" + mutations + ") and crossovers (" + crossovers
          + ") must be ≥ 0 and make at least one child per generation");
    }
    if (crossovers > 0 && parents < 2) {
      throw new IllegalArgumentException("crossovers: a crossover needs two parents; set parents ≥ 2 or crossovers: 0");
    }
    if (iterations < 0) {
      throw new IllegalArgumentException("iterations: must be ≥ 0, got " + iterations);
    }
    if (maxCrossoverTries < 1) {
      throw new IllegalArgumentException("max_crossover_tries: must be ≥ 1, got " + maxCrossoverTries);
    }
    if (!(step > 0 && step <= 1)) {
      throw new IllegalArgumentException("step: must be in (0, 1], got " + step);
    }
    if (!(mutationProbability > 0 && mutationProbability <= 1)) {
      throw new IllegalArgumentException("mutation_probability: must be in (0, 1], got " + mutationProbability);
    }
    if (!(crossoverProbability > 0 && crossoverProbability <= 1)) {
      throw new IllegalArgumentException("crossover_probability: must be in (0, 1], got " + crossoverProbability);
    }
    startTokens = startTokens == null ? List.of() : List.copyOf(startTokens);
    for (int n : startTokens) {
      if (n < 1) {
        throw new IllegalArgumentException("start_tokens: every n̂ must be ≥ 1 (0, no start tokens, is always in the search), got " + n);
      }
    }
    if (new HashSet<>(startTokens).size() != startTokens.size()) {
      throw new IllegalArgumentException("start_tokens: must not repeat a value, got " + startTokens);
    }
    if (startTokenParents < 1) {
      throw new IllegalArgumentException("start_token_parents: must be ≥ 1, got " + startTokenParents);
    }
    if (patience < 0) {
      throw new IllegalArgumentException("patience: must be ≥ 0 (0 = no early stop), got " + patience);
    }
    if (!(minDelta >= 0)) {
      throw new IllegalArgumentException("min_delta: must be ≥ 0, got " + minDelta);
    }
    mscale = mscale == null || mscale.isBlank() ? "su" : mscale.strip();
    if (!MSCALES.contains(mscale)) {
      throw new IllegalArgumentException("mscale: '" + mscale + "' is not an attention-factor rule; allowed: " + String.join(", ", MSCALES));
    }
    if (documents < 1) {
      throw new IllegalArgumentException("documents: must be ≥ 1, got " + documents);
    }
    data = data == null || data.isBlank() ? SYNTH : data.strip();
    tokenizer = tokenizer == null ? "" : tokenizer.strip();
    initFactors = initFactors == null ? "" : initFactors.strip();
    longFactors = longFactors == null ? "" : longFactors.strip();
    if (!(maxShortFactor >= 1)) {
      throw new IllegalArgumentException("max_short_factor: must be ≥ 1 (short factors lie within [1, max_short_factor]), got "
          + maxShortFactor);
    }
    if (!longFactors.isEmpty() && !initFactors.isEmpty()) {
      throw new IllegalArgumentException("init_factors: seeds a long-factor search; a short-factor search (long_factors set) "
          + "starts from the original rope and the long factors");
    }
  }

  /** The reference's defaults (population 64, parents 32, 16 + 16 children, 40 iterations, step 0.01), no target set. */
  public static SearchConfig defaults() {
    return new SearchConfig(0, 0, 64, 32, 16, 16, 40, 20, 0.01, 0.3, 0.3, 0, false, false, false, List.of(), 4, 20, 0.001, "su",
        5, SYNTH, true, "", "", "", 2.0);
  }

  /** Whether this search finds the short factors of a long factor set ({@code long_factors}). */
  public boolean searchesShortFactors() {
    return !longFactors.isEmpty();
  }

  /** Whether the genome carries n̂. */
  public boolean searchesStartTokens() {
    return !startTokens.isEmpty();
  }
}
