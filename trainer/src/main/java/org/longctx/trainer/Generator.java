package org.longctx.trainer;

import org.longctx.trainer.model.LlamaModel;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.longctx.trainer.model.KvCache;

/**
 * Autoregressive decoding of one sequence with a {@link KvCache}: the prompt is run once
 * (prefill), then each new token alone against the cached keys and values. Works with any
 * model view: a rope override, SelfExtend (keys cached un-rotated), dynamic NTK and longrope
 * (the cache is re-run with the new frequencies when they change with the length, so each step
 * gives what a forward over all tokens gives; see {@link KvCache.OnRopeChange}).
 */
public final class Generator {

  private Generator() {}

  /**
   * Sampling settings, applied in transformers' order: temperature, then top-k, then top-p.
   *
   * @param temperature logits are divided by it; > 0
   * @param topK keep the k most likely tokens (ties with the k-th kept); 0 = off
   * @param topP keep the smallest set of most likely tokens whose probability reaches topP (the
   *     most likely token always stays); in (0, 1], 1 = off
   */
  public record Sampling(double temperature, int topK, double topP) {
    public Sampling {
      if (!(temperature > 0) || Double.isInfinite(temperature)) {
        throw new IllegalArgumentException("temperature: must be > 0, got " + temperature);
      }
      if (topK < 0) {
        throw new IllegalArgumentException("top_k: must be ≥ 0 (0 = off), got " + topK);
      }
      if (!(topP > 0 && topP <= 1)) {
        throw new IllegalArgumentException("top_p: must be in (0, 1] (1 = off), got " + topP);
      }
    }

    /** Plain sampling from the softmax at {@code temperature}. */
    public static Sampling ofTemperature(double temperature) {
      return new Sampling(temperature, 0, 1.0);
    }
  }

  /**
   * What a generation produced.
   *
   * @param tokens the new tokens; a stop token, when produced, is the last one
   * @param logits per new token the float32 logits it was chosen from ({@code [tokens][vocab]}),
   *     or null when not recorded
   * @param rebuilds how often the cache was re-run because the rope's frequencies changed
   */
  public record Result(int[] tokens, float[][] logits, int rebuilds) {}

  /** Greedy decoding: the most likely token each step (the lowest id on ties). */
  public static int[] greedy(LlamaModel model, int[] prompt, int maxNewTokens, int... stopTokenIds) {
    return generate(model, prompt, maxNewTokens, null, 0, KvCache.OnRopeChange.REBUILD, false, stopTokenIds).tokens();
  }

  /** Sampled decoding, reproducible from {@code seed}. */
  public static int[] sample(LlamaModel model, int[] prompt, int maxNewTokens, Sampling sampling, long seed,
      int... stopTokenIds) {
    if (sampling == null) {
      throw new IllegalArgumentException("sampling: must not be null (use greedy)");
    }
    return generate(model, prompt, maxNewTokens, sampling, seed, KvCache.OnRopeChange.REBUILD, false, stopTokenIds).tokens();
  }

  /**
   * The general form.
   *
   * @param sampling null = greedy
   * @param seed seeds the sampler (ignored when greedy)
   * @param onRopeChange what the cache does when the rope's frequencies change with the length
   * @param recordLogits keep each step's logits in the result
   */
  public static Result generate(LlamaModel model, int[] prompt, int maxNewTokens, Sampling sampling, long seed,
      KvCache.OnRopeChange onRopeChange, boolean recordLogits, int... stopTokenIds) {
    if (prompt == null || prompt.length == 0) {
      throw new IllegalArgumentException("prompt: must hold at least one token");
    }
    if (maxNewTokens < 0) {
      throw new IllegalArgumentException("maxNewTokens: must be ≥ 0, got " + maxNewTokens);
    }
    int vocab = model.config().vocabSize();
    for (int id : prompt) {
      if (id < 0 || id >= vocab) {
        throw new IllegalArgumentException("prompt: token id " + id + " outside the vocabulary [0, " + vocab + ")");
      }
    }
    int[] stops = stopTokenIds == null ? new int[0] : stopTokenIds.clone();
    RandomGenerator rng = new SplittableRandom(seed);
    List<float[]> recorded = recordLogits ? new ArrayList<>() : null;
    int[] out = new int[maxNewTokens];
    int produced = 0;
    try (KvCache cache = model.newCache(onRopeChange, 0)) {
      long[] next = Arrays.stream(prompt).asLongStream().toArray();
      while (produced < maxNewTokens) {
        float[] logits = lastLogits(model, next, cache);
        if (recorded != null) {
          recorded.add(logits);
        }
        int token = sampling == null ? argmax(logits) : sample(logits, sampling, rng);
        out[produced++] = token;
        if (Arrays.stream(stops).anyMatch(s -> s == token)) {
          break;
        }
        next = new long[] {token};
      }
      return new Result(Arrays.copyOf(out, produced), recorded == null ? null : recorded.toArray(new float[0][]),
          cache.rebuilds());
    }
  }

  /** Runs {@code ids} through the cache and returns the float32 logits of the last one ({@code [vocab]}). */
  private static float[] lastLogits(LlamaModel model, long[] ids, KvCache cache) {
    try (NDManager m = NDManager.newBaseManager(model.device())) {
      NDArray hidden = model.hiddenStates(m.create(ids, new Shape(1, ids.length)), null, cache); // [1, seq, hidden]
      NDArray last = hidden.get(new NDIndex(":, -1:, :")); // [1, 1, hidden]: the head runs on one row only
      return model.logits(last).toType(DataType.FLOAT32, false).toFloatArray();
    }
  }

  /** Index of the largest logit; the first one on ties (torch's argmax). */
  static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }

  /** Draws one token from {@link #distribution}. */
  static int sample(float[] logits, Sampling sampling, RandomGenerator rng) {
    double[] p = distribution(logits, sampling);
    double u = rng.nextDouble();
    double cumulative = 0;
    int last = -1;
    for (int i = 0; i < p.length; i++) {
      if (p[i] > 0) {
        cumulative += p[i];
        last = i;
        if (u < cumulative) {
          return i;
        }
      }
    }
    return last; // u within rounding of 1
  }

  /**
   * The probabilities sampling draws from: softmax of {@code logits / temperature} restricted to
   * the top-k tokens, then to the top-p nucleus, renormalised (in double).
   */
  static double[] distribution(float[] logits, Sampling sampling) {
    int n = logits.length;
    double[] scaled = new double[n];
    for (int i = 0; i < n; i++) {
      scaled[i] = logits[i] / sampling.temperature();
    }
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> scaled[b] != scaled[a] ? Double.compare(scaled[b], scaled[a]) : Integer.compare(a, b));
    boolean[] keep = new boolean[n];
    Arrays.fill(keep, true);
    if (sampling.topK() > 0 && sampling.topK() < n) {
      double threshold = scaled[order[sampling.topK() - 1]];
      for (int i = 0; i < n; i++) {
        keep[i] = scaled[i] >= threshold;
      }
    }
    double[] p = softmax(scaled, keep);
    if (sampling.topP() < 1) {
      // transformers: drop tokens whose probability mass above them already reaches top_p
      double before = 0;
      boolean[] nucleus = new boolean[n];
      for (int r = 0; r < n; r++) {
        int i = order[r];
        if (!keep[i]) {
          continue;
        }
        nucleus[i] = before < sampling.topP() || r == 0;
        before += p[i];
      }
      p = softmax(scaled, nucleus);
    }
    return p;
  }

  private static double[] softmax(double[] x, boolean[] keep) {
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < x.length; i++) {
      if (keep[i]) {
        max = Math.max(max, x[i]);
      }
    }
    double[] p = new double[x.length];
    double sum = 0;
    for (int i = 0; i < x.length; i++) {
      if (keep[i]) {
        p[i] = Math.exp(x[i] - max);
        sum += p[i];
      }
    }
    for (int i = 0; i < x.length; i++) {
      p[i] /= sum;
    }
    return p;
  }
}
