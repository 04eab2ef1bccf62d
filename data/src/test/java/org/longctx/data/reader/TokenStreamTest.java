package org.longctx.data.reader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.data.DataConfig;
import org.longctx.data.DataConfig.Layout;
import org.longctx.data.io.ShardFormat;
import org.longctx.data.io.ShardWriter;
import org.longctx.data.prepare.PartResult;
import org.longctx.data.prepare.PartStats;
import org.longctx.data.prepare.PartTask;
import org.longctx.data.prepare.PrepareManifest;
import org.longctx.data.tokenizer.TokenizerSpec;

class TokenStreamTest {
  /** Rows per part: uneven on purpose, with an empty part in the middle. */
  private static final int[] PART_ROWS = {7, 0, 12, 4};
  private static final int ROWS = 23;

  @TempDir
  static Path dir;
  static List<int[]> written = new ArrayList<>();

  /** Row r holds tokens {r, r+1, ..., r + r % 5}: its content names it. */
  static int[] tokensOf(int r) {
    int[] t = new int[1 + r % 5];
    for (int i = 0; i < t.length; i++) {
      t[i] = r + i;
    }
    return t;
  }

  /** Writes a finished output by hand: shards, a manifest as the job writes it, _SUCCESS. */
  @BeforeAll
  static void writeDataset() throws IOException {
    List<PartResult> parts = new ArrayList<>();
    int r = 0;
    for (int p = 0; p < PART_ROWS.length; p++) {
      String name = ShardFormat.partName(p);
      PartStats stats = new PartStats();
      try (ShardWriter w = new ShardWriter(FileChannel.open(dir.resolve(name), StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE), Layout.DOCUMENTS, "sha")) {
        for (int i = 0; i < PART_ROWS[p]; i++, r++) {
          int[] t = tokensOf(r);
          written.add(t);
          w.addDocument("doc" + r, "s", "in:" + r, t, t.length);
        }
        stats.rows = w.rows();
        stats.rowTokens = w.tokens();
      }
      parts.add(new PartResult(new PartTask(p, "in" + p, 0), name, "", stats));
    }
    Files.write(dir.resolve("manifest.json"),
        PrepareManifest.toBytes(PrepareManifest.build(DataConfig.defaults(), TokenizerSpec.byteLevel(), parts)));
    Files.createFile(dir.resolve("_SUCCESS"));
  }

  private static List<Sample> take(TokenStream s, int n) {
    List<Sample> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(s.next());
    }
    return out;
  }

  @Test
  void inStoredOrderTheStreamIsTheDataRowByRow() throws IOException {
    try (PreparedDataset data = PreparedDataset.open(dir.toString())) {
      assertEquals(ROWS, data.rows());
      TokenStream s = new TokenStream(data, 0, 1, DataCursor.start(data, 0, false));
      List<Sample> two = take(s, 2 * ROWS);
      for (int i = 0; i < two.size(); i++) {
        Sample x = two.get(i);
        assertEquals(i % ROWS, x.row());
        assertEquals(i / ROWS, x.epoch());
        assertEquals("doc" + (i % ROWS), x.id());
        assertArrayEquals(written.get(i % ROWS), x.tokens());
      }
    }
  }

  @Test
  void eachShuffledEpochShowsEveryRowOnceAcrossRanks() throws IOException {
    try (PreparedDataset data = PreparedDataset.open(dir.toString())) {
      int world = 3;
      List<TokenStream> ranks = new ArrayList<>();
      for (int r = 0; r < world; r++) {
        ranks.add(new TokenStream(data, r, world, DataCursor.start(data, 1234, true)));
      }
      List<Sample> all = new ArrayList<>();
      int steps = 4 * ROWS / world + 1;
      for (int step = 0; step < steps; step++) {
        for (TokenStream s : ranks) {
          all.add(s.next());
        }
      }
      all.sort((a, b) -> Long.compare(a.position(), b.position()));
      for (int i = 0; i < all.size(); i++) {
        assertEquals(i, all.get(i).position(), "positions are consecutive: no gap, no repeat");
        assertArrayEquals(written.get((int) all.get(i).row()), all.get(i).tokens());
      }
      List<Long> epoch0 = new ArrayList<>();
      List<Long> epoch1 = new ArrayList<>();
      for (Sample x : all) {
        if (x.epoch() == 0) {
          epoch0.add(x.row());
        } else if (x.epoch() == 1) {
          epoch1.add(x.row());
        }
      }
      assertEquals(ROWS, new HashSet<>(epoch0).size());
      assertEquals(ROWS, epoch0.size());
      assertEquals(new HashSet<>(epoch0), new HashSet<>(epoch1));
      assertNotEquals(epoch0, epoch1, "each epoch has its own order");
      List<Long> stored = new ArrayList<>();
      for (long i = 0; i < ROWS; i++) {
        stored.add(i);
      }
      assertNotEquals(stored, epoch0, "shuffled");
      assertEquals(ranks.get(0).cursor(), ranks.get(2).cursor(), "ranks in lockstep share one cursor");
    }
  }

  @Test
  void resumingFromASavedCursorContinuesExactlyEvenWithAnotherWorldSize() throws Exception {
    ObjectMapper json = new ObjectMapper();
    try (PreparedDataset data = PreparedDataset.open(dir.toString())) {
      // reference: one rank, never interrupted
      TokenStream reference = new TokenStream(data, 0, 1, DataCursor.start(data, 99, true));
      List<Long> expected = new ArrayList<>();
      for (Sample x : take(reference, 3 * ROWS)) {
        expected.add(x.row());
      }
      // two ranks run 10 steps, checkpoint (cursor through JSON), then four ranks resume
      List<TokenStream> two = List.of(new TokenStream(data, 0, 2, DataCursor.start(data, 99, true)),
          new TokenStream(data, 1, 2, DataCursor.start(data, 99, true)));
      List<Sample> seen = new ArrayList<>();
      for (int step = 0; step < 10; step++) {
        for (TokenStream s : two) {
          seen.add(s.next());
        }
      }
      String saved = json.writeValueAsString(two.get(0).cursor());
      DataCursor restored = json.readValue(saved, DataCursor.class);
      assertEquals(two.get(1).cursor(), restored);
      List<TokenStream> four = new ArrayList<>();
      for (int r = 0; r < 4; r++) {
        four.add(new TokenStream(data, r, 4, restored));
      }
      for (int step = 0; step < 7; step++) {
        for (TokenStream s : four) {
          seen.add(s.next());
        }
      }
      seen.sort((a, b) -> Long.compare(a.position(), b.position()));
      List<Long> got = new ArrayList<>();
      for (int i = 0; i < seen.size(); i++) {
        assertEquals(i, seen.get(i).position());
        got.add(seen.get(i).row());
      }
      assertEquals(expected.subList(0, got.size()), got);
    }
  }

  @Test
  void aCursorFromOtherDataIsRefused() throws IOException {
    try (PreparedDataset data = PreparedDataset.open(dir.toString())) {
      DataCursor other = new DataCursor("0123456789abcdef", ROWS, 1, true, 5);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TokenStream(data, 0, 1, other));
      assertTrue(e.getMessage().contains("0123456789abcdef"), e.getMessage());
    }
  }

  @Test
  void anUnfinishedOutputIsNotOpened(@TempDir Path empty) throws IOException {
    Files.writeString(empty.resolve("manifest.json"), "{}");
    IOException e = assertThrows(IOException.class, () -> PreparedDataset.open(empty.toString()));
    assertTrue(e.getMessage().contains("_SUCCESS"));
  }
}
