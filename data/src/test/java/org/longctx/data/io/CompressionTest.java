package org.longctx.data.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class CompressionTest {

  private static byte[] compress(Compression c, String text) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (OutputStream out = c.create(bytes)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return bytes.toByteArray();
  }

  @Test
  void chosenByFileName() {
    assertEquals(Compression.ZSTD, Compression.of("00.jsonl.zst"));
    assertEquals(Compression.ZSTD, Compression.of("x.ZSTD"));
    assertEquals(Compression.GZIP, Compression.of("c4.jsonl.gz"));
    assertEquals(Compression.NONE, Compression.of("book.jsonl"));
  }

  @Test
  void roundTrips() throws IOException {
    String text = "{\"text\": \"héllo\"}\n".repeat(1000);
    for (Compression c : Compression.values()) {
      try (InputStream in = c.open(new ByteArrayInputStream(compress(c, text)))) {
        assertEquals(text, new String(in.readAllBytes(), StandardCharsets.UTF_8), c.name());
      }
    }
  }

  /** What the prepare job relies on: a cut archive fails loudly after yielding its intact prefix. */
  @Test
  void truncatedArchivesFailAfterTheirReadablePrefix() throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 20_000; i++) {
      sb.append("{\"text\": \"line ").append(i).append(' ').append(Integer.toHexString(i * 7919)).append("\"}\n");
    }
    String text = sb.toString();
    for (Compression c : new Compression[] {Compression.GZIP, Compression.ZSTD}) {
      byte[] full = compress(c, text);
      byte[] cut = Arrays.copyOf(full, full.length * 2 / 3);
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      IOException e = assertThrows(IOException.class, () -> {
        try (InputStream in = c.open(new ByteArrayInputStream(cut))) {
          byte[] buf = new byte[4096];
          int n;
          while ((n = in.read(buf)) >= 0) {
            got.write(buf, 0, n);
          }
        }
      }, c.name());
      String prefix = got.toString(StandardCharsets.UTF_8);
      assertTrue(prefix.length() > text.length() / 3, c + " yielded only " + prefix.length() + " chars: " + e);
      assertTrue(text.startsWith(prefix), c.name());
    }
  }

  /**
   * A complete member/frame followed by a cut one: everything of the first comes back, then
   * the cut is reported. (zstd-jni's own ZstdInputStream misses this when both frames share a
   * read buffer.)
   */
  @Test
  void aCutSecondFrameIsReportedAfterTheIntactFirst() throws IOException {
    String first = "{\"text\": \"intact\"}\n".repeat(50);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 20_000; i++) {
      sb.append(Integer.toHexString(i * 40503));
    }
    for (Compression c : new Compression[] {Compression.GZIP, Compression.ZSTD}) {
      byte[] a = compress(c, first);
      byte[] b = compress(c, sb.toString());
      byte[] file = new byte[a.length + b.length / 2];
      System.arraycopy(a, 0, file, 0, a.length);
      System.arraycopy(b, 0, file, a.length, b.length / 2);
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      assertThrows(IOException.class, () -> {
        try (InputStream in = c.open(new ByteArrayInputStream(file))) {
          byte[] buf = new byte[1000];
          int n;
          while ((n = in.read(buf)) >= 0) {
            got.write(buf, 0, n);
          }
        }
      }, c.name());
      assertTrue(got.toString(StandardCharsets.UTF_8).startsWith(first), c.name());
      // and both frames intact read back whole
      byte[] whole = new byte[a.length + b.length];
      System.arraycopy(a, 0, whole, 0, a.length);
      System.arraycopy(b, 0, whole, a.length, b.length);
      try (InputStream in = c.open(new ByteArrayInputStream(whole))) {
        assertEquals(first + sb, new String(in.readAllBytes(), StandardCharsets.UTF_8), c.name());
      }
    }
  }
}
