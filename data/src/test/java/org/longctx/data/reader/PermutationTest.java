package org.longctx.data.reader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import org.junit.jupiter.api.Test;

class PermutationTest {

  @Test
  void isABijectionForAnySize() {
    for (long n : new long[] {1, 2, 3, 5, 16, 17, 100, 1000, 4097}) {
      Permutation p = new Permutation(n, 42);
      BitSet seen = new BitSet();
      for (long i = 0; i < n; i++) {
        long y = p.apply(i);
        assertTrue(y >= 0 && y < n);
        assertTrue(!seen.get((int) y), "repeat at n=" + n);
        seen.set((int) y);
      }
      assertEquals(n, seen.cardinality());
    }
  }

  @Test
  void shufflesAndDependsOnTheSeed() {
    int n = 1000;
    Permutation a = new Permutation(n, 1);
    Permutation b = new Permutation(n, 2);
    int fixedPoints = 0;
    int same = 0;
    for (int i = 0; i < n; i++) {
      fixedPoints += a.apply(i) == i ? 1 : 0;
      same += a.apply(i) == b.apply(i) ? 1 : 0;
      assertEquals(a.apply(i), new Permutation(n, 1).apply(i));
    }
    // a random permutation has about one fixed point and agrees with another at about one place
    assertTrue(fixedPoints < 10, "fixed points " + fixedPoints);
    assertTrue(same < 10, "agreements " + same);

  }
}
