package org.longctx.data.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class LineReaderTest {

  private static List<String> lines(String text, int max) throws IOException {
    LineReader r = new LineReader(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), max, Math.min(4, max));
    List<String> out = new ArrayList<>();
    while (r.next()) {
      String s = new String(r.buffer(), 0, r.length(), StandardCharsets.UTF_8);
      out.add(r.lineNumber() + (r.tooLong() ? "!" + r.fullLength() : "") + (r.terminated() ? "" : "$") + ":" + s);
    }
    return out;
  }

  @Test
  void splitsOnNewlinesAndDropsCarriageReturns() throws IOException {
    assertEquals(List.of("1:a", "2:bb", "3:", "4:c"), lines("a\nbb\r\n\nc\n", 100));
    assertEquals(List.of("1:a", "2$:tail"), lines("a\ntail", 100));
    assertEquals(List.of(), lines("", 100));
  }

  @Test
  void longLinesKeepOnlyTheirHeadAndTheirTrueLength() throws IOException {
    assertEquals(List.of("1:ok", "2!12:abcd", "3:next", "4!10$:0123"), lines("ok\nabcdefghijkl\nnext\n0123456789", 8));
  }

  @Test
  void linesSpanningManyReadChunksComeBackWhole() throws IOException {
    byte[] big = new byte[300_000];
    Arrays.fill(big, (byte) 'x');
    byte[] data = new byte[big.length * 2 + 2];
    System.arraycopy(big, 0, data, 0, big.length);
    data[big.length] = '\n';
    System.arraycopy(big, 0, data, big.length + 1, big.length);
    data[data.length - 1] = '\n';
    LineReader r = new LineReader(new ByteArrayInputStream(data), 1 << 20, 16);
    for (int i = 0; i < 2; i++) {
      assertTrue(r.next());
      assertEquals(big.length, r.length());
      assertArrayEquals(big, Arrays.copyOf(r.buffer(), r.length()));
    }
    assertFalse(r.next());
  }

  @Test
  void aFailingStreamKeepsTheLinesBeforeAndReportsThePartialOne() throws IOException {
    byte[] good = "one\ntwo\nthr".getBytes(StandardCharsets.US_ASCII);
    InputStream failing = new InputStream() {
      int pos;

      @Override
      public int read() {
        throw new UnsupportedOperationException();
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (pos >= good.length) {
          throw new IOException("Unexpected end of ZLIB input stream");
        }
        int n = Math.min(len, Math.min(5, good.length - pos));
        System.arraycopy(good, pos, b, off, n);
        pos += n;
        return n;
      }
    };
    LineReader r = new LineReader(failing, 100, 2);
    assertTrue(r.next());
    assertTrue(r.next());
    assertEquals(2, r.lineNumber());
    IOException e = assertThrows(IOException.class, r::next);
    assertEquals("Unexpected end of ZLIB input stream", e.getMessage());
    assertEquals(3, r.lineNumber());
    assertEquals(3, r.pendingLength());
    assertArrayEquals("th".getBytes(StandardCharsets.US_ASCII), r.pendingHead());
  }
}
