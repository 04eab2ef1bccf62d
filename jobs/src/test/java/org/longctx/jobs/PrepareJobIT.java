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
