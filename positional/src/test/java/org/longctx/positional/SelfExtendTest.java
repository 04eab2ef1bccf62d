package org.longctx.positional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** SelfExtend's position maps: the hand check of methods.md §5 and the capacity rule. */
class SelfExtendTest {

  private static long[] range(long n) {
    return LongStream.range(0, n).toArray();
  }

  @Test
  void prefillHandCheck() {
    SelfExtend se = new SelfExtend(2, 4);
    assertArrayEquals(new long[] {2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7}, se.groupQueryPositions(range(12)));
    assertArrayEquals(new long[] {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5}, se.groupKeyPositions(range(12)));
    long[][] rel = se.relativePositions(range(12), range(12));
    assertArrayEquals(new long[] {7, 7, 6, 6, 5, 5, 4, 4, 3, 2, 1, 0}, rel[11]);
    assertEquals(-1, rel[3][4], "future keys are masked");
  }

  @Test
  void decodeHandCheck() {
    SelfExtend se = new SelfExtend(2, 4);
    long[][] rel = se.relativePositions(new long[] {12}, range(13));
    assertArrayEquals(new long[] {8, 8, 7, 7, 6, 6, 5, 5, 4, 3, 2, 1, 0}, rel[0]);
    // decode and prefill agree on the same query
    assertArrayEquals(se.relativePositions(range(13), range(13))[12], rel[0]);
  }

  @Test
  void integerDivisionWhenTheGroupDoesNotDivideTheWindow() {
    SelfExtend se = new SelfExtend(3, 4);
    // shift 4: q // 3 + 4 − 4 // 3 = q // 3 + 3
    assertArrayEquals(new long[] {3, 3, 3, 4, 4, 4, 5, 5}, se.groupQueryPositions(range(8)));
    // before the window is reached there is no shift
    assertArrayEquals(new long[] {0, 0, 0, 1}, se.groupQueryPositions(range(4)));
  }

  @Test
  void capacityIsExactlyWhereRelativePositionsLeaveTheOriginalWindow() {
    // (L0 − W)·G + W is exact when G divides W; otherwise the last group position overshoots
    int l0 = 16;
    for (int g = 1; g <= 4; g++) {
      for (int w = g; w < l0; w += g) {
        SelfExtend se = new SelfExtend(g, w);
        long capacity = se.capacity(l0);
        long[][] inside = se.relativePositions(new long[] {capacity - 1}, range(capacity));
        long maxInside = Arrays.stream(inside[0]).max().orElseThrow();
        assertTrue(maxInside <= l0 - 1, "G=" + g + " W=" + w + ": inside capacity max relative " + maxInside);
        long[][] beyond = se.relativePositions(new long[] {capacity}, range(capacity + 1));
        assertEquals(l0, Arrays.stream(beyond[0]).max().orElseThrow(), "G=" + g + " W=" + w + ": one past capacity");
      }
    }
  }

  @Test
  void capacityOvershootsWhenTheGroupDoesNotDivideTheWindow() {
    SelfExtend se = new SelfExtend(2, 1);
    long[][] rel = se.relativePositions(new long[] {se.capacity(16) - 1}, range(se.capacity(16)));
    assertEquals(16, Arrays.stream(rel[0]).max().orElseThrow());
  }

  @Test
  void neighboursAreTheLastWindowKeys() {
    SelfExtend se = new SelfExtend(8, 3);
    assertTrue(se.isNeighbour(10, 10) && se.isNeighbour(10, 8));
    assertTrue(!se.isNeighbour(10, 7) && !se.isNeighbour(10, 11));
  }

  @Test
  void queryScaleAndValidation() {
    assertEquals(1.0, SelfExtend.queryScale(100, 0), 0.0);
    assertEquals(1.0, SelfExtend.queryScale(10, 4096), 0.0);
    assertEquals(Math.log(8192) / Math.log(4096), SelfExtend.queryScale(8191, 4096), 1e-15);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new SelfExtend(0, 4)).getMessage().startsWith("group_size: "));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new SelfExtend(2, 0)).getMessage().startsWith("window_size: "));
    assertThrows(IllegalArgumentException.class, () -> new SelfExtend(2, 4).groupKeyPositions(new long[] {-1}));
  }

  @Test
  void perQueryGroupPositionsGiveTheSameRelativePositionsAsTheCallRule() {
    for (int g = 1; g <= 4; g++) {
      for (int w = 1; w <= 6; w++) {
        SelfExtend se = new SelfExtend(g, w);
        long[][] rel = se.relativePositions(range(20), range(20));
        for (long q = 0; q < 20; q++) {
          for (long k = 0; k <= q; k++) {
            long perQuery = se.isNeighbour(q, k) ? q - k : se.groupQueryPosition(q) - se.groupKeyPosition(k);
            assertEquals(rel[(int) q][(int) k], perQuery, "G " + g + ", W " + w + ", q " + q + ", k " + k);
          }
        }
      }
    }
  }

  @Test
  void scaleBaseIsOffOrAboveOne() {
    assertEquals(0.0, new SelfExtend(2, 4).scaleBase(), 0.0, "off unless given");
    assertTrue(!new SelfExtend(2, 4).scalesQueries() && new SelfExtend(2, 4, 20).scalesQueries());
    assertEquals(SelfExtend.queryScale(99, 20), new SelfExtend(2, 4, 20).queryScale(99), 0.0);
    for (double bad : new double[] {0.5, 1.0, -2, Double.NaN, Double.POSITIVE_INFINITY}) {
      assertTrue(assertThrows(IllegalArgumentException.class, () -> new SelfExtend(2, 4, bad)).getMessage().startsWith("scale_base: "),
          String.valueOf(bad));
    }
  }
}
