package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.longctx.data.DataConfig;
import org.longctx.data.reader.DataCursor;
import org.longctx.data.reader.PreparedDataset;
import org.longctx.data.reader.Sample;
import org.longctx.data.reader.TokenStream;
import org.longctx.data.synth.DamagedCorpus;
import org.longctx.data.tokenizer.ByteLevelTokenizer;

/**
 * The mixed, damaged Pile/RedPajama corpus the prepare integration tests run on, the config
 * they use, and the checks of a finished output against what the corpus planted.
 */
final class PrepareCorpus {
  static final int MAX_LINE_BYTES = 65536;
  static final ObjectMapper JSON = new ObjectMapper();

  final Path dir;
  final Path corpus;
  final Path tokenizer;
  final List<DamagedCorpus.Planted> planted;

  PrepareCorpus(Path dir) throws IOException {
    this.dir = dir;
    this.corpus = dir.resolve("corpus");
    this.planted = DamagedCorpus.write(corpus, 5, MAX_LINE_BYTES);
    this.tokenizer = ByteLevelTokenizer.writeTo(dir.resolve("tokenizer")).getParent();
  }

  /** The data section the tests prepare with: every filter active. */
  DataConfig config(Path out, String layout) {
    DataConfig d = DataConfig.defaults();
    return new DataConfig(List.of(corpus + "/*"), tokenizer.toString(), out.toString(),
        DataConfig.Layout.valueOf(layout.toUpperCase()), "text", d.sourceFields(), List.of(), List.of("Wikipedia (en)"),
        true, 64, 30_000, 0, true, true, "", "", true, 512, MAX_LINE_BYTES);
  }

  /** A YAML file for {@code longctx prepare} with that data section. */
  Path yaml(Path out, String layout, String master) throws IOException {
    String text = "# bin/longctx prepare --config test.yaml\n"
        + "name: prepare-it\n"
        + "spark:\n  master: " + master + "\n  spark.ui.enabled: false\n  spark.driver.memory: 1g\n"
        + "data:\n"
        + "  inputs: ['" + corpus + "/*']\n"
        + "  tokenizer: '" + tokenizer + "'\n"
        + "  prepared: '" + out + "'\n"
        + "  layout: " + layout + "\n"
        + "  deny_sources: ['Wikipedia (en)']\n"
        + "  min_tokens: 64\n  max_tokens: 30000\n  seq_len: 512\n"
        + "  max_line_bytes: " + MAX_LINE_BYTES + "\n";
    Path file = dir.resolve("prepare-" + layout + "-" + out.getFileName() + ".yaml");
    Files.writeString(file, text);
    return file;
  }

  /** Checks a finished {@code documents} output: counts, rejects and rows against the planted corpus. */
  void checkDocumentsOutput(Path out) throws IOException {
    DamagedCorpus.Expected expected = DamagedCorpus.expect(planted, config(out, "documents"));
    assertTrue(Files.exists(out.resolve("_SUCCESS")), "no _SUCCESS in " + out);
    JsonNode manifest = JSON.readTree(out.resolve("manifest.json").toFile());
    JsonNode counts = manifest.get("counts");

    // counts add up: in = kept + rejected per reason, and each matches what was planted
    long in = counts.get("records_in").asLong();
    long kept = counts.get("kept").asLong();
    long rejectedSum = 0;
    Map<String, Long> rejected = new TreeMap<>();
    for (Map.Entry<String, JsonNode> e : counts.get("rejected").properties()) {
      rejectedSum += e.getValue().asLong();
      if (e.getValue().asLong() > 0) {
        rejected.put(e.getKey(), e.getValue().asLong());
      }
    }
    assertEquals(expected.recordsIn(), in);
    assertEquals(in, kept + rejectedSum, "records_in = kept + rejected");
    assertEquals(expected.rejected(), rejected);
    assertEquals(expected.kept().size(), kept);
    for (String reason : List.of("truncated_archive", "corrupt_archive", "invalid_utf8", "malformed_json",
        "missing_text", "text_not_string", "empty_text", "blank_line", "line_too_long", "duplicate", "too_short",
        "too_long", "source_denied")) {
      assertTrue(rejected.containsKey(reason), "the corpus must exercise " + reason + ": " + rejected);
    }
    // the filter chain: each stage's out is the next one's in, ending at kept
    long flowing = in;
    for (JsonNode stage : manifest.get("filters")) {
      assertEquals(flowing, stage.get("in").asLong(), stage.toString());
      flowing = stage.get("out").asLong();
    }
    assertEquals(kept, flowing);
    // per source: in = kept + rejected
    for (Iterator<JsonNode> it = manifest.get("sources").elements(); it.hasNext(); ) {
      JsonNode s = it.next();
      long sum = 0;
      for (Iterator<JsonNode> r = s.get("rejected").elements(); r.hasNext(); ) {
        sum += r.next().asLong();
      }
      assertEquals(s.get("in").asLong(), s.get("kept").asLong() + sum, s.toString());
    }
    assertEquals(ByteLevelTokenizer.EOS_ID, manifest.get("tokenizer").get("eos_id").asInt());

    // rejects: every damaged record, with its file, line and reason
    List<String> wanted = new ArrayList<>();
    for (DamagedCorpus.Planted p : planted) {
      if (p.kind() != DamagedCorpus.Kind.DOCUMENT) {
        wanted.add(p.file() + ":" + p.line() + ":" + p.kind().name().toLowerCase());
      }
    }
    List<String> found = new ArrayList<>();
    try (Stream<Path> files = Files.list(out.resolve("rejects"))) {
      for (Path f : files.sorted().toList()) {
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
          JsonNode r = JSON.readTree(line);
          String file = r.get("file").asText();
          found.add(file.substring(file.lastIndexOf('/') + 1) + ":" + r.get("line").asLong() + ":" + r.get("reason").asText());
        }
      }
    }
    assertEquals(wanted, found);
    assertEquals(wanted.size(), counts.get("rejects_written").asLong());

    // the rows: exactly the kept documents, in input order, tokens = BOS + UTF-8 bytes + EOS
    try (PreparedDataset data = PreparedDataset.open(out.toString())) {
      assertEquals(expected.kept().size(), data.rows());
      TokenStream stream = new TokenStream(data, 0, 1, DataCursor.start(data, 0, false));
      for (DamagedCorpus.Planted p : expected.kept()) {
        Sample s = stream.next();
        assertEquals(p.source(), s.source());
        assertArrayEquals(byteLevelTokens(p.text()), s.tokens(), p.file() + ":" + p.line());
      }
    }
  }

  static int[] byteLevelTokens(String text) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    int[] t = new int[b.length + 2];
    t[0] = ByteLevelTokenizer.BOS_ID;
    for (int i = 0; i < b.length; i++) {
      t[i + 1] = b[i] & 0xFF;
    }
    t[t.length - 1] = ByteLevelTokenizer.EOS_ID;
    return t;
  }

  /** Every file under {@code out} (relative name → bytes), for comparing two runs. */
  static Map<String, byte[]> files(Path out) throws IOException {
    Map<String, byte[]> all = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(out)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        all.put(out.relativize(p).toString(), Files.readAllBytes(p));
      }
    }
    return all;
  }
}
