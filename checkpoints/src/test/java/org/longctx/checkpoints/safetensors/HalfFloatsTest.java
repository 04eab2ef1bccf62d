package org.longctx.checkpoints.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Checks the Java float16/bfloat16 conversions against independent derivations: the IEEE
 * formula for decoding, and a brute-force nearest-value search (ties to even) for rounding.
 */
class HalfFloatsTest {

  /** IEEE binary16 decoding straight from the definition. */
  private static double decodeHalf(int h) {
    int sign = (h >> 15) & 1;
    int exp = (h >> 10) & 0x1f;
    int mant = h & 0x3ff;
    double v = exp == 0 ? Math.scalb((double) mant, -24) : Math.scalb(1.0 + mant / 1024.0, exp - 15);
    return sign == 1 ? -v : v;
  }

  @Test
  void halfToFloatMatchesTheIeeeDefinitionForEveryFiniteValue() {
    for (int h = 0; h < 65536; h++) {
      if (((h >> 10) & 0x1f) == 0x1f) {
        continue;
      }
      assertEquals(decodeHalf(h), HalfFloats.halfToFloat((short) h), 0.0, "bits " + Integer.toHexString(h));
    }
    assertEquals(Float.POSITIVE_INFINITY, HalfFloats.halfToFloat((short) 0x7c00));
    assertEquals(Float.NEGATIVE_INFINITY, HalfFloats.halfToFloat((short) 0xfc00));
    assertTrue(Float.isNaN(HalfFloats.halfToFloat((short) 0x7e00)));
  }

  @Test
  void floatToHalfRoundTripsEveryHalf() {
    for (int h = 0; h < 65536; h++) {
      if (((h >> 10) & 0x1f) == 0x1f && (h & 0x3ff) != 0) {
        assertTrue(Float.isNaN(HalfFloats.halfToFloat(HalfFloats.floatToHalf(HalfFloats.halfToFloat((short) h)))));
        continue;
      }
      assertEquals(h, HalfFloats.floatToHalf(HalfFloats.halfToFloat((short) h)) & 0xffff, "bits " + Integer.toHexString(h));
    }
  }

  @Test
  void floatToHalfRoundsToNearestEvenLikeABruteForceSearch() {
    // all non-negative finite halves, ascending
    double[] halves = new double[0x7c00];
    for (int h = 0; h < 0x7c00; h++) {
      halves[h] = decodeHalf(h);
    }
    SplittableRandom rng = new SplittableRandom(7);
    for (int i = 0; i < 200_000; i++) {
      // magnitudes spread over the whole half range, subnormals included
      float v = (float) (Math.scalb(rng.nextDouble(), rng.nextInt(-27, 17)) * (rng.nextBoolean() ? 1 : -1));
      assertEquals(bruteForceHalf(v, halves), HalfFloats.floatToHalf(v) & 0xffff, "value " + v);
    }
    // exact midpoints between neighbours must go to the even one
    for (int h = 0; h < 0x7bff; h += 37) {
      float mid = (float) ((halves[h] + halves[h + 1]) / 2);
      int even = (h & 1) == 0 ? h : h + 1;
      assertEquals(even, HalfFloats.floatToHalf(mid) & 0xffff, "midpoint above " + h);
    }
  }

  private static int bruteForceHalf(float v, double[] halves) {
    int sign = v < 0 || (v == 0 && 1 / v < 0) ? 0x8000 : 0;
    double a = Math.abs((double) v);
    if (a >= 65520) {
      return sign | 0x7c00;
    }
    int idx = Arrays.binarySearch(halves, a);
    if (idx >= 0) {
      return sign | idx;
    }
    int hi = -idx - 1;
    int lo = hi - 1;
    if (hi == halves.length) {
      return sign | lo; // between 65504 and 65520: rounds down to the largest half
    }
    double dl = a - halves[lo];
    double dh = halves[hi] - a;
    int pick = dl < dh ? lo : dh < dl ? hi : ((lo & 1) == 0 ? lo : hi);
    return sign | pick;
  }

  @Test
  void bfloat16RoundsToNearestEvenAndDecodesExactly() {
    SplittableRandom rng = new SplittableRandom(11);
    for (int i = 0; i < 200_000; i++) {
      float v = Float.intBitsToFloat(rng.nextInt());
      if (Float.isNaN(v) || Float.isInfinite(v)) {
        continue;
      }
      int bits = Float.floatToRawIntBits(v);
      int lower = bits & 0xffff0000;
      float lo = Float.intBitsToFloat(lower);
      float hi = Float.intBitsToFloat(lower + 0x10000);
      // compare magnitudes; above the largest bfloat16 the next step is 2^128, i.e. infinity
      double a = Math.abs((double) v);
      double dl = a - Math.abs((double) lo);
      double dh = (Float.isInfinite(hi) ? Math.scalb(1.0, 128) : Math.abs((double) hi)) - a;
      int expected = dl < dh ? lower >>> 16 : dh < dl ? (lower + 0x10000) >>> 16 : (((lower >>> 16) & 1) == 0 ? lower >>> 16 : (lower + 0x10000) >>> 16);
      short got = HalfFloats.floatToBf16(v);
      assertEquals(expected & 0xffff, got & 0xffff, "value " + v);
      assertEquals(Float.intBitsToFloat((got & 0xffff) << 16), HalfFloats.bf16ToFloat(got));
    }
    assertEquals((short) 0x3f80, HalfFloats.floatToBf16(1.0f));
    assertEquals((short) 0x3f80, HalfFloats.floatToBf16(Float.intBitsToFloat(0x3f808000))); // tie → even (down)
    assertEquals((short) 0x3f82, HalfFloats.floatToBf16(Float.intBitsToFloat(0x3f818000))); // tie → even (up)
    assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.NaN))));
  }

  @Test
  void float16OverflowIsDetectedAtTheRoundingBoundary() {
    assertFalse(HalfFloats.overflowsFloat16(65504f));
    assertFalse(HalfFloats.overflowsFloat16(65519.996f));
    assertEquals(0x7bff, HalfFloats.floatToHalf(65519.996f) & 0xffff);
    assertTrue(HalfFloats.overflowsFloat16(65520f));
    assertEquals(0x7c00, HalfFloats.floatToHalf(65520f) & 0xffff);
    assertTrue(HalfFloats.overflowsFloat16(-1e6f));
    assertFalse(HalfFloats.overflowsFloat16(Float.POSITIVE_INFINITY));
    assertFalse(HalfFloats.overflowsFloat16(Float.NaN));
  }
}
