package org.longctx.data.io;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Splits a byte stream into lines ({@code \n}, with a trailing {@code \r} removed) without
 * decoding them, so invalid UTF-8 and line numbers stay under the caller's control.
 *
 * <p>A line longer than {@code maxLineBytes} is not held: its first {@code headBytes} are
 * kept for the reject record, the rest is skipped up to the next newline, and the line comes
 * back with {@link #tooLong()} set. The line buffer is reused: a line's bytes are valid only
 * until the next call to {@link #next()}.
 *
 * <p>If the stream fails (a truncated or damaged archive), {@link #next()} throws and
 * {@link #pendingLength()} / {@link #pendingHead()} describe the incomplete line that was
 * being read; every line returned before is complete.
 */
public final class LineReader {
  private static final int CHUNK = 1 << 16;

  private final InputStream in;
  private final int maxLineBytes;
  private final int headBytes;
  private final byte[] chunk = new byte[CHUNK];
  private int chunkPos;
  private int chunkEnd;
  private boolean eof;

  private byte[] line = new byte[1024];
  private int lineLength;
  /** Bytes of the current line, counted even past {@code maxLineBytes}. */
  private long fullLength;
  private boolean tooLong;
  private boolean terminated;
  private long lineNumber;

  public LineReader(InputStream in, int maxLineBytes, int headBytes) {
    if (maxLineBytes < 1 || headBytes < 0 || headBytes > maxLineBytes) {
      throw new IllegalArgumentException("need 0 <= headBytes <= maxLineBytes and maxLineBytes >= 1, got "
          + headBytes + ", " + maxLineBytes);
    }
    this.in = in;
    this.maxLineBytes = maxLineBytes;
    this.headBytes = headBytes;
  }

  /**
   * Reads the next line. Returns false at the clean end of the stream; a last line without a
   * final newline is still returned (with {@link #terminated()} false).
   *
   * @throws IOException from the underlying stream; the partial line stays available
   */
  public boolean next() throws IOException {
    lineLength = 0;
    fullLength = 0;
    tooLong = false;
    terminated = false;
    lineNumber++;
    while (true) {
      if (chunkPos == chunkEnd) {
        if (eof || !fill()) {
          if (fullLength == 0) {
            lineNumber--;
            return false;
          }
          stripCarriageReturn();
          return true;
        }
      }
      int newline = indexOf(chunk, chunkPos, chunkEnd, (byte) '\n');
      int end = newline < 0 ? chunkEnd : newline;
      append(chunk, chunkPos, end - chunkPos);
      if (newline >= 0) {
        chunkPos = newline + 1;
        terminated = true;
        stripCarriageReturn();
        return true;
      }
      chunkPos = chunkEnd;
    }
  }

  private boolean fill() throws IOException {
    int n = in.read(chunk, 0, CHUNK);
    while (n == 0) {
      n = in.read(chunk, 0, CHUNK);
    }
    if (n < 0) {
      eof = true;
      chunkPos = chunkEnd = 0;
      return false;
    }
    chunkPos = 0;
    chunkEnd = n;
    return true;
  }

  private void append(byte[] src, int from, int count) {
    fullLength += count;
    int limit = tooLong ? headBytes : maxLineBytes;
    if (fullLength > maxLineBytes && !tooLong) {
      tooLong = true;
      limit = headBytes;
    }
    int room = Math.max(0, limit - lineLength);
    int take = Math.min(room, count);
    if (take > 0) {
      ensure(lineLength + take);
      System.arraycopy(src, from, line, lineLength, take);
      lineLength += take;
    }
    if (tooLong && lineLength > headBytes) {
      lineLength = headBytes;
    }
  }

  private void ensure(int capacity) {
    if (capacity > line.length) {
      long grown = Math.max(capacity, Math.min((long) line.length * 2, (long) maxLineBytes));
      line = Arrays.copyOf(line, (int) grown);
    }
  }

  private void stripCarriageReturn() {
    if (!tooLong && lineLength > 0 && line[lineLength - 1] == '\r') {
      lineLength--;
      fullLength--;
    }
  }

  private static int indexOf(byte[] a, int from, int to, byte b) {
    for (int i = from; i < to; i++) {
      if (a[i] == b) {
        return i;
      }
    }
    return -1;
  }

  /** The current line's bytes, {@code [0, length())}; only the head when {@link #tooLong()}. */
  public byte[] buffer() {
    return line;
  }

  public int length() {
    return lineLength;
  }

  /** The line's true length in bytes (without its newline), also when it was too long to hold. */
  public long fullLength() {
    return fullLength;
  }

  public boolean tooLong() {
    return tooLong;
  }

  /** Whether the line ended with a newline (false only for the last line of a stream). */
  public boolean terminated() {
    return terminated;
  }

  /** 1-based number of the current line (after a failed {@link #next()}: of the partial line). */
  public long lineNumber() {
    return lineNumber;
  }

  /** After {@link #next()} threw: bytes of the incomplete line read before the failure. */
  public long pendingLength() {
    return fullLength;
  }

  /** After {@link #next()} threw: the first bytes of the incomplete line. */
  public byte[] pendingHead() {
    return Arrays.copyOf(line, Math.min(lineLength, headBytes));
  }
}
