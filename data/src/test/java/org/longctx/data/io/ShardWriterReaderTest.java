package org.longctx.data.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.data.DataConfig.Layout;

class ShardWriterReaderTest {
  @TempDir
  Path dir;

  private static FileChannel create(Path p) throws IOException {
    return FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
  }

  @Test
  void documentsRoundTripAcrossManyBatches() throws IOException {
    SplittableRandom random = new SplittableRandom(1);
    List<int[]> docs = new ArrayList<>();
    for (int i = 0; i < 2500; i++) {
      // mostly short documents, some long enough to close a batch on tokens
      int[] t = new int[i % 500 == 7 ? 300_000 : random.nextInt(0, 400)];
      for (int k = 0; k < t.length; k++) {
        t[k] = random.nextInt(Integer.MIN_VALUE, Integer.MAX_VALUE);
      }
      docs.add(t);
    }
    Path file = dir.resolve(ShardFormat.partName(3));
    long tokens = 0;
    try (ShardWriter w = new ShardWriter(create(file), Layout.DOCUMENTS, "abc")) {
      for (int i = 0; i < docs.size(); i++) {
        int[] padded = java.util.Arrays.copyOf(docs.get(i), docs.get(i).length + 5); // only [0, length) is written
        w.addDocument("id" + i, i % 2 == 0 ? "Pile-CC" : "ünï", "f.jsonl:" + (i + 1), padded, docs.get(i).length);
        tokens += docs.get(i).length;
      }
      assertEquals(tokens, w.tokens());
    }
    assertEquals("part-00003.arrow", file.getFileName().toString());
    try (ShardReader r = new ShardReader(FileChannel.open(file))) {
      assertEquals(Layout.DOCUMENTS, r.layout());
      assertEquals("abc", r.tokenizerSha256());
      assertEquals(docs.size(), r.rowCount());
      assertEquals(true, r.batchRowCounts().length > 3);
      // out of order on purpose: batches are loaded on demand
      for (int i : new int[] {2499, 0, 7, 1234, 1, 507, 2498}) {
        ShardReader.Row row = r.row(i);
        assertEquals("id" + i, row.id());
        assertEquals(i % 2 == 0 ? "Pile-CC" : "ünï", row.source());
        assertEquals("f.jsonl:" + (i + 1), row.origin());
        assertArrayEquals(docs.get(i), row.tokens(), "row " + i);
      }
      for (int i = 0; i < docs.size(); i++) {
        assertArrayEquals(docs.get(i), r.row(i).tokens(), "row " + i);
      }
    }
  }

  @Test
  void packedRowsAndEmptyShards() throws IOException {
    Path file = dir.resolve("packed.arrow");
    try (ShardWriter w = new ShardWriter(create(file), Layout.PACKED, "x")) {
      w.addSequence(new int[] {1, 2, 3, 4}, 4, new int[] {0, 2, 99}, 2);
      w.addSequence(new int[] {5, 6, 7, 8}, 4, new int[0], 0);
    }
    try (ShardReader r = new ShardReader(FileChannel.open(file))) {
      assertEquals(Layout.PACKED, r.layout());
      assertEquals(2, r.rowCount());
      assertArrayEquals(new int[] {1, 2, 3, 4}, r.row(0).tokens());
      assertArrayEquals(new int[] {0, 2}, r.row(0).docStarts());
      assertArrayEquals(new int[] {5, 6, 7, 8}, r.row(1).tokens());
      assertArrayEquals(new int[0], r.row(1).docStarts());
    }
    Path empty = dir.resolve("empty.arrow");
    new ShardWriter(create(empty), Layout.DOCUMENTS, "x").close();
    try (ShardReader r = new ShardReader(FileChannel.open(empty))) {
      assertEquals(0, r.rowCount());
    }
  }

  @Test
  void sameRowsGiveIdenticalBytes() throws IOException {
    Path a = dir.resolve("a.arrow");
    Path b = dir.resolve("b.arrow");
    for (Path p : new Path[] {a, b}) {
      try (ShardWriter w = new ShardWriter(create(p), Layout.DOCUMENTS, "fp")) {
        for (int i = 0; i < 3000; i++) {
          w.addDocument("d" + i, "s", "o", new int[] {i, i + 1, i + 2}, 1 + i % 3);
        }
      }
    }
    assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
  }
}
