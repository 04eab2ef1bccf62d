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
 * local[1] and on local[cores], and the parallel efficiency between them. Both score the same
 * candidates on the same documents and must give the same perplexities.
 */
final class SearchBench {
  private SearchBench() {}

  static int search(Args args) throws Exception {
    ExperimentConfig config = Subcommand.loadConfig(args);
    int cores = args.intValue("--cores", Runtime.getRuntime().availableProcessors());
    int count = args.intValue("--candidates", 8);
    if (cores < 1 || count < 1) {
      throw new UsageException("need --cores >= 1 and --candidates >= 1");
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
    System.out.printf(Locale.ROOT, "bench search: %d candidates × %d documents of %d tokens (%s), on local[1] and local[%d]%n",
        count, prepared.documents().size(), space.targetLength(), prepared.model(), cores);
    List<Integer> masters = cores == 1 ? List.of(1) : List.of(1, cores);
    Map<Integer, Double> rate = new LinkedHashMap<>();
    double[] first = null;
    for (int n : masters) {
      SparkSettings settings = new SparkSettings("local[" + n + "]", config.spark().appName(), config.spark().conf());
      try (SparkSession spark = SparkSessions.create(settings, "bench-search")) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<List<EvalDocument>> docs = jsc.broadcast(prepared.documents());
        try {
          SearchJob.Scorer scorer = new SearchJob.Scorer(jsc, prepared, docs);
          scorer.perplexities(ropes.subList(0, Math.min(n, ropes.size()))); // warm-up: every executor thread loads and runs once
          long t0 = System.nanoTime();
          double[] ppl = scorer.perplexities(ropes);
          double seconds = (System.nanoTime() - t0) / 1e9;
          rate.put(n, count / seconds);
          System.out.printf(Locale.ROOT, "  local[%d]: %.1f s, %.3f candidates/s%n", n, seconds, count / seconds);
          if (first == null) {
            first = ppl;
          } else if (!java.util.Arrays.equals(first, ppl)) {
            throw new IllegalStateException("local[" + n + "] scored other perplexities than local[1]: " + java.util.Arrays.toString(ppl)
                + " vs " + java.util.Arrays.toString(first));
          }
        } finally {
          docs.destroy();
          SearchScoring.releaseAll();
        }
      }
    }
    if (rate.size() == 2) {
      double speedup = rate.get(cores) / rate.get(1);
      System.out.printf(Locale.ROOT, "  speed-up %.2f× on %d cores: parallel efficiency %.0f%% (same perplexities on both)%n",
          speedup, cores, 100 * speedup / cores);
    }
    return 0;
  }
}
