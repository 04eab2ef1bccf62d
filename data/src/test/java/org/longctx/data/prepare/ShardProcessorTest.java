package org.longctx.data.prepare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.data.DataConfig;
import org.longctx.data.DataConfig.Layout;
import org.longctx.data.io.ShardReader;
import org.longctx.data.io.ShardWriter;
import org.longctx.data.synth.DamagedCorpus;
import org.longctx.data.synth.DamagedCorpus.Planted;
import org.longctx.data.tokenizer.ByteLevelTokenizer;
import org.longctx.data.tokenizer.TextTokenizer;
import org.longctx.data.tokenizer.TokenizerSpec;

class ShardProcessorTest {
  private static final int MAX_LINE = 65536;
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path corpus;
  static List<Planted> planted;

  @TempDir
  Path out;

  @BeforeAll
  static void writeCorpus() throws IOException {
    planted = DamagedCorpus.write(corpus, 11, MAX_LINE);
  }

  private static DataConfig config(Layout layout, int seqLen) {
    DataConfig d = DataConfig.defaults();
    return new DataConfig(List.of(), "", "", layout, "text", d.sourceFields(), List.of(), List.of("Wikipedia (en)"),
        false, 64, 30_000, 0, true, true, "", "", true, seqLen, MAX_LINE);
  }

  /** Runs the processor over every corpus file as the job would, one shard per file. */
  private Map<String, PartStats> runAll(DataConfig config, Map<String, String> rejectsOut) throws IOException {
    Map<String, PartStats> stats = new TreeMap<>();
    try (TextTokenizer tokenizer = TextTokenizer.create(TokenizerSpec.byteLevel(), true)) {
      for (String file : DamagedCorpus.FILES) {
        ByteArrayOutputStream rejects = new ByteArrayOutputStream();
        Path shard = out.resolve(file + ".arrow");
        try (InputStream in = Files.newInputStream(corpus.resolve(file));
            ShardWriter w = new ShardWriter(FileChannel.open(shard, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                config.layout(), "t");
            RejectSink sink = new RejectSink(() -> rejects)) {
          stats.put(file, new ShardProcessor(config, tokenizer).process(file, in, w, sink, ShardProcessor.Duplicates.none()));
        }
        rejectsOut.put(file, rejects.toString(StandardCharsets.UTF_8));
      }
    }
    return stats;
  }

  private static int[] expectedTokens(String text) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    int[] t = new int[b.length + 2];
    t[0] = ByteLevelTokenizer.BOS_ID;
    for (int i = 0; i < b.length; i++) {
      t[i + 1] = b[i] & 0xFF;
    }
    t[t.length - 1] = ByteLevelTokenizer.EOS_ID;
    return t;
  }

  @Test
  void everyRecordIsKeptOrCountedAndBadOnesAreLocated() throws Exception {
    DataConfig config = config(Layout.DOCUMENTS, 4096);
    Map<String, String> rejects = new TreeMap<>();
    Map<String, PartStats> perFile = runAll(config, rejects);
    PartStats total = new PartStats();
    perFile.values().forEach(total::merge);
    DamagedCorpus.Expected expected = DamagedCorpus.expect(planted, config);

    assertEquals(expected.recordsIn(), total.recordsIn);
    assertEquals(total.recordsIn, total.kept + total.rejectedTotal(), "in = kept + rejected");
    Map<String, Long> got = new TreeMap<>();
    for (Reason r : Reason.values()) {
      if (total.rejected(r) > 0) {
        got.put(r.key(), total.rejected(r));
      }
    }
    assertEquals(expected.rejected(), got);
    assertEquals(expected.kept().size(), total.kept);
    // the corpus really exercises every kind of bad input
    for (String reason : List.of("line_too_long", "blank_line", "truncated_archive", "corrupt_archive", "invalid_utf8",
        "malformed_json", "missing_text", "text_not_string", "empty_text", "too_short", "too_long", "source_denied")) {
      assertTrue(got.getOrDefault(reason, 0L) > 0, reason + " not exercised: " + got);
    }
    for (PartStats.SourceStats s : total.sources.values()) {
      long rejected = 0;
      for (long r : s.rejected) {
        rejected += r;
      }
      assertEquals(s.in, s.kept + rejected);
    }

    // kept documents: tokens, ids and origins, in input order
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    int k = 0;
    for (String file : DamagedCorpus.FILES) {
      try (ShardReader r = new ShardReader(FileChannel.open(out.resolve(file + ".arrow")))) {
        for (long row = 0; row < r.rowCount(); row++, k++) {
          Planted p = expected.kept().get(k);
          ShardReader.Row doc = r.row(row);
          assertEquals(p.file() + ":" + p.line(), doc.origin());
          assertEquals(p.source(), doc.source());
          assertEquals(HexFormat.of().formatHex(sha.digest(p.text().getBytes(StandardCharsets.UTF_8)), 0, 16), doc.id());
          assertArrayEquals(expectedTokens(p.text()), doc.tokens(), doc.origin());
        }
      }
    }
    assertEquals(expected.kept().size(), k);

    // bad input: one reject line per bad record, with file, line and reason
    List<String> wanted = new ArrayList<>();
    for (Planted p : planted) {
      if (p.kind() != DamagedCorpus.Kind.DOCUMENT) {
        wanted.add(p.file() + ":" + p.line() + ":" + p.kind().name().toLowerCase());
      }
    }
    List<String> found = new ArrayList<>();
    for (String text : rejects.values()) {
      for (String line : text.split("\n")) {
        if (!line.isEmpty()) {
          JsonNode n = JSON.readTree(line);
          found.add(n.get("file").asText() + ":" + n.get("line").asLong() + ":" + n.get("reason").asText());
          assertTrue(n.has("head") && n.has("head_base64") && n.has("detail") && n.has("bytes"), line);
        }
      }
    }
    assertEquals(wanted, found);
  }

  @Test
  void packedRowsAreTheKeptDocumentsConcatenated() throws Exception {
    int seqLen = 1000;
    DataConfig config = config(Layout.PACKED, seqLen);
    Map<String, PartStats> perFile = runAll(config, new TreeMap<>());
    DamagedCorpus.Expected expected = DamagedCorpus.expect(planted, config);
    int k = 0;
    for (String file : DamagedCorpus.FILES) {
      // the documents this file kept, joined: what its rows must hold
      List<Integer> stream = new ArrayList<>();
      List<Integer> starts = new ArrayList<>();
      while (k < expected.kept().size() && expected.kept().get(k).file().equals(file)) {
        starts.add(stream.size());
        for (int t : expectedTokens(expected.kept().get(k++).text())) {
          stream.add(t);
        }
      }
      PartStats stats = perFile.get(file);
      try (ShardReader r = new ShardReader(FileChannel.open(out.resolve(file + ".arrow")))) {
        assertEquals(stream.size() / seqLen, r.rowCount(), file);
        assertEquals(stream.size() % seqLen, stats.packedTailTokens, file);
        for (int row = 0; row < r.rowCount(); row++) {
          ShardReader.Row got = r.row(row);
          int[] want = stream.subList(row * seqLen, (row + 1) * seqLen).stream().mapToInt(Integer::intValue).toArray();
          assertArrayEquals(want, got.tokens());
          int base = row * seqLen;
          int[] wantStarts = starts.stream().filter(s -> s >= base && s < base + seqLen).mapToInt(s -> s - base).toArray();
          assertArrayEquals(wantStarts, got.docStarts(), file + " row " + row);
        }
      }
    }
  }

  @Test
  void duplicatesAndTruncation() throws Exception {
    DataConfig d = DataConfig.defaults();
    DataConfig config = new DataConfig(List.of(), "", "", Layout.DOCUMENTS, "text", d.sourceFields(), List.of(), List.of(),
        true, 0, 0, 100, true, true, "", "", true, 4096, MAX_LINE);
    ByteArrayOutputStream rejects = new ByteArrayOutputStream();
    Path shard = out.resolve("dups.arrow");
    String file = DamagedCorpus.FILES.get(0);
    PartStats stats;
    try (TextTokenizer tokenizer = TextTokenizer.create(TokenizerSpec.byteLevel(), true);
        InputStream in = Files.newInputStream(corpus.resolve(file));
        ShardWriter w = new ShardWriter(FileChannel.open(shard, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
            Layout.DOCUMENTS, "t");
        RejectSink sink = new RejectSink(() -> rejects)) {
      stats = new ShardProcessor(config, tokenizer).process(file, in, w, sink, ShardProcessor.Duplicates.sorted(new long[] {1, 4}));
    }
    assertEquals(2, stats.rejected(Reason.DUPLICATE));
    try (ShardReader r = new ShardReader(FileChannel.open(shard))) {
      for (long row = 0; row < r.rowCount(); row++) {
        int[] t = r.row(row).tokens();
        assertTrue(t.length <= 100);
        assertEquals(ByteLevelTokenizer.BOS_ID, t[0]);
        assertEquals(ByteLevelTokenizer.EOS_ID, t[t.length - 1]);
        assertTrue(!r.row(row).origin().endsWith(":1") && !r.row(row).origin().endsWith(":4"));
      }
      assertEquals(stats.kept, r.rowCount());
    }
    assertTrue(stats.truncatedDocuments > 0);
  }
}
