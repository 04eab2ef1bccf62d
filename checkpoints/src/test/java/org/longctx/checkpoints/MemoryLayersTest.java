package org.longctx.checkpoints;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MemoryLayersTest {

  private static int[][] pieces(MemoryLayers m, int length, int window) {
    return m.inputPieces(length, window).toArray(new int[0][]);
  }

  @Test
  void theMethodsHandCheck() {
    // n = 5000, lctx = 2048, last 1024: memory windows [0, 2048), [2048, 3976), local [3976, 5000)
    assertArrayEquals(new int[][] {{0, 2048}, {2048, 3976}, {3976, 5000}}, pieces(MemoryLayers.of(List.of(6), 1024), 5000, 2048));
  }

  @Test
  void shortInputsAreAllLocal() {
    MemoryLayers m = MemoryLayers.of(List.of(1), 8);
    assertArrayEquals(new int[][] {{0, 8}}, pieces(m, 8, 16));
    assertArrayEquals(new int[][] {{0, 5}}, pieces(m, 5, 16));
    assertArrayEquals(new int[][] {{0, 1}, {1, 9}}, pieces(m, 9, 16), "one token to memory");
    assertArrayEquals(new int[][] {{0, 16}, {16, 32}, {32, 40}}, pieces(m, 40, 16));
  }

  @Test
  void groupingBoundsQueriesPerChunk() {
    assertEquals(0, MemoryLayers.of(List.of(0), 8).queriesPerChunk(4));
    assertEquals(4, new MemoryLayers(List.of(0), 8, 2, 8, "bfloat16").queriesPerChunk(4), "2 heads × 8 queries = 16 rows = 4 queries of 4 heads");
    assertEquals(1, new MemoryLayers(List.of(0), 8, 1, 1, "bfloat16").queriesPerChunk(32), "at least one query");
  }

  @Test
  void badKeysAreNamed() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> MemoryLayers.of(List.of(), 8)).getMessage().startsWith("mem_layers"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> MemoryLayers.of(List.of(1, 1), 8)).getMessage().startsWith("mem_layers"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> MemoryLayers.of(List.of(1), 0)).getMessage()
        .startsWith("last_context_length"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new MemoryLayers(List.of(1), 8, 2, 0, "bfloat16")).getMessage()
        .startsWith("mem_attention_grouping"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new MemoryLayers(List.of(1), 8, 0, 0, "int8")).getMessage()
        .startsWith("mem_dtype"));
    assertEquals(List.of(1, 3), MemoryLayers.of(List.of(3, 1), 8).layers(), "sorted");
  }
}
