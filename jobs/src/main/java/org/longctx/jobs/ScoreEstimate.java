package org.longctx.jobs;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Locale;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.trainer.LlamaModel;

/**
 * What scoring a long input will cost, said before it starts: memory besides the weights and
 * time, from the model's shapes (floating-point operations: projections and MLP grow linearly
 * with the length, attention quadratically) and this machine's matrix-multiply speed measured
 * for a fraction of a second. Progress lines use the same work model, so the ETA is right
 * even though later tokens cost more (they attend to more keys).
 *
 * @param tokens input length
 * @param segment tokens per pass
 * @param linearFlopsPerToken projections, MLP and output head per token
 * @param attentionFlopsPerSquare attention's work is this times length²
 * @param memoryBytes KV cache + attention scores + one segment's activations and logits
 * @param kvCacheBytes the KV cache at full length
 * @param flopsPerSecond measured matrix-multiply speed
 */
record ScoreEstimate(int tokens, int segment, double linearFlopsPerToken, double attentionFlopsPerSquare,
    long memoryBytes, long kvCacheBytes, double flopsPerSecond) {

  static ScoreEstimate of(LlamaModel model, int tokens, int segment) {
    LlamaConfig c = model.config();
    long h = c.hiddenSize();
    long qDim = (long) c.numAttentionHeads() * c.headDim();
    long kvDim = (long) c.numKeyValueHeads() * c.headDim();
    long perLayer = h * qDim + 2 * h * kvDim + qDim * h + 3 * h * c.intermediateSize();
    double linear = 2.0 * (c.numHiddenLayers() * perLayer + h * c.vocabSize());
    // causal: query i meets i keys, QKᵀ and PV each 2·i·qDim, summed over i < L: 2·qDim·L² per layer
    double attention = 2.0 * c.numHiddenLayers() * qDim;
    long bytes = model.dtype() == DataType.FLOAT16 ? 2 : 4;
    long kv = 2L * c.numHiddenLayers() * tokens * kvDim * bytes;
    long scores = 3 * LlamaModel.SCORE_BUDGET_ELEMENTS * 4; // scores, mask, softmax of one chunk, float32
    long activations = (long) segment * (3L * c.intermediateSize() + 4 * h) * 4;
    long logits = 2L * segment * c.vocabSize() * 4; // native rows and their Java copy
    return new ScoreEstimate(tokens, segment, linear, attention, kv + scores + activations + logits, kv,
        measureFlopsPerSecond(model.device(), (int) Math.min(h, 1024)));
  }

  /** Work done when the first {@code t} tokens are through. */
  double flops(long t) {
    return linearFlopsPerToken * t + attentionFlopsPerSquare * (double) t * t;
  }

  double seconds() {
    return flops(tokens) / flopsPerSecond;
  }

  String describe(Device device) {
    int segments = (tokens + segment - 1) / segment;
    return String.format(Locale.ROOT, "score: %,d tokens in %d segments of %,d: about %s of memory besides the weights"
        + " (KV cache %s), %.3g TFLOP, about %s at the %.3g GFLOP/s measured now on %s; rows are written as segments finish",
        tokens, segments, segment, bytes(memoryBytes), bytes(kvCacheBytes), flops(tokens) / 1e12,
        duration(seconds()),
        flopsPerSecond / 1e9, device);
  }

  String progress(long done, double elapsedS) {
    double fraction = flops(done) / flops(tokens);
    double eta = fraction > 0 ? elapsedS * (1 - fraction) / fraction : Double.NaN;
    return String.format(Locale.ROOT, "score: %,d/%,d tokens (%.0f %% of the work) in %s, ETA %s", done, tokens,
        100 * fraction, duration(elapsedS), duration(eta));
  }

  static String bytes(long b) {
    return b >= 1L << 30 ? String.format(Locale.ROOT, "%.1f GB", b / (double) (1L << 30))
        : String.format(Locale.ROOT, "%,d MB", (b + (1L << 20) - 1) >> 20);
  }

  static String duration(double seconds) {
    if (!Double.isFinite(seconds) || seconds < 0) {
      return "?";
    }
    long s = Math.round(seconds);
    return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  }

  /** Float32 matrix products of {@code [256, n] × [n, n]} for about a tenth of a second. */
  private static double measureFlopsPerSecond(Device device, int n) {
    try (NDManager m = NDManager.newBaseManager(device)) {
      NDArray a = m.randomUniform(-1f, 1f, new Shape(256, n));
      NDArray b = m.randomUniform(-1f, 1f, new Shape(n, n));
      a.dot(b).sum().getFloat(); // warm-up (kernel selection, first allocation)
      long start = System.nanoTime();
      long runs = 0;
      do {
        try (NDArray c = a.dot(b); NDArray s = c.sum()) {
          s.getFloat(); // waits for the device
        }
        runs++;
      } while (System.nanoTime() - start < 100_000_000L && runs < 10_000);
      return 2.0 * 256 * n * n * runs / ((System.nanoTime() - start) / 1e9);
    }
  }
}
