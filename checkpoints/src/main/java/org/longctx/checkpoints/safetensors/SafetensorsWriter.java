package org.longctx.checkpoints.safetensors;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.longctx.checkpoints.Storage;

/**
 * Writes safetensors files the way transformers' {@code save_pretrained} does: header padded
 * with spaces to a multiple of 8 bytes, {@code __metadata__: {"format": "pt"}}, tensors in the
 * order given, and — past a size limit — shards {@code <base>-00001-of-0000N.safetensors} with a
 * {@code <base>.safetensors.index.json}. Existing files are never overwritten.
 */
public final class SafetensorsWriter {
  /** transformers' default shard limit in {@code save_pretrained} (5 GB, decimal). */
  public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

  private static final int COPY_CHUNK = 1 << 20;

  private SafetensorsWriter() {}

  /** Writes one local file. */
  public static void write(java.nio.file.Path file, List<TensorEntry> tensors) throws IOException {
    write(Storage.path(file), tensors, Storage.defaultConf());
  }

  /** Writes one file on any Hadoop file system; fails if it exists. */
  public static void write(Path file, List<TensorEntry> tensors, Configuration conf) throws IOException {
    checkUniqueNames(tensors);
    FileSystem fs = Storage.fileSystem(file, conf);
    List<TensorInfo> infos = new ArrayList<>();
    long offset = 0;
    for (TensorEntry t : tensors) {
      long size = t.byteSize();
      infos.add(new TensorInfo(t.name(), t.dtype(), t.shape(), offset, offset + size));
      offset += size;
    }
    byte[] header = SafetensorsHeader.encode(infos, Map.of("format", "pt"));
    try (FSDataOutputStream out = fs.create(file, false)) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
      out.write(len.array());
      out.write(header);
      byte[] chunk = new byte[COPY_CHUNK];
      for (TensorEntry t : tensors) {
        ByteBuffer data;
        try {
          data = t.data().get();
        } catch (java.io.UncheckedIOException e) {
          throw e.getCause();
        }
        if (data.remaining() != t.byteSize()) {
          throw new IllegalStateException("tensor '" + t.name() + "' produced " + data.remaining() + " bytes; shape "
              + java.util.Arrays.toString(t.shape()) + " × " + t.dtype() + " needs " + t.byteSize());
        }
        copy(data, out, chunk);
      }
      Storage.sync(out);
    }
  }

  /**
   * Writes the tensors into {@code folder}: one {@code <base>.safetensors} when they fit in
   * {@code maxShardBytes}, else shards of at most that size (a single larger tensor gets a shard
   * of its own) plus the index file.
   *
   * @return the file names written, index last when there is one
   */
  public static List<String> writeSharded(Path folder, String baseName, List<TensorEntry> tensors, long maxShardBytes,
      Configuration conf) throws IOException {
    if (maxShardBytes <= 0) {
      throw new IllegalArgumentException("max shard size must be > 0 bytes, got " + maxShardBytes);
    }
    checkUniqueNames(tensors);
    List<List<TensorEntry>> shards = new ArrayList<>();
    List<TensorEntry> current = new ArrayList<>();
    long currentBytes = 0;
    long total = 0;
    for (TensorEntry t : tensors) {
      long size = t.byteSize();
      if (!current.isEmpty() && currentBytes + size > maxShardBytes) {
        shards.add(current);
        current = new ArrayList<>();
        currentBytes = 0;
      }
      current.add(t);
      currentBytes += size;
      total += size;
    }
    if (!current.isEmpty() || shards.isEmpty()) {
      shards.add(current);
    }
    FileSystem fs = Storage.fileSystem(folder, conf);
    fs.mkdirs(folder);
    List<String> written = new ArrayList<>();
    if (shards.size() == 1) {
      String name = baseName + ".safetensors";
      write(new Path(folder, name), shards.get(0), conf);
      written.add(name);
      return written;
    }
    Map<String, String> weightMap = new TreeMap<>();
    for (int i = 0; i < shards.size(); i++) {
      String name = String.format("%s-%05d-of-%05d.safetensors", baseName, i + 1, shards.size());
      write(new Path(folder, name), shards.get(i), conf);
      written.add(name);
      for (TensorEntry t : shards.get(i)) {
        weightMap.put(t.name(), name);
      }
    }
    ObjectNode index = SafetensorsHeader.JSON.createObjectNode();
    index.putObject("metadata").put("total_size", total);
    ObjectNode map = index.putObject("weight_map");
    weightMap.forEach(map::put);
    String indexName = baseName + ".safetensors.index.json";
    Storage.writeNew(fs, new Path(folder, indexName),
        SafetensorsHeader.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(index));
    written.add(indexName);
    return written;
  }

  private static void checkUniqueNames(List<TensorEntry> tensors) {
    Set<String> seen = new HashSet<>();
    for (TensorEntry t : tensors) {
      if (!seen.add(t.name())) {
        throw new IllegalArgumentException("tensor '" + t.name() + "' is given twice; names must be unique");
      }
    }
  }

  private static void copy(ByteBuffer data, OutputStream out, byte[] chunk) throws IOException {
    ByteBuffer src = data.duplicate();
    if (src.hasArray()) {
      out.write(src.array(), src.arrayOffset() + src.position(), src.remaining());
      return;
    }
    while (src.hasRemaining()) {
      int n = Math.min(chunk.length, src.remaining());
      src.get(chunk, 0, n);
      out.write(chunk, 0, n);
    }
  }
}
