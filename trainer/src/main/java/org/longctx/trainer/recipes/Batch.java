package org.longctx.trainer.recipes;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.longctx.trainer.model.Losses;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.model.Positions;

/**
 * One micro-batch on the host: {@code rows} sequences padded to {@code length} tokens, their
 * rotary positions, and the next-token targets with a mask for padding. Turned into tensors and
 * a loss only inside a step's sub-manager.
 *
 * <p>Targets follow transformers' causal-LM convention: sequence {@code b} predicts
 * {@code ids[b, t+1]} at {@code t = 0 … len_b − 2}, so a sequence of {@code n} tokens gives
 * {@code n − 1} predictions and the loss is their mean.
 *
 * @param rows sequences
 * @param length tokens per padded sequence
 * @param inputIds {@code [rows, length]} C order
 * @param positionIds {@code [rows, length]}, or null for {@code 0 … length − 1} in every row
 * @param targets {@code [rows, length − 1]}: the next token, 0 where masked
 * @param targetMask {@code [rows, length − 1]}: 1 for a real prediction, 0 for padding
 * @param tokens real (unpadded) input tokens
 * @param predictions real predictions (the mask's sum)
 */
public record Batch(int rows, int length, long[] inputIds, long[] positionIds, long[] targets, float[] targetMask,
    long tokens, long predictions) {

  /**
   * Packs sequences into a batch, padding the shorter ones with {@code padId} at the end.
   *
   * @param sequences token ids, each of at least 2 tokens
   * @param positions one position list per sequence (same lengths), or null for 0, 1, 2, …
   */
  public static Batch of(List<int[]> sequences, List<long[]> positions, int padId) {
    if (sequences.isEmpty()) {
      throw new IllegalArgumentException("a batch needs at least one sequence");
    }
    int rows = sequences.size();
    int length = sequences.stream().mapToInt(s -> s.length).max().orElseThrow();
    long[] ids = new long[rows * length];
    long[] pos = positions == null ? null : new long[rows * length];
    long[] targets = new long[rows * (length - 1)];
    float[] mask = new float[rows * (length - 1)];
    long tokens = 0;
    long predictions = 0;
    for (int b = 0; b < rows; b++) {
      int[] s = sequences.get(b);
      if (s.length < 2) {
        throw new IllegalArgumentException("sequence " + b + " has " + s.length + " token(s); a training sequence needs at least 2");
      }
      if (positions != null && positions.get(b).length != s.length) {
        throw new IllegalArgumentException("sequence " + b + ": " + positions.get(b).length + " positions for " + s.length + " tokens");
      }
      for (int t = 0; t < length; t++) {
        ids[b * length + t] = t < s.length ? s[t] : padId;
        if (pos != null) {
          pos[b * length + t] = t < s.length ? positions.get(b)[t] : 0;
        }
      }
      for (int t = 0; t < length - 1; t++) {
        boolean real = t + 1 < s.length;
        targets[b * (length - 1) + t] = real ? s[t + 1] : 0;
        mask[b * (length - 1) + t] = real ? 1f : 0f;
      }
      tokens += s.length;
      predictions += s.length - 1;
    }
    return new Batch(rows, length, ids, pos, targets, mask, tokens, predictions);
  }

  /**
   * Mean next-token cross-entropy of {@code model} on this batch, a float32 scalar in
   * {@code manager} (differentiable when the model's parameters are).
   */
  public NDArray loss(LlamaModel model, NDManager manager) {
    NDArray ids = manager.create(inputIds, new Shape(rows, length));
    // positions made from the host arrays: the forward pass never reads the device for them
    Positions pos = positionIds == null ? Positions.sequential(manager, rows, length)
        : Positions.of(manager, positionIds, rows, length);
    NDArray logits = model.forwardAt(ids, pos); // [rows, length, vocab]
    return crossEntropy(logits, manager);
  }

  /** The mean masked cross-entropy of {@code logits} {@code [rows, length, vocab]} against the targets. */
  NDArray crossEntropy(NDArray logits, NDManager manager) {
    long[] predicted = new long[targets.length];
    for (int i = 0; i < targets.length; i++) {
      predicted[i] = targetMask[i] > 0 ? targets[i] : Losses.IGNORE;
    }
    return Losses.nextTokenCrossEntropy(logits, predicted, predictions, manager);
  }

  /** Row {@code b}'s input ids (for tests and diagnostics). */
  long[] row(int b) {
    return java.util.Arrays.copyOfRange(inputIds, b * length, (b + 1) * length);
  }
}
