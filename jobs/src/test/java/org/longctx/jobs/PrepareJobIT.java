package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.data.reader.DataCursor;
import org.longctx.data.reader.PreparedDataset;
import org.longctx.data.reader.Sample;
import org.longctx.data.reader.TokenStream;
import org.longctx.data.tokenizer.ByteLevelTokenizer;

/** {@code longctx prepare} on the embedded local Spark over a mixed corpus with every kind of bad record. */
@Tag("integration")
class PrepareJobIT {

  private static int run(String... argv) {
    return Cli.run(argv, System.out, System.err);
  }

  @Test
  void preparesTheDamagedCorpusReproduciblyAndRefusesToOverwrite(@TempDir Path dir) throws Exception {
    PrepareCorpus corpus = new PrepareCorpus(dir);
    Path out = dir.resolve("prepared");
    Path yaml = corpus.yaml(out, "documents", "local[2]");

    assertEquals(0, run("prepare", "--config", yaml.toString()));
    corpus.checkDocumentsOutput(out);
    Map<String, byte[]> first = PrepareCorpus.files(out);
    assertTrue(first.keySet().stream().anyMatch(n -> n.startsWith("rejects/")), first.keySet().toString());
    try (Stream<Path> siblings = Files.list(dir)) {
      assertTrue(siblings.noneMatch(p -> p.getFileName().toString().contains("._tmp-")), "temporary output left behind");
    }

    // an existing output is refused, and left as it was
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int refused = Cli.run(new String[] {"prepare", "--config", yaml.toString()}, System.out,
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(2, refused);
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("--overwrite"), err.toString(StandardCharsets.UTF_8));
    assertEquals(first.keySet(), PrepareCorpus.files(out).keySet());

    // with --overwrite the same input gives byte-identical files
    assertEquals(0, run("prepare", "--config", yaml.toString(), "--overwrite"));
    Map<String, byte[]> second = PrepareCorpus.files(out);
    assertEquals(first.keySet(), second.keySet());
    for (String name : first.keySet()) {
      assertArrayEquals(first.get(name), second.get(name), name + " differs between runs");
    }
  }

  /**
   * What a prepare killed at each stage leaves: its temporary folder (killed while writing),
   * an output without _SUCCESS (killed between the rename and _SUCCESS), a moved-aside old
   * output (killed before deleting it). The next run names the incomplete output, and a run
   * with --overwrite removes all of it.
   */
  @Test
  void leftoversOfAKilledRunAreNamedAndRemoved(@TempDir Path dir) throws Exception {
    PrepareCorpus corpus = new PrepareCorpus(dir);
    Path out = dir.resolve("prepared");
    Path yaml = corpus.yaml(out, "documents", "local[2]");
    Path temp = dir.resolve("prepared._tmp-0b5e4c1e-killed");
    Files.createDirectories(temp.resolve("rejects"));
    Files.writeString(temp.resolve("part-00000.arrow"), "half a shard");
    Path old = dir.resolve("prepared._old-7d1f-killed");
    Files.createDirectories(old);
    Files.createDirectories(out);
    Files.writeString(out.resolve("manifest.json"), "{}");
    Path unrelated = dir.resolve("prepared-other._tmp-1234");
    Files.createDirectories(unrelated);

    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int refused = Cli.run(new String[] {"prepare", "--config", yaml.toString()}, System.out,
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(2, refused);
    String message = err.toString(StandardCharsets.UTF_8);
    assertTrue(message.contains(out + " exists but has no _SUCCESS: an incomplete prepare run")
        && message.contains("pass --overwrite"), message);

    assertEquals(0, run("prepare", "--config", yaml.toString(), "--overwrite"));
    corpus.checkDocumentsOutput(out);
    assertTrue(Files.exists(out.resolve("_SUCCESS")));
    try (Stream<Path> siblings = Files.list(dir)) {
      List<String> names = siblings.map(p -> p.getFileName().toString()).sorted().toList();
      assertTrue(names.stream().noneMatch(n -> n.startsWith("prepared._tmp-") || n.startsWith("prepared._old-")), names.toString());
      assertTrue(names.contains("prepared-other._tmp-1234"), "another output's folder is left alone: " + names);
    }
  }

  @Test
  void packedLayoutFillsRowsWithTheKeptDocuments(@TempDir Path dir) throws Exception {
    PrepareCorpus corpus = new PrepareCorpus(dir);
    Path out = dir.resolve("packed");
    assertEquals(0, run("prepare", "--config", corpus.yaml(out, "packed", "local[2]").toString()));
    JsonNode manifest = PrepareCorpus.JSON.readTree(out.resolve("manifest.json").toFile());
    long rows = manifest.get("output").get("rows").asLong();
    long tokensKept = manifest.get("counts").get("tokens_kept").asLong();
    long tail = manifest.get("counts").get("packed_tail_tokens").asLong();
    assertEquals(tokensKept - tail, rows * 512, "every kept token is in a row but the per-part tails");
    try (PreparedDataset data = PreparedDataset.open(out.toString())) {
      assertEquals(rows, data.rows());
      TokenStream stream = new TokenStream(data, 0, 1, DataCursor.start(data, 3, true));
      long eos = 0;
      for (long i = 0; i < rows; i++) {
        Sample s = stream.next();
        assertEquals(512, s.tokens().length);
        for (int start : s.docStarts()) {
          assertTrue(start == 0 || s.tokens()[start - 1] == ByteLevelTokenizer.EOS_ID, "a document starts after an EOS");
          assertEquals(ByteLevelTokenizer.BOS_ID, s.tokens()[start]);
        }
        for (int t : s.tokens()) {
          eos += t == ByteLevelTokenizer.EOS_ID ? 1 : 0;
        }
      }
      assertTrue(eos > 0);
    }
  }
}
