package org.longctx.data.io;

import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * Decompresses a zstd stream of any number of frames and fails with {@link EOFException}
 * when the stream ends inside a frame.
 *
 * <p>zstd-jni's {@code ZstdInputStream} notices a cut only in a frame whose start it had to
 * read from the source after the previous frame ended; a cut frame that began inside an
 * already-buffered chunk ends the stream silently, as if the file were complete. Multi-frame
 * files (concatenated shards, parallel compressors) make that common, and the prepare job
 * must count such damage, so this stream tracks frame completion itself.
 */
final class ZstdFramesInputStream extends InputStream {
  private static final int BUFFER = 1 << 17;

  private final InputStream in;
  private final ZstdDecompressCtx ctx = new ZstdDecompressCtx();
  private final ByteBuffer src = ByteBuffer.allocateDirect(BUFFER).flip(); // read mode, empty
  private final ByteBuffer dst = ByteBuffer.allocateDirect(BUFFER).flip(); // read mode, empty
  private final byte[] transfer = new byte[BUFFER];
  private boolean inputEnded;
  /** True between frames (and before the first): ending here is a clean end. */
  private boolean betweenFrames = true;
  private boolean closed;

  ZstdFramesInputStream(InputStream in) {
    this.in = in;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xFF;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (closed) {
      throw new IOException("stream closed");
    }
    if (len == 0) {
      return 0;
    }
    while (!dst.hasRemaining()) {
      if (!src.hasRemaining() && !inputEnded) {
        fill();
      }
      if (!src.hasRemaining() && inputEnded && betweenFrames) {
        return -1;
      }
      int consumedFrom = src.position();
      dst.clear();
      boolean frameDone;
      try {
        frameDone = ctx.decompressDirectByteBufferStream(dst, src);
      } catch (ZstdException e) {
        throw new IOException("zstd: " + e.getMessage(), e);
      } finally {
        dst.flip();
      }
      boolean progressed = dst.hasRemaining() || src.position() != consumedFrom;
      if (frameDone) {
        betweenFrames = true;
      } else if (progressed) {
        betweenFrames = false;
      } else if (inputEnded && !src.hasRemaining()) {
        throw new EOFException("zstd stream ends inside a frame (truncated source)");
      } else if (src.hasRemaining()) {
        throw new IOException("zstd decoder made no progress");
      }
    }
    int n = Math.min(len, dst.remaining());
    dst.get(b, off, n);
    return n;
  }

  private void fill() throws IOException {
    int n = in.read(transfer, 0, transfer.length);
    if (n < 0) {
      inputEnded = true;
      return;
    }
    src.clear();
    src.put(transfer, 0, n);
    src.flip();
  }

  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      ctx.close();
      in.close();
    }
  }
}
