package org.longctx.trainer.recipes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BatchTest {

  @Test
  void shorterSequencesArePaddedAndMasked() {
    Batch b = Batch.of(List.of(new int[] {5, 6, 7, 8}, new int[] {9, 10}), List.of(new long[] {0, 1, 20, 21}, new long[] {3, 4}), 258);
    assertEquals(2, b.rows());
    assertEquals(4, b.length());
    assertArrayEquals(new long[] {5, 6, 7, 8, 9, 10, 258, 258}, b.inputIds());
    assertArrayEquals(new long[] {0, 1, 20, 21, 3, 4, 0, 0}, b.positionIds());
    assertArrayEquals(new long[] {6, 7, 8, 10, 0, 0}, b.targets());
    assertArrayEquals(new float[] {1, 1, 1, 1, 0, 0}, b.targetMask());
    assertEquals(6, b.tokens());
    assertEquals(4, b.predictions());
    assertThrows(IllegalArgumentException.class, () -> Batch.of(List.of(new int[] {1}), null, 0));
  }

  /** The loss against a direct float64 evaluation of -mean(log softmax(logits)[target]) over real predictions. */
  @Test
  void crossEntropyIsTheMeanOverRealPredictions() {
    int vocab = 11;
    Batch b = Batch.of(List.of(new int[] {1, 2, 3, 4, 5}, new int[] {6, 7, 8}), null, 0);
    SplittableRandom r = new SplittableRandom(3);
    float[] logits = new float[b.rows() * b.length() * vocab];
    for (int i = 0; i < logits.length; i++) {
      logits[i] = (float) (r.nextGaussian() * 3);
    }
    double expected = 0;
    int n = 0;
    for (int row = 0; row < b.rows(); row++) {
      for (int t = 0; t < b.length() - 1; t++) {
        if (b.targetMask()[row * (b.length() - 1) + t] == 0) {
          continue;
        }
        int target = (int) b.targets()[row * (b.length() - 1) + t];
        int base = (row * b.length() + t) * vocab;
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) {
          max = Math.max(max, logits[base + v]);
        }
        double sum = 0;
        for (int v = 0; v < vocab; v++) {
          sum += Math.exp(logits[base + v] - max);
        }
        expected -= logits[base + target] - max - Math.log(sum);
        n++;
      }
    }
    expected /= n;
    assertEquals(6, n);
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray l = m.create(logits, new Shape(b.rows(), b.length(), vocab));
      assertEquals(expected, b.crossEntropy(l, m).getFloat(), 1e-5 * Math.abs(expected));
    }
  }
}
