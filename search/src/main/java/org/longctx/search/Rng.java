package org.longctx.search;

/**
 * SplitMix64: a random generator whose whole state is one {@code long}, so the search state file
 * can hold it and a resumed search draws exactly the numbers an uninterrupted one would.
 */
final class Rng {
  private long state;

  Rng(long state) {
    this.state = state;
  }

  long state() {
    return state;
  }

  long nextLong() {
    state += 0x9E3779B97F4A7C15L;
    long z = state;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Uniform in [0, 1). */
  double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** Uniform in [0, bound). */
  int nextInt(int bound) {
    if (bound < 1) {
      throw new IllegalArgumentException("bound: must be ≥ 1, got " + bound);
    }
    return (int) Math.floorMod(nextLong() >>> 1, (long) bound);
  }
}
