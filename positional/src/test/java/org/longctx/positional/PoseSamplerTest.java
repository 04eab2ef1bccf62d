package org.longctx.positional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.BitSet;
import java.util.Deque;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/** PoSE's skip-wise sampler: the hand check of methods.md §2 and the properties of every sample. */
class PoseSamplerTest {

  /** Returns scripted draws and checks each one is asked for with the reference's inclusive bounds. */
  private static final class Scripted implements RandomGenerator {
    private final Deque<int[]> draws = new ArrayDeque<>(); // {origin, boundExclusive, value}

    Scripted draw(int lowInclusive, int highInclusive, int value) {
      draws.add(new int[] {lowInclusive, highInclusive + 1, value});
      return this;
    }

    @Override
    public int nextInt(int origin, int bound) {
      int[] d = draws.remove();
      assertEquals(d[0], origin, "draw's lower bound");
      assertEquals(d[1], bound, "draw's upper bound (exclusive)");
      return d[2];
    }

    @Override
    public long nextLong() {
      throw new AssertionError("unexpected draw");
    }
  }

  @Test
  void referenceHandCheck() {
    // Lc = 8, s = 4: r1 ∈ [1, 4], u ∈ [0, 24]; r1 = 3, u = 10 → [0, 1, 2, 13, 14, 15, 16, 17]
    PoseSampler sampler = PoseSampler.ofFactor(8, 4);
    Scripted rng = new Scripted().draw(1, 4, 3).draw(8, 40, 30).draw(0, 24, 10);
    PoseSample s = sampler.sampleReference(40, rng);
    assertArrayEquals(new long[] {0, 1, 2, 13, 14, 15, 16, 17}, s.positionIds());
    // chunk 1 ends at r2 = 30 and holds lc − r1 = 5 tokens
    assertEquals(List.of(new PoseSample.Span(0, 3), new PoseSample.Span(25, 30)), s.spans());
    int[] doc = new int[40];
    for (int i = 0; i < doc.length; i++) {
      doc[i] = 100 + i;
    }
    assertArrayEquals(new int[] {100, 101, 102, 125, 126, 127, 128, 129}, s.select(doc));
  }

  @Test
  void referenceShortDocumentUsesItsOwnLength() {
    // N = 5 < Lc = 8: lc = 5, r1 ∈ [1, 3], r2 ∈ [5, 5], u ∈ [0, 32 − 5]
    Scripted rng = new Scripted().draw(1, 3, 2).draw(5, 5, 5).draw(0, 27, 27);
    PoseSample s = new PoseSampler(8, 32).sampleReference(5, rng);
    assertArrayEquals(new long[] {0, 1, 29, 30, 31}, s.positionIds());
    assertEquals(List.of(new PoseSample.Span(0, 2), new PoseSample.Span(2, 5)), s.spans());
  }

  @Test
  void referenceSamplesHaveThePropertiesOfTheRule() {
    PoseSampler sampler = new PoseSampler(8, 32);
    BitSet distances = new BitSet();
    for (long seed = 0; seed < 2000; seed++) {
      int n = 1 + (int) (seed % 40);
      PoseSample s = sampler.sampleReference(n, seed);
      checkSample(s, sampler, n);
      assertTrue(s.spans().size() <= 2);
      assertTrue(s.spans().get(0).length() <= (Math.min(n, 8) + 1) / 2, "chunk 0 has at most ceil(lc/2) tokens");
      recordDistances(s, distances);
      assertEquals(s, sampler.sampleReference(n, seed), "same seed, same sample");
    }
    assertEquals(32, distances.cardinality(), "every relative distance 0 … Lt−1 is reached: " + distances);
  }

  @Test
  void nChunkSamplesHaveThePropertiesOfTheRule() {
    PoseSampler sampler = new PoseSampler(16, 64);
    for (int chunks = 1; chunks <= 4; chunks++) {
      BitSet distances = new BitSet();
      for (long seed = 0; seed < 1500; seed++) {
        int n = 16 + (int) (seed % 64);
        PoseSample s = sampler.sample(n, chunks, seed);
        checkSample(s, sampler, n);
        assertEquals(chunks, s.spans().size());
        recordDistances(s, distances);
        assertEquals(s, sampler.sample(n, chunks, seed), "same seed, same sample");
      }
      if (chunks == 1) {
        assertEquals(16, distances.cardinality(), "one chunk is the plain window");
      } else {
        assertEquals(64, distances.cardinality(), chunks + " chunks reach every distance: " + distances);
      }
    }
    assertThrows(IllegalArgumentException.class, () -> sampler.sample(3, 4, 1L));
  }

  @Test
  void seedsGiveDifferentSamplesAndTheDefaultGeneratorIsSplittableRandom() {
    PoseSampler sampler = new PoseSampler(64, 512);
    assertNotEquals(sampler.sampleReference(300, 1L), sampler.sampleReference(300, 2L));
    assertEquals(sampler.sampleReference(300, 7L), sampler.sampleReference(300, new SplittableRandom(7L)));
  }

  @Test
  void badArgumentsNameTheKey() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new PoseSampler(8, 4)).getMessage()
        .startsWith("target_length: "));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new PoseSampler(0, 4)).getMessage()
        .startsWith("train_length: "));
  }

  /** Properties every sample must have, from either rule. */
  private static void checkSample(PoseSample s, PoseSampler sampler, int n) {
    int lc = Math.min(n, sampler.trainLength());
    long[] p = s.positionIds();
    assertEquals(lc, p.length, "lc tokens");
    assertEquals(0, p[0], "the first chunk starts at position 0");
    for (int i = 1; i < p.length; i++) {
      assertTrue(p[i] > p[i - 1], "positions strictly increase: " + s);
    }
    assertTrue(p[p.length - 1] <= sampler.targetLength() - 1, "max position ≤ Lt − 1: " + s);
    int at = 0;
    int lastEnd = 0;
    for (PoseSample.Span span : s.spans()) {
      assertTrue(span.length() >= 1, "no empty chunk: " + s);
      assertTrue(span.start() >= lastEnd && span.end() <= n, "chunks in order inside the document: " + s);
      // within a chunk, positions are consecutive
      for (int t = 1; t < span.length(); t++) {
        assertEquals(p[at + t - 1] + 1, p[at + t], "consecutive positions within a chunk: " + s);
      }
      at += span.length();
      lastEnd = span.end();
    }
    assertEquals(0, s.spans().get(0).start(), "chunk 0 starts at the document's beginning");
  }

  private static void recordDistances(PoseSample s, BitSet distances) {
    long[] p = s.positionIds();
    for (int i = 0; i < p.length; i++) {
      for (int j = i; j < p.length; j++) {
        distances.set((int) (p[j] - p[i]));
      }
    }
  }
}
