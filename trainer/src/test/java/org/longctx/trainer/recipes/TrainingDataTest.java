package org.longctx.trainer.recipes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.data.DataConfig;
import org.longctx.data.tokenizer.TextTokenizer;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.trainer.TrainConfig;

class TrainingDataTest {
  @TempDir static Path dir;
  static TextTokenizer tokenizer;
  static DataConfig prepared;

  @BeforeAll
  static void setUp() throws Exception {
    tokenizer = TextTokenizer.create(TokenizerSpec.byteLevel(), true);
    Path data = RecipeFixtures.preparedDataset(dir.resolve("prepared"), RecipeFixtures.numberedDocs(30));
    prepared = DataConfig.defaults().withPaths(List.of(), "", data.toString());
  }

  @AfterAll
  static void tearDown() {
    tokenizer.close();
  }

  private static TrainConfig train(double fraction) {
    return RecipeFixtures.train("pretrain", 10, 16, "split", 0, RecipeFixtures.synthetic(fraction));
  }

  /**
   * Draws {@code n} items, saving a cursor before item {@code at}; a stream reopened from that
   * cursor must go on with exactly the items the first one drew.
   */
  private static void resumesExactly(double fraction, Function<TrainingData, int[]> draw) throws Exception {
    for (int at : new int[] {0, 1, 3, 7}) {
      List<int[]> straight = new ArrayList<>();
      JsonNode cursor = null;
      try (TrainingData d = TrainingData.open(train(fraction), prepared, tokenizer, null)) {
        for (int i = 0; i < 12; i++) {
          if (i == at) {
            cursor = d.cursor();
          }
          straight.add(draw.apply(d));
        }
      }
      try (TrainingData d = TrainingData.open(train(fraction), prepared, tokenizer, cursor)) {
        for (int i = at; i < 12; i++) {
          assertArrayEquals(straight.get(i), draw.apply(d), "fraction " + fraction + ", cursor before item " + at + ", item " + i);
        }
      }
    }
  }

  @Test
  void splitPackingResumesExactlyMidDocument() throws Exception {
    for (double fraction : new double[] {0, 0.5, 1}) {
      resumesExactly(fraction, d -> d.nextTokens(37));
    }
  }

  @Test
  void wholePackingResumesExactlyWithAWaitingDocument() throws Exception {
    for (double fraction : new double[] {0, 0.5, 1}) {
      resumesExactly(fraction, d -> d.nextWholeDocuments(120));
    }
  }

  @Test
  void documentsResumeExactly() throws Exception {
    resumesExactly(0.5, d -> d.nextDocument().tokens());
  }

  @Test
  void splitPackingLaysDocumentsEndToEnd() throws Exception {
    // every row of 37 tokens continues the previous one, so the rows joined are whole documents
    try (TrainingData d = TrainingData.open(train(0), prepared, tokenizer, null)) {
      List<Integer> stream = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        for (int t : d.nextTokens(37)) {
          stream.add(t);
        }
      }
      // cut the stream at BOS tokens: each piece must be one of the prepared documents
      Set<String> docs = new HashSet<>();
      for (int[] doc : RecipeFixtures.numberedDocs(30)) {
        docs.add(java.util.Arrays.toString(doc));
      }
      int start = 0;
      int pieces = 0;
      for (int i = 1; i <= stream.size(); i++) {
        if (i == stream.size() || stream.get(i) == 256) {
          if (i < stream.size()) { // the last piece may be cut by the end of the last row
            int[] piece = stream.subList(start, i).stream().mapToInt(Integer::intValue).toArray();
            assertTrue(docs.contains(java.util.Arrays.toString(piece)), "piece " + pieces + " is not a whole document");
            pieces++;
          }
          start = i;
        }
      }
      assertTrue(pieces > 30, "the stream went through more than one epoch: " + pieces);
    }
  }

  @Test
  void wholePackingNeverCutsADocumentThatFits() throws Exception {
    try (TrainingData d = TrainingData.open(train(0), prepared, tokenizer, null)) {
      for (int i = 0; i < 30; i++) {
        int[] row = d.nextWholeDocuments(60);
        assertTrue(row.length <= 60 && row.length >= 5);
        assertEquals(256, row[0], "row " + i + " starts a document");
      }
    }
  }

  @Test
  void wholePackingKeepsEveryTokenAndNeverMakesARowWithNothingToPredict() throws Exception {
    // rows of 20: the 21-token document leaves a 1-token tail, which must not become a row alone
    List<Integer> rows = new ArrayList<>();
    List<Integer> documents = new ArrayList<>();
    try (TrainingData d = TrainingData.open(train(0), prepared, tokenizer, null);
        TrainingData same = TrainingData.open(train(0), prepared, tokenizer, null)) {
      for (int i = 0; i < 60; i++) {
        int[] row = d.nextWholeDocuments(20);
        assertTrue(row.length >= 2 && row.length <= 20, "row " + i + " has " + row.length + " tokens");
        for (int t : row) {
          rows.add(t);
        }
      }
      while (documents.size() < rows.size()) {
        for (int t : same.nextDocument().tokens()) {
          documents.add(t);
        }
      }
    }
    assertEquals(documents.subList(0, rows.size()), rows, "the rows joined are the documents joined");
  }

  @Test
  void theMixtureFollowsTheFractionAndSyntheticDocumentsAreTokenizedText() throws Exception {
    try (TrainingData d = TrainingData.open(train(0.5), prepared, tokenizer, null)) {
      int synthetic = 0;
      for (int i = 0; i < 400; i++) {
        TrainingData.Document doc = d.nextDocument();
        assertEquals(i, doc.index());
        if (doc.source().startsWith("synth_")) {
          synthetic++;
          int[] t = doc.tokens();
          assertEquals(256, t[0]);
          assertEquals(257, t[t.length - 1]);
          byte[] text = new byte[t.length - 2];
          for (int k = 1; k < t.length - 1; k++) {
            text[k - 1] = (byte) t[k];
          }
          String s = new String(text, StandardCharsets.US_ASCII);
          assertTrue(doc.source().equals("synth_passkey") ? s.contains("What is the pass key?") : s.startsWith("Record 1: "), s);
          assertTrue(s.length() >= 64, s);
        } else {
          assertEquals("prepared_src", doc.source());
        }
      }
      assertTrue(synthetic > 160 && synthetic < 240, "about half synthetic, got " + synthetic + " of 400");
      assertTrue(d.taskShares().equals(Map.of("dependent", 0.5, "passkey", 0.5)), d.taskShares().toString());
    }
  }

  @Test
  void aRunNeverSeesTheSamplesOfAnEvaluationSeed() throws Exception {
    // evaluations use small seeds; training draws its synthetic documents under a derived seed
    TrainConfig t = new TrainConfig("pretrain", 10, 1e-3, 0, 1, 1, 16, "split", "cosine", 0, 0, 0, 0.9, 0.95, 1e-8, 1,
        0, 1, 1, false, "float32", 1, new TrainConfig.Synthetic(1.0, Map.of("passkey", 1.0), 300, 300, 5));
    try (TrainingData d = TrainingData.open(t, DataConfig.defaults(), tokenizer, null)) {
      String key = org.longctx.data.synth.SynthTasks.passkey(0, 0, 300, 5, 0.5).meta().get("answer").toString();
      int[] doc = d.nextDocument().tokens();
      StringBuilder text = new StringBuilder();
      for (int x : doc) {
        if (x < 256) {
          text.append((char) x);
        }
      }
      assertTrue(text.toString().contains("pass key"));
      assertTrue(!text.toString().contains(key), "training document 0 must not carry the evaluation key " + key);
    }
  }

  @Test
  void ranksSplitThePreparedRowsWithNoOverlapAndNoGap() throws Exception {
    // 30 rows, 4 ranks: ranks 0 and 1 take 8 rows of the epoch, ranks 2 and 3 take 7
    Set<String> all = new HashSet<>();
    for (int[] doc : RecipeFixtures.numberedDocs(30)) {
      all.add(java.util.Arrays.toString(doc));
    }
    for (int world : new int[] {1, 2, 3, 4}) {
      List<String> seen = new ArrayList<>();
      for (int rank = 0; rank < world; rank++) {
        int share = 30 / world + (rank < 30 % world ? 1 : 0);
        try (TrainingData d = TrainingData.open(train(0), prepared, tokenizer, null, rank, world)) {
          for (int k = 0; k < share; k++) {
            TrainingData.Document doc = d.nextDocument();
            assertEquals(rank + (long) k * world, doc.index(), "rank " + rank + " of " + world + " draws documents r, r + N, ...");
            seen.add(java.util.Arrays.toString(doc.tokens()));
          }
        }
      }
      assertEquals(30, seen.size());
      assertEquals(all, new HashSet<>(seen), world + " ranks: every prepared row exactly once per epoch");
      assertEquals(30, new HashSet<>(seen).size(), world + " ranks: no row twice in the epoch");
    }
  }

  @Test
  void ranksSplitAMixtureAndEachSyntheticDocumentIsTheSingleProcessOne() throws Exception {
    int world = 3;
    List<TrainingData.Document> single = new ArrayList<>();
    try (TrainingData d = TrainingData.open(train(1.0), prepared, tokenizer, null)) {
      for (int i = 0; i < 30; i++) {
        single.add(d.nextDocument());
      }
    }
    Set<Long> indices = new HashSet<>();
    Set<String> preparedRows = new HashSet<>();
    int preparedCount = 0;
    for (int rank = 0; rank < world; rank++) {
      try (TrainingData synthetic = TrainingData.open(train(1.0), prepared, tokenizer, null, rank, world);
          TrainingData mixed = TrainingData.open(train(0.5), prepared, tokenizer, null, rank, world)) {
        for (int k = 0; k < 10; k++) {
          TrainingData.Document doc = synthetic.nextDocument();
          assertArrayEquals(single.get((int) doc.index()).tokens(), doc.tokens(), "synthetic document " + doc.index());
          TrainingData.Document m = mixed.nextDocument();
          assertTrue(indices.add(m.index()), "document " + m.index() + " drawn twice");
          if (!m.source().startsWith("synth_")) {
            preparedCount++;
            preparedRows.add(java.util.Arrays.toString(m.tokens()));
          }
        }
      }
    }
    assertEquals(30, indices.size());
    assertTrue(indices.stream().allMatch(i -> i >= 0 && i < 30), indices.toString());
    assertEquals(preparedCount, preparedRows.size(), "no prepared row twice across the ranks");
  }

  @Test
  void eachRanksCursorResumesItsShardExactly() throws Exception {
    int world = 3;
    List<JsonNode> cursors = new ArrayList<>();
    List<List<int[]>> after = new ArrayList<>();
    for (int rank = 0; rank < world; rank++) {
      try (TrainingData d = TrainingData.open(train(0.5), prepared, tokenizer, null, rank, world)) {
        for (int i = 0; i < 5 + rank; i++) {
          d.nextTokens(37);
        }
        cursors.add(d.cursor());
        List<int[]> rows = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
          rows.add(d.nextTokens(37));
        }
        after.add(rows);
      }
    }
    JsonNode saved = TrainingData.combine(cursors);
    for (int rank = 0; rank < world; rank++) {
      try (TrainingData d = TrainingData.open(train(0.5), prepared, tokenizer, TrainingData.forRank(saved, rank, world), rank, world)) {
        for (int i = 0; i < 6; i++) {
          assertArrayEquals(after.get(rank).get(i), d.nextTokens(37), "rank " + rank + ", row " + i + " after the resume");
        }
      }
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainingData.forRank(saved, 0, 2));
    assertTrue(e.getMessage().contains("distributed.workers: 3"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> TrainingData.forRank(cursors.get(0), 0, 2));
    assertTrue(e.getMessage().contains("1 replica"), e.getMessage());
    // rank 1's cursor opened as rank 0 names the mismatch instead of drawing another shard
    e = assertThrows(IllegalArgumentException.class, () -> TrainingData.open(train(0.5), prepared, tokenizer, cursors.get(1), 0, world));
    assertTrue(e.getMessage().contains("not in the shard of rank 0"), e.getMessage());
  }

  @Test
  void missingInputsAreNamed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingData.open(train(0.5), DataConfig.defaults(), tokenizer, null));
    assertTrue(e.getMessage().contains("data.prepared"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> TrainingData.open(train(1.0), DataConfig.defaults(), null, null));
    assertTrue(e.getMessage().contains("tokenizer"), e.getMessage());
  }
}
