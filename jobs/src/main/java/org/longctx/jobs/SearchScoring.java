package org.longctx.jobs;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.longctx.trainer.Perplexity;
import org.longctx.trainer.eval.EvalDocument;
import org.longctx.trainer.eval.MethodSpec;
import org.longctx.trainer.eval.ModelScorer;
import org.longctx.trainer.model.Precision;

/**
 * What a search task runs on an executor, without Spark: scores (candidate, document) items on
 * the executor's one copy of the model. A search runs many generations of short tasks, so the
 * copy must outlive each task: the first task in a JVM takes a {@link ModelScorer#shared} lease
 * that it keeps ({@link #keep}), so later tasks' leases find the weights loaded instead of
 * reading them again; {@link #releaseAll} gives it back at the end of the job (on a cluster the
 * executors end with the application).
 */
public final class SearchScoring {

  /**
   * One document scored under one candidate's rope.
   *
   * @param candidate the candidate's index in its batch
   * @param rope the candidate's rope (a {@link MethodSpec} carries it as JSON: {@code RopeConfig} is not serializable)
   * @param document index into the documents
   */
  public record Item(int candidate, MethodSpec rope, int document) implements Serializable {}

  /** The summed NLL of a document's {@code predicted} tokens under a candidate. */
  public record Score(int candidate, int document, double nllSum, int predicted) implements Serializable {}

  /** Leases kept for the JVM's life, by location and dtype; guarded by itself. */
  private static final Map<String, ModelScorer> KEPT = new HashMap<>();

  private SearchScoring() {}

  /**
   * Scores {@code items}; each document is read in full (the job cut it to the target length).
   *
   * @param attentionChunk queries per attention chunk (0 = automatic)
   */
  static List<Score> score(String location, String dtype, int attentionChunk, List<Item> items, List<EvalDocument> documents)
      throws IOException {
    Precision precision = Precision.parse("model.dtype", dtype);
    keep(location, precision);
    List<Score> out = new ArrayList<>(items.size());
    try (ModelScorer scorer = ModelScorer.shared(location, precision)) {
      for (Item item : items) {
        int[] ids = documents.get(item.document()).ids();
        Perplexity.Result r = scorer.apply(item.rope().settings(), view -> {
          view.setAttentionChunk(attentionChunk);
          return Perplexity.of(view, ids);
        });
        double sum = 0;
        for (double v : r.nll()) {
          sum += v;
        }
        out.add(new Score(item.candidate(), item.document(), sum, ids.length - 1));
      }
    }
    return out;
  }

  /** Holds a lease on the model for the rest of the JVM's life (or until {@link #releaseAll}). */
  private static void keep(String location, Precision precision) throws IOException {
    synchronized (KEPT) {
      String key = location + "|" + precision;
      if (!KEPT.containsKey(key)) {
        KEPT.put(key, ModelScorer.shared(location, precision));
      }
    }
  }

  /** Gives back the kept leases (the driver calls it when the search ends; in local mode the executor is this JVM). */
  static void releaseAll() {
    synchronized (KEPT) {
      KEPT.values().forEach(ModelScorer::close);
      KEPT.clear();
    }
  }
}
