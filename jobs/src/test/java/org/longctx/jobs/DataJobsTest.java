package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.data.io.Compression;
import org.longctx.data.synth.DamagedCorpus;
import org.longctx.data.tokenizer.ByteLevelTokenizer;
import org.longctx.data.tokenizer.TextTokenizer;
import org.longctx.data.tokenizer.TokenizerSpec;

/** The data subcommands' command lines: tokenizer, synth, prepare and bench, without starting Spark. */
class DataJobsTest {
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... argv) {
    err.reset();
    return Cli.run(argv, System.out, new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String error() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void tokenizerWritesALoadableByteLevelTokenizer(@TempDir Path dir) throws IOException {
    assertEquals(0, run("tokenizer", "byte-level", "--out", dir.toString()));
    byte[] json = Files.readAllBytes(dir.resolve("tokenizer.json"));
    TokenizerSpec spec = TokenizerSpec.of(json, Files.readAllBytes(dir.resolve("tokenizer_config.json")), "t", "", "");
    assertEquals(ByteLevelTokenizer.BOS_ID, spec.bosId());
    assertEquals(ByteLevelTokenizer.EOS_ID, spec.eosId());
    try (TextTokenizer t = TextTokenizer.create(spec, true)) {
      assertEquals("héllo 🎉", t.decode(t.encode("héllo 🎉")));
    }
    assertEquals(2, run("tokenizer", "byte-level", "--out", dir.toString()));
    assertTrue(error().contains("--overwrite"), error());
    assertEquals(2, run("tokenizer", "sentencepiece", "--out", dir.toString()));
    assertTrue(error().contains("byte-level"), error());
  }

  @Test
  void synthIsDeterministicBySeedAndWritesThePileFormat(@TempDir Path dir) throws IOException {
    Path a = dir.resolve("a.jsonl.zst");
    Path b = dir.resolve("b.jsonl.zst");
    Path c = dir.resolve("c.jsonl.zst");
    assertEquals(0, run("synth", "--task", "passkey", "--count", "6", "--length", "300,600", "--seed", "7", "--out", a.toString()));
    assertEquals(0, run("synth", "--task", "passkey", "--count", "6", "--length", "300,600", "--seed", "7", "--out", b.toString()));
    assertEquals(0, run("synth", "--task", "passkey", "--count", "6", "--length", "300,600", "--seed", "8", "--out", c.toString()));
    assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    assertFalse(java.util.Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(c)));
    List<String> lines;
    try (InputStream in = Compression.ZSTD.open(Files.newInputStream(a))) {
      lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
    assertEquals(6, lines.size());
    ObjectMapper json = new ObjectMapper();
    for (int i = 0; i < lines.size(); i++) {
      JsonNode n = json.readTree(lines.get(i));
      String text = n.get("text").asText();
      assertEquals("synth_passkey", n.get("meta").get("pile_set_name").asText());
      assertEquals(i % 2 == 0 ? 300 : 600, text.length(), "lengths cycle through --length");
      int prompt = n.get("meta").get("prompt_chars").asInt();
      assertEquals(" " + n.get("meta").get("answer").asText() + ".", text.substring(prompt));
    }
    assertEquals(2, run("synth", "--task", "passkey", "--count", "1", "--out", a.toString()));
    assertTrue(error().contains("--overwrite"), error());
    assertEquals(2, run("synth", "--task", "poem", "--out", dir.resolve("x.jsonl").toString()));
    assertEquals(2, run("synth", "--task", "passkey", "--depths", "1.5", "--out", dir.resolve("y.jsonl").toString()));
    assertTrue(error().contains("[0, 1]"), error());
  }

  @Test
  void synthWritesTheDamagedCorpus(@TempDir Path dir) {
    assertEquals(0, run("synth", "--task", "damaged", "--out", dir.toString()));
    for (String name : DamagedCorpus.FILES) {
      assertTrue(Files.exists(dir.resolve(name)), name);
    }
  }

  @Test
  void prepareNamesTheMissingKeyBeforeStartingSpark() {
    assertEquals(2, run("prepare"));
    assertTrue(error().contains("data.inputs"), error());
    assertEquals(2, run("prepare", "--set", "data.inputs=[x.jsonl]"));
    assertTrue(error().contains("data.tokenizer"), error());
    assertEquals(2, run("prepare", "--set", "data.inputs=[x.jsonl]", "--set", "data.tokenizer=t.json"));
    assertTrue(error().contains("data.prepared"), error());
    assertEquals(2, run("prepare", "--set", "data.layout=rows"));
    assertTrue(error().contains("data.layout"), error());
    assertEquals(2, run("prepare", "--set", "data.min_tokens=100", "--set", "data.max_tokens=10"));
    assertTrue(error().contains("data.min_tokens: must be <= max_tokens (10), got 100"), error());
  }

  @Test
  void benchNamesItsBenchmarks() {
    assertEquals(2, run("bench"));
    assertTrue(error().contains("prepare"), error());
    assertEquals(2, run("bench", "sort"));
    assertTrue(error().contains("unknown benchmark 'sort'; available: prepare"), error());
    assertTrue(BenchJob.USAGE.contains("prepare   generates"), "bench prepare is documented");
  }
}
