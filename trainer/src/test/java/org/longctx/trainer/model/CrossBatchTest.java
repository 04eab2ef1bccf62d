package org.longctx.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

/**
 * Cross-batch contexts and masks (docs/methods.md §4). The expected tables are worked out by hand
 * from CStanKonrad/long_llama {@code fot_continued_pretraining/FoT/cross_batch.py}: with
 * {@code n = 1 + range} and {@code s = ceil(n / max(k − 1, 1))}, entry i uses
 * {@code min(min((i mod k)·s + 1, n), i + 1)} contexts (all n when k = 1), one of them its own.
 */
class CrossBatchTest {

  @Test
  void theMethodsHandCheck() {
    assertArrayEquals(new int[] {0, 1, 0, 2, 0, 2}, new CrossBatch(2, 2).allowedContexts(6)); // n 3, s 3
  }

  @Test
  void allowedContextsForSeveralBatchesRangesAndPackings() {
    // k = 1: every entry attends to `range` earlier entries, fewer at the start of the batch
    assertArrayEquals(new int[] {0, 1, 2, 2}, new CrossBatch(2, 1).allowedContexts(4));
    // n 4, s ceil(4/3) = 2: in-pack 0 → 1, 1 → 3, 2 → 5 → 4, 3 → 7 → 4 contexts; capped by i + 1 in the first pack
    assertArrayEquals(new int[] {0, 1, 2, 3, 0, 2, 3, 3}, new CrossBatch(3, 4).allowedContexts(8));
    // n 2, s 1: in-pack 0 → 1, 1 → 2, 2 → min(3, 2) = 2
    assertArrayEquals(new int[] {0, 1, 1, 0, 1, 1}, new CrossBatch(1, 3).allowedContexts(6));
    // n 6, s 6: the second entry of a pack uses all 6 contexts, capped by i + 1
    assertArrayEquals(new int[] {0, 1, 0, 3}, new CrossBatch(5, 2).allowedContexts(4));
    // range 0: nothing but the entry itself
    assertArrayEquals(new int[] {0, 0, 0, 0}, new CrossBatch(0, 2).allowedContexts(4));
  }

  @Test
  void refusesWhatTheReferenceRefuses() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CrossBatch(2, 4).allowedContexts(6));
    assertTrue(e.getMessage().startsWith("train.batch_size: must be a multiple of fot.document_packing (4), got 6"), e.getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new CrossBatch(-1, 1)).getMessage().startsWith("cross_batch_range"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new CrossBatch(1, 0)).getMessage().startsWith("document_packing"));
  }

  @Test
  void theMaskHidesDisallowedEntriesAndFutureOwnKeys() {
    int length = 3;
    int range = 2;
    int[] allowed = {0, 1, 2};
    CrossBatchMask mask = new CrossBatchMask(length, range, allowed);
    int keys = (range + 1) * length;
    assertEquals(range * length + 2, mask.keyLimit(2));
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray hidden = mask.hidden(m, 0, length, keys); // [batch, 1, 1, queries, keys]
      boolean[] actual = hidden.broadcast(allowed.length, 1, 1, length, keys).toBooleanArray();
      for (int b = 0; b < allowed.length; b++) {
        for (int i = 0; i < length; i++) {
          for (int j = 0; j < keys; j++) {
            boolean expected;
            if (j < range * length) { // block j / length holds entry b − (range − j / length)
              int back = range - j / length;
              expected = back > allowed[b];
            } else {
              expected = j - range * length > i;
            }
            assertEquals(expected, actual[((b * length) + i) * keys + j], "entry " + b + ", query " + i + ", key " + j);
          }
        }
      }
    }
    try (NDManager m = NDManager.newBaseManager()) {
      assertNull(new CausalMask(range * length).hidden(m, 0, 1, range * length + 1), "the causal part alone hides nothing here");
    }
  }
}
