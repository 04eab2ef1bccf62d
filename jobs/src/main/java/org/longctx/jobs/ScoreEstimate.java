package org.longctx.jobs;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Locale;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.trainer.model.LlamaModel;

/**
 * What scoring a long input will cost, said before it starts: memory besides the weights and
 * time, from the model's shapes (floating-point operations: projections and MLP grow linearly
 * with the length, attention quadratically) and the speed of a short forward pass of the model
 * measured now. Progress lines extrapolate the time measured so far.
 *
 * @param tokens input length
 * @param segment tokens per pass
 * @param linearFlopsPerToken projections, MLP and output head per token
 * @param attentionFlopsPerSquare attention's work is this times length²
 * @param memoryBytes KV cache + attention scores + one segment's activations and logits
 * @param kvCacheBytes the KV cache at full length
 * @param flopsPerSecond measured speed of the model
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
    long bytes = model.dtype().getNumOfBytes();
    long kv = 2L * c.numHiddenLayers() * tokens * kvDim * bytes;
    long scores = 3 * LlamaModel.SCORE_BUDGET_ELEMENTS * 4; // scores, mask, softmax of one chunk, float32
    long activations = (long) segment * (3L * c.intermediateSize() + 4 * h) * 4;
    long logits = 2L * segment * c.vocabSize() * 4; // native rows and their Java copy
    ScoreEstimate unmeasured = new ScoreEstimate(tokens, segment, linear, attention, kv + scores + activations + logits, kv,
        Double.NaN);
    return new ScoreEstimate(tokens, segment, linear, attention, kv + scores + activations + logits, kv,
        measureFlopsPerSecond(model, unmeasured));
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
        + " (KV cache %s), %.3g TFLOP, about %s at the %.3g GFLOP/s a %d-token pass took now on %s; rows are written as"
        + " segments finish",
        tokens, segments, segment, bytes(memoryBytes), bytes(kvCacheBytes), flops(tokens) / 1e12,
        duration(seconds()),
        flopsPerSecond / 1e9, PROBE_TOKENS, device);
  }

  /**
   * A progress line. The ETA extrapolates the time per token so far: measured on 2 CPU cores,
   * segments of a 20,000-token input took about the same time each, although the FLOP count of
   * later ones is larger (their attention is not what bounds them there).
   */
  String progress(long done, double elapsedS) {
    double eta = done > 0 ? elapsedS / done * (tokens - done) : Double.NaN;
    return String.format(Locale.ROOT, "score: %,d/%,d tokens in %s, ETA %s", done, tokens, duration(elapsedS),
        duration(eta));
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

  /** Tokens of the forward pass that measures this machine's speed before a long input. */
  static final int PROBE_TOKENS = 256;

  /**
   * The model's own speed on a short forward pass (after a tiny warm-up for kernel selection
   * and first allocations): a plain matrix product overstates it several times on a CPU, where
   * attention's softmax and masking are bound by memory.
   */
  private static double measureFlopsPerSecond(LlamaModel model, ScoreEstimate e) {
    try (NDManager m = NDManager.newBaseManager(model.device())) {
      forward(model, m, 16);
      long start = System.nanoTime();
      forward(model, m, PROBE_TOKENS);
      return e.flops(PROBE_TOKENS) / Math.max(1e-9, (System.nanoTime() - start) / 1e9);
    }
  }

  private static void forward(LlamaModel model, NDManager m, int tokens) {
    long[] ids = new long[tokens];
    for (int i = 0; i < tokens; i++) {
      ids[i] = i % model.config().vocabSize();
    }
    try (NDManager scope = m.newSubManager()) {
      model.forward(scope.create(ids, new Shape(1, tokens)), null).max().getFloat(); // waits for the device
    }
  }
}
