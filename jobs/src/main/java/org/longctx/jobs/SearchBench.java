package org.longctx.jobs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.longctx.jobs.config.ExperimentConfig;
import org.longctx.jobs.config.SparkSettings;
import org.longctx.jobs.spark.SparkSessions;
import org.longctx.positional.RopeConfig;
import org.longctx.search.Factors;
import org.longctx.search.Genome;
import org.longctx.search.SearchSpace;
import org.longctx.trainer.eval.EvalDocument;

/**
 * {@code bench search}: how fast the search job scores candidates (one generation's batch) on
 * local[1] and on local[cores] — or, with {@code --master URL}, on one executor of that cluster
 * and on {@code --executors N} (one core each) — and the parallel efficiency between them. Every
 * run scores the same candidates on the same documents and must give the same perplexities.
 */
final class SearchBench {
  private SearchBench() {}

  static int search(Args args) throws Exception {
    ExperimentConfig config = Subcommand.loadConfig(args);
    int cores = args.intValue("--cores", Runtime.getRuntime().availableProcessors());
    int count = args.intValue("--candidates", 8);
    int executors = args.intValue("--executors", 2);
    if (cores < 1 || count < 1 || executors < 1) {
      throw new UsageException("need --cores >= 1, --executors >= 1 and --candidates >= 1");
    }
    String master = args.value("--master").orElse(null);
    // what is compared: one core against many, on local threads or on a cluster's executors
    int width = master == null ? cores : executors;
    List<Integer> widths = width == 1 ? List.of(1) : List.of(1, width);
    Map<String, SparkSettings> runs = new LinkedHashMap<>();
    for (int n : widths) {
      if (master == null) {
        runs.put("local[" + n + "]", new SparkSettings("local[" + n + "]", config.spark().appName(), config.spark().conf()));
      } else {
        Map<String, String> conf = new LinkedHashMap<>(config.spark().conf());
        conf.put("spark.executor.cores", "1");
        conf.put("spark.cores.max", String.valueOf(n)); // standalone: n executors of one core
        conf.put("spark.executor.instances", String.valueOf(n)); // YARN, Kubernetes
        // the first tasks wait until every executor registered, so that the warm-up reaches them all
        conf.put("spark.scheduler.minRegisteredResourcesRatio", "1.0");
        conf.put("spark.scheduler.maxRegisteredResourcesWaitingTime", "120s");
        runs.put(n + (n == 1 ? " executor" : " executors"), new SparkSettings(master, config.spark().appName(), conf));
      }
    }
    SearchJob.Prepared prepared = SearchJob.prepare(config);
    SearchSpace space = prepared.space();
    // a generation's worth of distinct, valid candidates: the start point rescaled to targets between L0 and L
    double[] start = Factors.yarnStart(space);
    List<RopeConfig> ropes = new ArrayList<>();
    for (int k = 0; k < count; k++) {
      int length = space.originalLength() + (int) ((long) (space.targetLength() - space.originalLength()) * (k + 1) / count);
      double[] lambda = length == space.targetLength() ? start
          : Factors.rescale(start, space.originalLength(), space.targetLength(), Math.max(length, space.originalLength() + 1));
      ropes.add(new Genome(0, lambda).toRope(space, config.search().mscale()));
    }
    System.out.printf(Locale.ROOT, "bench search: %d candidates × %d documents of %d tokens (%s), on %s%s%n",
        count, prepared.documents().size(), space.targetLength(), prepared.model(), String.join(" and ", runs.keySet()),
        master == null ? "" : " of " + master);
    Map<Integer, Double> rate = new LinkedHashMap<>();
    double[] first = null;
    List<String> labels = new ArrayList<>(runs.keySet());
    for (int r = 0; r < labels.size(); r++) {
      int n = widths.get(r);
      String label = labels.get(r);
      try (SparkSession spark = SparkSessions.create(runs.get(label), "bench-search")) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<List<EvalDocument>> docs = jsc.broadcast(SearchJob.broadcastable(prepared.documents()));
        try {
          SearchJob.Scorer scorer = new SearchJob.Scorer(jsc, prepared, docs);
          // warm-up: every executor (thread) loads the model and runs once; two per core make sure each got one
          scorer.perplexities(ropes.subList(0, Math.min(2 * n, ropes.size())));
          long t0 = System.nanoTime();
          double[] ppl = scorer.perplexities(ropes);
          double seconds = (System.nanoTime() - t0) / 1e9;
          rate.put(n, count / seconds);
          System.out.printf(Locale.ROOT, "  %s: %.1f s, %.3f candidates/s%n", label, seconds, count / seconds);
          if (first == null) {
            first = ppl;
          } else if (!java.util.Arrays.equals(first, ppl)) {
            throw new IllegalStateException(label + " scored other perplexities than " + labels.get(0) + ": " + java.util.Arrays.toString(ppl)
                + " vs " + java.util.Arrays.toString(first));
          }
        } finally {
          docs.destroy();
          SearchScoring.releaseAll();
        }
      }
    }
    if (rate.size() == 2) {
      int n = widths.get(1);
      double speedup = rate.get(n) / rate.get(1);
      System.out.printf(Locale.ROOT, "  speed-up %.2f× on %d %s: parallel efficiency %.0f%% (same perplexities on both)%n",
          speedup, n, master == null ? "cores" : "executors", 100 * speedup / n);
    }
    return 0;
  }
}
