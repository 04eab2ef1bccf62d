package org.longctx.trainer;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.longctx.positional.RopeConfig;
import org.longctx.positional.SelfExtend;

/**
 * The {@code eval:} section of an experiment config: a passkey grid (lengths × depths ×
 * trials) and perplexity by length, run for several methods on the same prompts.
 *
 * <pre>
 * eval:
 *   lengths: [256, 512, 1024]          # passkey prompt lengths in tokens
 *   depths: [0.0, 0.5, 1.0]            # where the key sits: 0 = start, 1 = just before the question
 *   trials: 4                          # prompts (different keys) per length × depth
 *   key_digits: 5
 *   perplexity_lengths: [256, 1024]    # empty = the passkey lengths
 *   perplexity_documents: 4            # 0 = no perplexity
 *   perplexity_data: synth             # synth, or a prepared output (documents layout)
 *   methods:
 *     - name: base
 *     - name: yarn
 *       rope: {rope_type: yarn, factor: 4.0}
 *     - name: self-extend
 *       self_extend: {group_size: 8, window_size: 64}
 *     - name: pose
 *       model: runs/pose/checkpoints
 * </pre>
 *
 * @param lengths passkey prompt lengths in tokens (BOS included); at least one is needed to run
 * @param seed seeds the prompts and documents, so every method sees the same ones
 * @param depths depths of the key in [0, 1]
 * @param trials prompts per length × depth, each with its own key
 * @param keyDigits digits of each pass key
 * @param perplexityLengths lengths (tokens) at which perplexity is measured; empty means
 *     {@code lengths}
 * @param perplexityDocuments held-out documents per length; 0 skips perplexity
 * @param perplexityData {@code synth} (documents the synth generator writes, seeded by
 *     {@code seed}, so never seen in training; {@code synth:copy} and {@code synth:passkey} for
 *     the other kinds, several joined by {@code +} as in {@code synth:copy+passkey}) or the
 *     location of a prepared output
 * @param addBos start every prompt and document with the tokenizer's BOS token (when it has one)
 * @param tokenizer a {@code tokenizer.json} or the folder holding it; empty means the
 *     model folder's own, else {@code data.tokenizer}
 * @param methods what to compare; each names a model (default {@code model.path}) and the
 *     extension applied at inference
 */
public record EvalConfig(
    List<Integer> lengths,
    long seed,
    List<Double> depths,
    int trials,
    int keyDigits,
    List<Integer> perplexityLengths,
    int perplexityDocuments,
    String perplexityData,
    boolean addBos,
    String tokenizer,
    List<Method> methods) {

  /** {@code perplexity_data} value meaning "generate documents with the synth generator". */
  public static final String SYNTH = "synth";

  public EvalConfig {
    lengths = lengths == null ? List.of() : List.copyOf(lengths);
    for (int length : lengths) {
      if (length < 1) {
        throw new IllegalArgumentException("lengths: every length must be >= 1, got " + length);
      }
    }
    depths = depths == null ? List.of() : List.copyOf(depths);
    for (double depth : depths) {
      if (!(depth >= 0 && depth <= 1)) {
        throw new IllegalArgumentException("depths: every depth must be in [0, 1], got " + depth);
      }
    }
    if (new HashSet<>(depths).size() != depths.size()) {
      throw new IllegalArgumentException("depths: must not repeat a value, got " + depths);
    }
    if (trials < 1) {
      throw new IllegalArgumentException("trials: must be >= 1, got " + trials);
    }
    if (keyDigits < 1 || keyDigits > 32) {
      throw new IllegalArgumentException("key_digits: must be in [1, 32], got " + keyDigits);
    }
    perplexityLengths = perplexityLengths == null ? List.of() : List.copyOf(perplexityLengths);
    for (int length : perplexityLengths) {
      if (length < 2) {
        throw new IllegalArgumentException("perplexity_lengths: every length must be >= 2 (one token predicts the next), got " + length);
      }
    }
    if (perplexityDocuments < 0) {
      throw new IllegalArgumentException("perplexity_documents: must be >= 0 (0 = no perplexity), got " + perplexityDocuments);
    }
    perplexityData = perplexityData == null || perplexityData.isBlank() ? SYNTH : perplexityData.strip();
    tokenizer = tokenizer == null ? "" : tokenizer.strip();
    methods = methods == null || methods.isEmpty() ? List.of(Method.plain("base")) : List.copyOf(methods);
    Set<String> names = new HashSet<>();
    for (Method m : methods) {
      if (m == null) {
        throw new IllegalArgumentException("methods: an entry is empty; each needs at least a name");
      }
      if (!names.add(m.name())) {
        throw new IllegalArgumentException("methods: name '" + m.name() + "' appears twice; names must be unique (they name the charts)");
      }
    }
  }

  public static EvalConfig defaults() {
    return new EvalConfig(List.of(), 0, List.of(0.0, 0.25, 0.5, 0.75, 1.0), 5, 5, List.of(), 4, SYNTH, true, "",
        List.of(Method.plain("base")));
  }

  /** These settings with other methods (the same prompts and documents for them). */
  public EvalConfig withMethods(List<Method> methods) {
    return new EvalConfig(lengths, seed, depths, trials, keyDigits, perplexityLengths, perplexityDocuments, perplexityData, addBos,
        tokenizer, methods);
  }

  /**
   * These settings with {@code lengths} as the passkey lengths; perplexity stays at
   * {@link #resolvedPerplexityLengths()} (the demo evaluates a method at a length the others skip).
   */
  public EvalConfig withLengths(List<Integer> lengths) {
    return new EvalConfig(lengths, seed, depths, trials, keyDigits, resolvedPerplexityLengths(), perplexityDocuments, perplexityData,
        addBos, tokenizer, methods);
  }

  /** The lengths at which perplexity is measured: {@code perplexity_lengths}, else {@code lengths}. */
  public List<Integer> resolvedPerplexityLengths() {
    return perplexityLengths.isEmpty() ? lengths : perplexityLengths;
  }

  /**
   * One method to evaluate: a model and the extension applied to it at inference.
   *
   * @param name names the method in results and charts (letters, digits, '.', '_', '-')
   * @param model a Hugging Face folder, a step directory or a checkpoint root; empty means
   *     {@code model.path}
   * @param rope replaces the model's rope scaling (e.g. yarn ×4); null keeps the model's
   * @param selfExtend SelfExtend grouped attention ({@code group_size}, {@code window_size},
   *     {@code scale_base}); null means plain attention
   * @param fot Focused Transformer memory layers to run with ({@code mem_layers},
   *     {@code last_context_length}, {@code mem_attention_grouping}); null means the model's own
   *     (a LongLLaMA checkpoint or a {@code fot} run has them)
   */
  public record Method(String name, String model, RopeConfig rope, SelfExtendOptions selfExtend, FotOptions fot) {

    public Method {
      if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
        throw new IllegalArgumentException("name: must be letters, digits, '.', '_' or '-' (it names files), got '" + name + "'");
      }
      model = model == null ? "" : model.strip();
    }

    /** A method with the model's own memory layers (if any). */
    public Method(String name, String model, RopeConfig rope, SelfExtendOptions selfExtend) {
      this(name, model, rope, selfExtend, null);
    }

    /** The model as it is: no rope override, plain attention. */
    public static Method plain(String name) {
      return new Method(name, "", null, null);
    }
  }

  /**
   * The {@code fot:} keys of a method: memory layers to run the model with, resolved against it
   * when it is loaded ({@link FotConfig#memoryFor}: left-out keys take the model's own values,
   * else half its window for {@code last_context_length}).
   *
   * @param memLayers {@code mem_layers}; empty = the model's own
   * @param lastContextLength {@code last_context_length}; absent or 0 = the model's own
   * @param memAttentionGrouping {@code mem_attention_grouping} {@code [heads, queries]}; empty = the model's own
   */
  public record FotOptions(List<Integer> memLayers, Integer lastContextLength, List<Integer> memAttentionGrouping) {

    public FotOptions {
      memLayers = memLayers == null ? List.of() : List.copyOf(memLayers);
      memAttentionGrouping = memAttentionGrouping == null ? List.of() : List.copyOf(memAttentionGrouping);
      lastContextLength = lastContextLength == null ? 0 : lastContextLength;
      new FotConfig(memLayers, lastContextLength, memAttentionGrouping, 0, 1); // checks the keys, naming them
    }

    /** These keys as the memory part of a {@code fot:} section (training keys at their defaults, unused). */
    public FotConfig memory() {
      return new FotConfig(memLayers, lastContextLength, memAttentionGrouping, 0, 1);
    }
  }

  /**
   * The {@code self_extend:} keys of a method as written in YAML ({@code scale_base} may be left
   * out); checked by {@link SelfExtend}, which the model takes.
   *
   * @param groupSize {@code group_size}, G ≥ 1 (required)
   * @param windowSize {@code window_size}, W ≥ 1 (required)
   * @param scaleBase {@code scale_base}, 0 or absent = no query scaling, else > 1
   */
  public record SelfExtendOptions(Integer groupSize, Integer windowSize, Double scaleBase) {

    public SelfExtendOptions {
      if (groupSize == null) {
        throw new IllegalArgumentException("group_size: required (G, how many positions share one group position; e.g. 8)");
      }
      if (windowSize == null) {
        throw new IllegalArgumentException("window_size: required (W, how many recent keys keep their true positions; e.g. 512)");
      }
      scaleBase = scaleBase == null ? 0.0 : scaleBase;
      new SelfExtend(groupSize, windowSize, scaleBase); // checks the ranges, naming the key
    }

    public static SelfExtendOptions of(SelfExtend s) {
      return new SelfExtendOptions(s.groupSize(), s.windowSize(), s.scaleBase());
    }

    /** The settings the model takes. */
    public SelfExtend settings() {
      return new SelfExtend(groupSize, windowSize, scaleBase);
    }
  }
}
