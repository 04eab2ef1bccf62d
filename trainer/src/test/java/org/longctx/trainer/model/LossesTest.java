package org.longctx.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LossesTest {

  /** The GPU path keeps every position of the logits; the last of each row is ignored instead of sliced off. */
  @Test
  void lastPositionOfEveryRowIsIgnored() {
    long[] targets = {11, 12, 13, 21, 22, 23}; // 2 rows of length 4: 3 next tokens each
    long[] i = {Losses.IGNORE};
    assertArrayEquals(new long[] {11, 12, 13, i[0], 21, 22, 23, i[0]}, Losses.ignoringLast(targets, 2, 4));
    assertArrayEquals(new long[] {Losses.IGNORE}, Losses.ignoringLast(new long[0], 1, 1));
    assertThrows(IllegalArgumentException.class, () -> Losses.ignoringLast(targets, 3, 4));
  }
}
