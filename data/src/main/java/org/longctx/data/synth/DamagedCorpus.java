package org.longctx.data.synth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.longctx.data.io.Compression;

/**
 * A small mixed Pile / RedPajama-1T corpus with every kind of damage real shards have, for
 * testing the prepare job end to end: a plain {@code .jsonl}, a {@code .jsonl.gz} and a
 * {@code .jsonl.zst} whose last part is cut off mid-stream, and a {@code .gz} that is not
 * gzip at all. Good documents come from several sources, some repeat (within a file and
 * across files), some are short, one is very long.
 *
 * <p>Every line written is returned as a {@link Planted} record saying what it is, so a test
 * can derive the counts it expects for any filter settings on its own.
 *
 * <p>Truncation is made exact: the damaged part of each archive is a separate gzip member /
 * zstd frame holding one single unterminated line, so everything before it is intact and
 * the damage is exactly one record.
 */
public final class DamagedCorpus {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What a planted line is. */
  public enum Kind {
    /** A well-formed document; whether it is kept depends on the filters. */
    DOCUMENT,
    LINE_TOO_LONG, BLANK_LINE, TRUNCATED_ARCHIVE, CORRUPT_ARCHIVE,
    INVALID_UTF8, MALFORMED_JSON, MISSING_TEXT, TEXT_NOT_STRING, EMPTY_TEXT
  }

  /**
   * One record of the corpus.
   *
   * @param file the file's name
   * @param line its 1-based line number
   * @param kind what it is
   * @param text the document text (DOCUMENT only)
   * @param source its source (DOCUMENT only; {@code unknown} when the record names none)
   */
  public record Planted(String file, long line, Kind kind, String text, String source) {}

  private static final class FileBuilder {
    final String name;
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final List<Planted> planted;
    long line;

    FileBuilder(String name, List<Planted> planted) {
      this.name = name;
      this.planted = planted;
    }

    void raw(byte[] content, Kind kind, String text, String source) {
      bytes.writeBytes(content);
      bytes.write('\n');
      planted.add(new Planted(name, ++line, kind, text, source));
    }

    void raw(String content, Kind kind) {
      raw(content.getBytes(StandardCharsets.UTF_8), kind, null, null);
    }

    void pile(String text, String source) {
      ObjectNode n = JSON.createObjectNode();
      n.put("text", text);
      n.putObject("meta").put("pile_set_name", source);
      raw(n.toString().getBytes(StandardCharsets.UTF_8), Kind.DOCUMENT, text, source);
    }

    void redPajama(String text, String subset) {
      ObjectNode n = JSON.createObjectNode();
      n.put("text", text);
      n.putObject("meta").put("timestamp", "2023-01-01").put("url", "https://example.org/" + (line + 1));
      n.put("red_pajama_subset", subset);
      raw(n.toString().getBytes(StandardCharsets.UTF_8), Kind.DOCUMENT, text, subset);
    }
  }

  /**
   * What a correct prepare run must report on a corpus, given its config, when it tokenizes
   * with the byte-level tokenizer (one token per UTF-8 byte, plus BOS/EOS as configured).
   *
   * @param recordsIn every planted record
   * @param rejected count per reason key ({@code invalid_utf8}...), zeros left out
   * @param kept the documents kept, in output order
   * @param keptTokens their lengths in tokens, same order
   */
  public record Expected(long recordsIn, java.util.Map<String, Long> rejected, List<Planted> kept, List<Integer> keptTokens) {}

  /** Derives {@link Expected} from the planted records alone, by the job's documented rules. */
  public static Expected expect(List<Planted> planted, org.longctx.data.DataConfig config) {
    java.util.Map<String, Long> rejected = new java.util.TreeMap<>();
    List<Planted> kept = new ArrayList<>();
    List<Integer> keptTokens = new ArrayList<>();
    java.util.Set<String> seen = new java.util.HashSet<>();
    int specials = (config.addBos() ? 1 : 0) + (config.addEos() ? 1 : 0);
    for (Planted p : planted) {
      String reason = null;
      int length = 0;
      if (p.kind() != Kind.DOCUMENT) {
        reason = p.kind().name().toLowerCase(java.util.Locale.ROOT);
      } else if (config.denySources().contains(p.source())) {
        reason = "source_denied";
      } else if (!config.allowSources().isEmpty() && !config.allowSources().contains(p.source())) {
        reason = "source_not_allowed";
      } else if (config.dedup() && !seen.add(p.text())) {
        reason = "duplicate";
      } else {
        length = p.text().getBytes(StandardCharsets.UTF_8).length + specials;
        if (config.truncateTokens() > 0) {
          length = Math.min(length, config.truncateTokens());
        }
        if (length < config.minTokens()) {
          reason = "too_short";
        } else if (config.maxTokens() > 0 && length > config.maxTokens()) {
          reason = "too_long";
        }
      }
      if (reason == null) {
        kept.add(p);
        keptTokens.add(length);
      } else {
        rejected.merge(reason, 1L, Long::sum);
      }
    }
    return new Expected(planted.size(), rejected, kept, keptTokens);
  }

  private DamagedCorpus() {}

  /** Names of the files {@link #write} creates, in the order the prepare job sorts them. */
  public static final List<String> FILES = List.of(
      "a-pile.jsonl", "b-redpajama.jsonl.gz", "c-pile.jsonl.zst", "d-broken.jsonl.gz");

  /**
   * Writes the corpus into {@code dir}.
   *
   * @param maxLineBytes the {@code data.max_line_bytes} the reader will use; one line is made longer
   * @return every record planted, in file and line order
   */
  public static List<Planted> write(Path dir, long seed, int maxLineBytes) throws IOException {
    Files.createDirectories(dir);
    SplittableRandom random = new SplittableRandom(seed);
    List<Planted> planted = new ArrayList<>();
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      texts.add(prose(random, i % 7 == 0 ? 20 : 200 + random.nextInt(2000)));
    }
    String unicode = "Ünïcödé: 日本語のテキスト, emoji 🎉🚀, math ∑∫√. " + prose(random, 300);
    String withSpecials = "A page that mentions <s> and </s> and <|endoftext|> literally. " + prose(random, 200);

    // a-pile.jsonl: plain, the Pile format, every kind of bad line
    FileBuilder a = new FileBuilder(FILES.get(0), planted);
    a.pile(texts.get(0), "Pile-CC");
    a.pile(texts.get(1), "ArXiv");
    a.raw("{\"text\": \"unterminated string", Kind.MALFORMED_JSON);
    a.pile(unicode, "Pile-CC");
    a.raw("[1, 2, 3]", Kind.MALFORMED_JSON);
    a.raw("{\"meta\": {\"pile_set_name\": \"Pile-CC\"}}", Kind.MISSING_TEXT);
    a.raw("{\"text\": 42, \"meta\": {\"pile_set_name\": \"Pile-CC\"}}", Kind.TEXT_NOT_STRING);
    a.raw("{\"text\": null}", Kind.TEXT_NOT_STRING);
    a.pile(texts.get(2), "Github");
    a.raw(concat("{\"text\": \"bad bytes ".getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xFF, (byte) 0xFE, 'x'},
        "\", \"meta\": {\"pile_set_name\": \"Pile-CC\"}}".getBytes(StandardCharsets.UTF_8)), Kind.INVALID_UTF8, null, null);
    a.raw("{\"text\": \"lone \\ud800 surrogate\", \"meta\": {\"pile_set_name\": \"Pile-CC\"}}", Kind.INVALID_UTF8);
    a.raw("{\"text\": \"\", \"meta\": {\"pile_set_name\": \"Pile-CC\"}}", Kind.EMPTY_TEXT);
    a.raw("{\"text\": \"  \\n\\t  \"}", Kind.EMPTY_TEXT);
    a.raw("", Kind.BLANK_LINE);
    a.raw("{\"text\": \"" + "x".repeat(maxLineBytes + 100) + "\"}", Kind.LINE_TOO_LONG);
    a.raw("{\"text\": \"ok\"} trailing", Kind.MALFORMED_JSON);
    a.pile(texts.get(3), "Pile-CC");
    a.pile(texts.get(0), "Pile-CC"); // duplicate within the file
    a.pile(withSpecials, "Pile-CC");
    // a document without any source field
    ObjectNode noSource = JSON.createObjectNode().put("text", texts.get(4));
    a.raw(noSource.toString().getBytes(StandardCharsets.UTF_8), Kind.DOCUMENT, texts.get(4), "unknown");
    // a Windows line ending
    ObjectNode crlf = JSON.createObjectNode().put("text", texts.get(5));
    crlf.putObject("meta").put("pile_set_name", "FreeLaw");
    a.raw((crlf + "\r").getBytes(StandardCharsets.UTF_8), Kind.DOCUMENT, texts.get(5), "FreeLaw");
    for (int i = 6; i < 14; i++) {
      a.pile(texts.get(i), i % 2 == 0 ? "Pile-CC" : "Wikipedia (en)");
    }
    // the last line has no final newline
    a.pile(texts.get(14), "Pile-CC");
    byte[] plain = a.bytes.toByteArray();
    Files.write(dir.resolve(a.name), Arrays.copyOf(plain, plain.length - 1));

    // b-redpajama.jsonl.gz: RedPajama-1T format, then a cut-off gzip member
    FileBuilder b = new FileBuilder(FILES.get(1), planted);
    for (int i = 15; i < 24; i++) {
      b.redPajama(texts.get(i), new String[] {"arxiv", "book", "c4", "github"}[i % 4]);
      if (i == 18) {
        b.raw("{\"text\": \"missing brace\", \"red_pajama_subset\": \"c4\"", Kind.MALFORMED_JSON);
      }
    }
    b.redPajama(texts.get(1), "arxiv"); // duplicate of a document in a-pile.jsonl
    writeWithCutTail(dir.resolve(b.name), Compression.GZIP, b, random);

    // c-pile.jsonl.zst: the Pile format in zstd, then a cut-off zstd frame
    FileBuilder c = new FileBuilder(FILES.get(2), planted);
    for (int i = 24; i < 40; i++) {
      c.pile(texts.get(i), i % 3 == 0 ? "Github" : "Pile-CC");
      if (i == 30) {
        c.raw(concat("{\"text\": \"".getBytes(StandardCharsets.UTF_8), new byte[] {(byte) 0xC3, '('},
            "\"}".getBytes(StandardCharsets.UTF_8)), Kind.INVALID_UTF8, null, null);
      }
    }
    c.pile(texts.get(2), "Github"); // duplicate
    c.pile(prose(random, 40_000), "Pile-CC"); // a long document
    writeWithCutTail(dir.resolve(c.name), Compression.ZSTD, c, random);

    // d-broken.jsonl.gz: named .gz but not gzip at all
    Files.writeString(dir.resolve(FILES.get(3)), "{\"text\": \"this file was never compressed\"}\n");
    planted.add(new Planted(FILES.get(3), 1, Kind.CORRUPT_ARCHIVE, null, null));
    return planted;
  }

  /** The builder's lines as one complete member/frame, then a member/frame with one line, cut in half. */
  private static void writeWithCutTail(Path file, Compression compression, FileBuilder builder, SplittableRandom random)
      throws IOException {
    ByteArrayOutputStream whole = new ByteArrayOutputStream();
    try (OutputStream out = compression.create(whole)) {
      out.write(builder.bytes.toByteArray());
    }
    StringBuilder tail = new StringBuilder("{\"text\": \"");
    while (tail.length() < 200_000) {
      tail.append(Filler.sentence(random)); // incompressible enough that half the bytes is half the text
    }
    tail.append("\"}\n");
    ByteArrayOutputStream second = new ByteArrayOutputStream();
    try (OutputStream out = compression.create(second)) {
      out.write(tail.toString().getBytes(StandardCharsets.UTF_8));
    }
    byte[] cut = Arrays.copyOf(second.toByteArray(), second.size() / 2);
    Files.write(file, concat(whole.toByteArray(), cut));
    builder.planted.add(new Planted(builder.name, builder.line + 1, Kind.TRUNCATED_ARCHIVE, null, null));
  }

  private static String prose(SplittableRandom random, int chars) {
    StringBuilder sb = new StringBuilder(chars + 80);
    while (sb.length() < chars) {
      sb.append(Filler.sentence(random));
    }
    return sb.toString().strip();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
