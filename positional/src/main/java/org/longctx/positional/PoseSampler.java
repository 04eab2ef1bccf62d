package org.longctx.positional;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.random.RandomGenerator;

/**
 * PoSE's positional skip-wise sampling: train at the original window {@code Lc} while position
 * ids reach the target window {@code Lt}, so the model sees every relative distance up to
 * {@code Lt − 1}.
 *
 * <p>Documents should be cut to at most {@code 5·Lc} tokens first, as the reference tokenizes
 * them. Every draw is inclusive on both ends ({@code random.randint}). Samples are reproducible:
 * the same seed (or the same generator state) gives the same sample.
 *
 * @param trainLength Lc, the number of tokens per example
 * @param targetLength Lt, the window the positions must cover ({@code ≥ Lc})
 */
public record PoseSampler(int trainLength, int targetLength) {

  public PoseSampler {
    if (trainLength < 1) {
      throw new IllegalArgumentException("train_length: must be ≥ 1, got " + trainLength);
    }
    if (targetLength < trainLength) {
      throw new IllegalArgumentException("target_length: must be ≥ train_length (" + trainLength + "), got " + targetLength);
    }
  }

  /** The sampler for a target of {@code factor · trainLength} positions. */
  public static PoseSampler ofFactor(int trainLength, int factor) {
    return new PoseSampler(trainLength, Math.multiplyExact(trainLength, factor));
  }

  /** {@link #sampleReference(int, RandomGenerator)} with {@code new SplittableRandom(seed)}. */
  public PoseSample sampleReference(int documentLength, long seed) {
    return sampleReference(documentLength, new SplittableRandom(seed));
  }

  /**
   * The two-chunk rule of the PoSE reference ({@code train_preprocess_function_pose}): with
   * {@code lc = min(N, Lc)}, chunk 0 is {@code ids[0 : r1]} with {@code r1 ~ U{1 … ceil(lc/2)}};
   * chunk 1 ends at {@code r2 ~ U{lc … N}} and holds the other {@code lc − r1} tokens; with skip
   * {@code u ~ U{0 … Lt − lc}} the positions are {@code 0 … r1−1} then {@code r1+u … lc−1+u}.
   * Draws happen in that order (r1, r2, u).
   *
   * @param documentLength N, the document's token count (≥ 1)
   */
  public PoseSample sampleReference(int documentLength, RandomGenerator rng) {
    checkDocument(documentLength);
    int lc = Math.min(documentLength, trainLength);
    int r1 = rng.nextInt(1, (lc + 1) / 2 + 1);
    int r2 = rng.nextInt(lc, documentLength + 1);
    int u = rng.nextInt(0, targetLength - lc + 1);
    List<PoseSample.Span> spans = new ArrayList<>();
    spans.add(new PoseSample.Span(0, r1));
    if (lc > r1) {
      spans.add(new PoseSample.Span(r2 - (lc - r1), r2));
    }
    long[] positions = new long[lc];
    for (int i = 0; i < lc; i++) {
      positions[i] = i < r1 ? i : i + u;
    }
    return new PoseSample(spans, positions);
  }

  /** {@link #sample(int, int, RandomGenerator)} with {@code new SplittableRandom(seed)}. */
  public PoseSample sample(int documentLength, int chunks, long seed) {
    return sample(documentLength, chunks, new SplittableRandom(seed));
  }

  /**
   * The N-chunk rule of the PoSE paper (v2, eqs. 3–5). With {@code lc = min(N, Lc)}: chunk
   * lengths {@code l_i ≥ 1} come from {@code chunks − 1} distinct cut points drawn uniformly from
   * {@code 1 … lc−1} (the paper leaves this open; this choice makes every split equally likely);
   * {@code st_i = Σ_{j<i} l_j}; skips {@code u_0 = 0, u_i ~ U{u_{i−1} … Lt − lc}}; content
   * offsets {@code v_0 = 0, v_i ~ U{v_{i−1} … N − lc}}. Chunk i holds document tokens
   * {@code [v_i + st_i, v_i + st_i + l_i)} at positions {@code u_i + st_i …}. Draws happen in the
   * order cuts, then (u_i, v_i) for i = 1, 2, ….
   *
   * @param chunks the number of chunks, 1 … lc
   */
  public PoseSample sample(int documentLength, int chunks, RandomGenerator rng) {
    checkDocument(documentLength);
    int lc = Math.min(documentLength, trainLength);
    if (chunks < 1 || chunks > lc) {
      throw new IllegalArgumentException("chunks: must be in [1, " + lc + "] (one token per chunk at least), got " + chunks);
    }
    int[] starts = new int[chunks + 1]; // st_i, with st_chunks = lc
    int i = 1;
    for (int cut : distinctCuts(lc - 1, chunks - 1, rng)) {
      starts[i++] = cut;
    }
    starts[chunks] = lc;
    List<PoseSample.Span> spans = new ArrayList<>();
    long[] positions = new long[lc];
    int skip = 0;
    int offset = 0;
    for (int c = 0; c < chunks; c++) {
      if (c > 0) {
        skip = rng.nextInt(skip, targetLength - lc + 1);
        offset = rng.nextInt(offset, documentLength - lc + 1);
      }
      spans.add(new PoseSample.Span(offset + starts[c], offset + starts[c + 1]));
      for (int t = starts[c]; t < starts[c + 1]; t++) {
        positions[t] = (long) skip + t;
      }
    }
    return new PoseSample(spans, positions);
  }

  /** {@code k} distinct values from {@code 1 … n}, ascending (Floyd's algorithm). */
  private static TreeSet<Integer> distinctCuts(int n, int k, RandomGenerator rng) {
    TreeSet<Integer> chosen = new TreeSet<>();
    for (int j = n - k + 1; j <= n; j++) {
      int t = rng.nextInt(1, j + 1);
      chosen.add(chosen.contains(t) ? j : t);
    }
    return chosen;
  }

  private static void checkDocument(int documentLength) {
    if (documentLength < 1) {
      throw new IllegalArgumentException("documentLength: must be ≥ 1, got " + documentLength);
    }
  }
}
