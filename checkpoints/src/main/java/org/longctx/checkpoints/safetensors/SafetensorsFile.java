package org.longctx.checkpoints.safetensors;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.longctx.checkpoints.Storage;

/**
 * One safetensors file, open for reading tensor by tensor. A local file is memory-mapped (each
 * tensor's bytes are a read-only view of the page cache); a file on another Hadoop file system is
 * read with positioned reads, one tensor at a time, so a large model never sits in memory twice.
 */
public final class SafetensorsFile implements Closeable {
  /**
   * Hadoop configuration key: {@code false} reads local files with positioned reads like any
   * other file system instead of memory-mapping them (default true).
   */
  public static final String MEMORY_MAP_KEY = "longctx.safetensors.mmap";

  private static final int READ_CHUNK = 1 << 20;

  private final String source;
  private final SafetensorsHeader header;
  private final FileChannel channel; // local files
  private final FSDataInputStream stream; // other file systems

  private SafetensorsFile(String source, SafetensorsHeader header, FileChannel channel, FSDataInputStream stream) {
    this.source = source;
    this.header = header;
    this.channel = channel;
    this.stream = stream;
  }

  /** Opens a local file. */
  public static SafetensorsFile open(java.nio.file.Path file) throws IOException {
    return open(Storage.path(file), Storage.defaultConf());
  }

  /** Opens a file on any Hadoop file system, validating its header. */
  public static SafetensorsFile open(Path file, Configuration conf) throws IOException {
    FileSystem fs = Storage.fileSystem(file, conf);
    String source = file.toString();
    Optional<java.nio.file.Path> local = conf.getBoolean(MEMORY_MAP_KEY, true) ? Storage.localFile(fs, file) : Optional.empty();
    if (local.isPresent()) {
      FileChannel ch = FileChannel.open(local.get(), StandardOpenOption.READ);
      try {
        long size = ch.size();
        byte[] first8 = new byte[8];
        readFully(ch, ByteBuffer.wrap(first8), 0, size >= 8 ? 8 : (int) size, source);
        long n = SafetensorsHeader.headerLength(first8, size, source);
        byte[] json = new byte[(int) n];
        readFully(ch, ByteBuffer.wrap(json), 8, (int) n, source);
        return new SafetensorsFile(source, SafetensorsHeader.parse(json, size, source), ch, null);
      } catch (IOException | RuntimeException e) {
        ch.close();
        throw e;
      }
    }
    long size = fs.getFileStatus(file).getLen();
    FSDataInputStream in = fs.open(file);
    try {
      byte[] first8 = new byte[8];
      if (size >= 8) {
        in.readFully(0, first8);
      }
      long n = SafetensorsHeader.headerLength(first8, size, source);
      byte[] json = new byte[(int) n];
      in.readFully(8, json);
      return new SafetensorsFile(source, SafetensorsHeader.parse(json, size, source), null, in);
    } catch (IOException | RuntimeException e) {
      in.close();
      throw e;
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer dst, long position, int length, String source) throws IOException {
    dst.limit(length);
    long pos = position;
    while (dst.hasRemaining()) {
      int r = ch.read(dst, pos);
      if (r < 0) {
        throw new EOFException(source + ": unexpected end of file at byte " + pos);
      }
      pos += r;
    }
  }

  public String source() {
    return source;
  }

  public SafetensorsHeader header() {
    return header;
  }

  /**
   * The raw little-endian bytes of one tensor, positioned at 0. For a local file this is a
   * read-only memory-mapped view; otherwise a freshly read direct buffer.
   */
  public ByteBuffer bytes(String name) throws IOException {
    TensorInfo info = header.tensors().get(name);
    if (info == null) {
      throw new IllegalArgumentException(source + ": no tensor '" + name + "'");
    }
    long size = info.byteSize();
    if (size > Integer.MAX_VALUE - 8) {
      throw new IOException(source + ": tensor '" + name + "' has " + size + " bytes; one tensor may hold at most 2 GiB here (Java buffer limit)");
    }
    long position = header.dataStart() + info.begin();
    if (channel != null) {
      if (size == 0) {
        return ByteBuffer.allocateDirect(0).order(ByteOrder.LITTLE_ENDIAN);
      }
      return channel.map(FileChannel.MapMode.READ_ONLY, position, size).order(ByteOrder.LITTLE_ENDIAN);
    }
    ByteBuffer out = ByteBuffer.allocateDirect((int) size).order(ByteOrder.LITTLE_ENDIAN);
    byte[] chunk = new byte[(int) Math.min(READ_CHUNK, size)];
    long done = 0;
    while (done < size) {
      int n = (int) Math.min(chunk.length, size - done);
      synchronized (stream) {
        stream.readFully(position + done, chunk, 0, n);
      }
      out.put(chunk, 0, n);
      done += n;
    }
    out.flip();
    return out;
  }

  @Override
  public void close() throws IOException {
    if (channel != null) {
      channel.close();
    }
    if (stream != null) {
      stream.close();
    }
  }
}
