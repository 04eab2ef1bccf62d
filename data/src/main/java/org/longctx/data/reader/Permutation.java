package org.longctx.data.reader;

import java.util.SplittableRandom;

/**
 * A pseudo-random bijection of {@code [0, n)} computed one index at a time (a balanced
 * Feistel network on the smallest even-bit domain holding {@code n}, with cycle walking to
 * stay inside {@code [0, n)}). Needs no memory proportional to {@code n}, so shuffling a
 * dataset of any size costs nothing up front, and the same seed gives the same order on
 * every worker.
 */
public final class Permutation {
  private static final int ROUNDS = 6;

  private final long n;
  private final int halfBits;
  private final long mask;
  private final long[] keys = new long[ROUNDS];

  public Permutation(long n, long seed) {
    if (n < 0) {
      throw new IllegalArgumentException("n must be >= 0, got " + n);
    }
    this.n = n;
    int bits = n <= 1 ? 2 : 64 - Long.numberOfLeadingZeros(n - 1);
    this.halfBits = Math.max(1, (bits + 1) / 2);
    this.mask = (1L << halfBits) - 1;
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = 0; i < ROUNDS; i++) {
      keys[i] = random.nextLong();
    }
  }

  public long size() {
    return n;
  }

  /** The image of {@code x} in {@code [0, n)}. */
  public long apply(long x) {
    if (x < 0 || x >= n) {
      throw new IndexOutOfBoundsException(x + " outside [0, " + n + ")");
    }
    long y = encrypt(x);
    while (y >= n) {
      y = encrypt(y); // cycle walking: the domain is < 4n, so this ends after a few steps on average
    }
    return y;
  }

  private long encrypt(long x) {
    long left = x >>> halfBits;
    long right = x & mask;
    for (long key : keys) {
      long next = left ^ (mix(right ^ key) & mask);
      left = right;
      right = next;
    }
    return (left << halfBits) | right;
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
    z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
    return z ^ (z >>> 33);
  }
}
