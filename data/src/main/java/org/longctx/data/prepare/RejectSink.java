package org.longctx.data.prepare;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.function.Supplier;

/**
 * Writes rejected records as JSON lines: {@code file}, {@code line} (1-based), {@code reason},
 * {@code detail}, {@code bytes} (the record's full length), {@code head} (its first bytes
 * decoded leniently, for people) and {@code head_base64} (the same bytes exactly). The file
 * is created on the first reject, so clean inputs leave no reject file.
 */
public final class RejectSink implements Closeable {
  /** How many leading bytes of a rejected record are kept. */
  public static final int HEAD_BYTES = 256;
  private static final JsonFactory JSON = new JsonFactory();

  private final Supplier<OutputStream> opener;
  private JsonGenerator out;
  private long written;

  /** @param opener creates the output on the first reject (checked exceptions wrapped) */
  public RejectSink(Supplier<OutputStream> opener) {
    this.opener = opener;
  }

  public void write(String file, long line, Reason reason, String detail, long bytes, byte[] head, int headLength)
      throws IOException {
    if (out == null) {
      out = JSON.createGenerator(opener.get(), JsonEncoding.UTF8);
      out.setRootValueSeparator(null);
    }
    int n = Math.min(headLength, HEAD_BYTES);
    byte[] h = java.util.Arrays.copyOf(head, n);
    out.writeStartObject();
    out.writeStringField("file", file);
    out.writeNumberField("line", line);
    out.writeStringField("reason", reason.key());
    out.writeStringField("detail", detail == null ? "" : detail);
    out.writeNumberField("bytes", bytes);
    out.writeStringField("head", new String(h, StandardCharsets.UTF_8));
    out.writeStringField("head_base64", Base64.getEncoder().encodeToString(h));
    out.writeEndObject();
    out.writeRaw('\n');
    written++;
  }

  public long written() {
    return written;
  }

  @Override
  public void close() throws IOException {
    if (out != null) {
      out.close();
    }
  }
}
