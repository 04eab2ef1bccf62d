package org.longctx.trainer.eval;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.longctx.trainer.EvalConfig;

/**
 * Everything an evaluation will run, decided up front on one machine: the prompts and
 * documents (deterministic by {@code eval.seed}), the work items, and their split into tasks
 * of one method each, balanced across methods ({@link #tasks}).
 *
 * @param methods the methods, in the config's order
 * @param inputs prompts, documents and decoding settings shared by all tasks
 * @param items the work every method does, in grid order
 */
public record EvalPlan(List<MethodSpec> methods, EvalInputs inputs, List<EvalItem> items) {

  public EvalPlan {
    methods = List.copyOf(methods);
    items = List.copyOf(items);
  }

  /**
   * The seed prompts and documents are drawn with: {@code eval.seed} mixed with a constant, so
   * evaluation data differs from what {@code synth --seed S} wrote for training even when the
   * same S is used for both.
   */
  public static long heldOutSeed(long seed) {
    return seed ^ 0x6C6F6E6763747845L; // "longctxE"
  }

  /**
   * Builds the plan.
   *
   * @param encoder the evaluation's tokenizer (with or without BOS, as {@code eval.add_bos} says)
   * @param stopIds tokens that end generation (EOS)
   * @param dtype compute precision
   * @param attentionChunk queries per attention chunk (0 = automatic)
   */
  public static EvalPlan build(EvalConfig config, List<MethodSpec> methods, PasskeyPrompt.Encoder encoder, int[] stopIds,
      String dtype, int attentionChunk) throws IOException {
    if (methods.isEmpty()) {
      throw new IllegalArgumentException("methods: nothing to evaluate");
    }
    if (config.lengths().isEmpty() && (config.perplexityDocuments() == 0 || config.resolvedPerplexityLengths().isEmpty())) {
      throw new IllegalArgumentException("lengths: give at least one passkey length (or perplexity_lengths with perplexity_documents > 0)");
    }
    long seed = heldOutSeed(config.seed());
    List<PasskeyPrompt> prompts = new ArrayList<>();
    List<EvalItem> items = new ArrayList<>();
    for (int length : config.lengths()) {
      for (double depth : config.depths()) {
        for (int trial = 0; trial < config.trials(); trial++) {
          items.add(new EvalItem(EvalItem.Kind.PASSKEY, prompts.size(), length));
          prompts.add(PasskeyPrompt.create(encoder, seed, length, depth, trial, config.keyDigits()));
        }
      }
    }
    List<EvalDocument> documents = documents(config, encoder);
    for (int length : config.resolvedPerplexityLengths()) {
      for (EvalDocument doc : documents) {
        items.add(new EvalItem(EvalItem.Kind.PERPLEXITY, doc.index(), length));
      }
    }
    EvalInputs inputs = new EvalInputs(prompts, documents, config.keyDigits(), stopIds, dtype, attentionChunk);
    return new EvalPlan(methods, inputs, items);
  }

  /**
   * The perplexity documents: {@code perplexity_documents} of them, each at least as long as
   * the longest perplexity length, so every length reads the same documents.
   */
  static List<EvalDocument> documents(EvalConfig config, PasskeyPrompt.Encoder encoder) throws IOException {
    List<Integer> lengths = config.resolvedPerplexityLengths();
    if (config.perplexityDocuments() == 0 || lengths.isEmpty()) {
      return List.of();
    }
    int longest = lengths.stream().mapToInt(Integer::intValue).max().orElseThrow();
    List<EvalDocument> docs;
    try {
      docs = EvalDocument.of(config.perplexityData(), encoder, heldOutSeed(config.seed()), config.perplexityDocuments(), longest, longest);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("perplexity_data: " + e.getMessage(), e);
    }
    if (docs.isEmpty()) {
      throw new IllegalArgumentException("perplexity_data: " + config.perplexityData() + " has no row of at least " + longest
          + " tokens (the longest perplexity length); use shorter perplexity_lengths or longer documents");
    }
    return docs;
  }

  /**
   * The tasks: the whole evaluation (every method × every item) cut into about {@code slices}
   * tasks of about equal cost, each holding items of one method only (so a task leases one
   * model). A method gets as many tasks as its share of the total cost asks for (at least one,
   * at most one per item); its items go longest first, each to its cheapest task so far. No
   * task then costs more than {@code total / slices} plus one item, whichever method it holds,
   * so the stage is bounded by the work spread over the cores, not by the slowest method. The
   * costliest tasks come first, since Spark starts tasks in this order and the last to start
   * should be short.
   *
   * @param slices how many tasks to aim for (e.g. a few per core)
   */
  public List<EvalTask> tasks(int slices) {
    if (slices < 1) {
      throw new IllegalArgumentException("slices: must be >= 1, got " + slices);
    }
    List<EvalItem> byCost = new ArrayList<>(items);
    byCost.sort(Comparator.comparingDouble(EvalItem::cost).reversed());
    double itemsCost = items.stream().mapToDouble(EvalItem::cost).sum();
    double total = methods.stream().mapToDouble(m -> m.costFactor() * itemsCost).sum();
    double target = total / slices;
    List<EvalTask> tasks = new ArrayList<>();
    for (MethodSpec method : methods) {
      int groups = (int) Math.max(1, Math.min(byCost.size(), Math.ceil(method.costFactor() * itemsCost / target - 1e-9)));
      for (List<EvalItem> group : split(byCost, groups)) {
        if (!group.isEmpty()) {
          tasks.add(new EvalTask(method, group));
        }
      }
    }
    tasks.sort(Comparator.comparingDouble(EvalTask::cost).reversed());
    return tasks;
  }

  /** {@code byCost} (costliest first) in {@code groups} groups of about equal cost: each item to the cheapest group so far. */
  private static List<List<EvalItem>> split(List<EvalItem> byCost, int groups) {
    List<List<EvalItem>> split = new ArrayList<>();
    double[] load = new double[groups];
    for (int g = 0; g < groups; g++) {
      split.add(new ArrayList<>());
    }
    for (EvalItem item : byCost) {
      int cheapest = 0;
      for (int g = 1; g < groups; g++) {
        if (load[g] < load[cheapest]) {
          cheapest = g;
        }
      }
      split.get(cheapest).add(item);
      load[cheapest] += item.cost();
    }
    return split;
  }
}
