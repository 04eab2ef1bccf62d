package org.longctx.checkpoints.safetensors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.longctx.checkpoints.Storage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the tensors of one safetensors file or of a sharded folder
 * ({@code <base>.safetensors.index.json} + shards), one tensor at a time, into DJL arrays.
 * Floating-point tensors are converted to the float type the caller asks for (float32 or
 * float16); bfloat16 is converted in Java, and values too large for float16 are counted.
 */
public final class SafetensorsReader implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(SafetensorsReader.class);

  private final String source;
  private final Map<String, SafetensorsFile> fileOf; // tensor name → its shard
  private final List<SafetensorsFile> files;
  private final AtomicLong float16Overflows = new AtomicLong();

  private SafetensorsReader(String source, Map<String, SafetensorsFile> fileOf, List<SafetensorsFile> files) {
    this.source = source;
    this.fileOf = fileOf;
    this.files = files;
  }

  /** Opens a local file or folder holding {@code model.safetensors} or its sharded form. */
  public static SafetensorsReader open(java.nio.file.Path fileOrFolder) throws IOException {
    return open(Storage.path(fileOrFolder), "model", Storage.defaultConf());
  }

  /**
   * Opens a {@code .safetensors} file, or a folder holding {@code <baseName>.safetensors} or
   * {@code <baseName>.safetensors.index.json} with its shards, on any Hadoop file system.
   */
  public static SafetensorsReader open(Path fileOrFolder, String baseName, Configuration conf) throws IOException {
    FileSystem fs = Storage.fileSystem(fileOrFolder, conf);
    if (!fs.exists(fileOrFolder)) {
      throw new java.io.FileNotFoundException(fileOrFolder + ": no such file or folder");
    }
    if (fs.getFileStatus(fileOrFolder).isFile()) {
      return single(fileOrFolder, conf);
    }
    Path index = new Path(fileOrFolder, baseName + ".safetensors.index.json");
    Path single = new Path(fileOrFolder, baseName + ".safetensors");
    if (fs.exists(index)) {
      return sharded(fs, fileOrFolder, index, conf);
    }
    if (fs.exists(single)) {
      return single(single, conf);
    }
    List<String> found = new ArrayList<>();
    for (FileStatus s : fs.listStatus(fileOrFolder)) {
      if (s.getPath().getName().endsWith(".safetensors") || s.getPath().getName().endsWith(".index.json")) {
        found.add(s.getPath().getName());
      }
    }
    throw new java.io.FileNotFoundException(fileOrFolder + ": holds neither " + baseName + ".safetensors nor "
        + baseName + ".safetensors.index.json" + (found.isEmpty() ? "" : "; found " + found));
  }

  private static SafetensorsReader single(Path file, Configuration conf) throws IOException {
    SafetensorsFile f = SafetensorsFile.open(file, conf);
    Map<String, SafetensorsFile> fileOf = new LinkedHashMap<>();
    for (String name : f.header().tensors().keySet()) {
      fileOf.put(name, f);
    }
    return new SafetensorsReader(file.toString(), fileOf, List.of(f));
  }

  private static SafetensorsReader sharded(FileSystem fs, Path folder, Path index, Configuration conf) throws IOException {
    String source = index.toString();
    JsonNode root;
    try {
      root = SafetensorsHeader.JSON.readTree(new String(Storage.readAll(fs, index), StandardCharsets.UTF_8));
    } catch (JsonProcessingException e) {
      throw new SafetensorsFormatException(source, "index is not valid JSON: " + e.getOriginalMessage(), e);
    }
    JsonNode map = root == null ? null : root.get("weight_map");
    if (map == null || !map.isObject()) {
      throw new SafetensorsFormatException(source, "index has no \"weight_map\" object");
    }
    Map<String, String> shardOf = new TreeMap<>();
    for (Map.Entry<String, JsonNode> e : map.properties()) {
      String shard = e.getValue().asText();
      if (!e.getValue().isTextual() || shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.startsWith(".")) {
        throw new SafetensorsFormatException(source, "weight_map entry '" + e.getKey() + "' names shard " + e.getValue()
            + "; a shard is a plain file name in the same folder");
      }
      shardOf.put(e.getKey(), shard);
    }
    Map<String, SafetensorsFile> opened = new LinkedHashMap<>();
    Map<String, SafetensorsFile> fileOf = new LinkedHashMap<>();
    try {
      for (String shard : new java.util.TreeSet<>(shardOf.values())) {
        Path p = new Path(folder, shard);
        if (!fs.exists(p)) {
          throw new SafetensorsFormatException(source, "index names shard '" + shard + "' but it is missing from " + folder);
        }
        opened.put(shard, SafetensorsFile.open(p, conf));
      }
      for (Map.Entry<String, SafetensorsFile> e : opened.entrySet()) {
        for (String name : e.getValue().header().tensors().keySet()) {
          String indexed = shardOf.get(name);
          if (indexed == null) {
            throw new SafetensorsFormatException(source, "shard '" + e.getKey() + "' holds tensor '" + name + "' that the index does not list");
          }
          if (!indexed.equals(e.getKey())) {
            throw new SafetensorsFormatException(source, "tensor '" + name + "' is in shard '" + e.getKey() + "' but the index places it in '" + indexed + "'");
          }
        }
      }
      for (Map.Entry<String, String> e : shardOf.entrySet()) {
        SafetensorsFile f = opened.get(e.getValue());
        if (!f.header().tensors().containsKey(e.getKey())) {
          throw new SafetensorsFormatException(source, "index places tensor '" + e.getKey() + "' in shard '" + e.getValue() + "' but that shard does not hold it");
        }
        fileOf.put(e.getKey(), f);
      }
    } catch (IOException | RuntimeException e) {
      for (SafetensorsFile f : opened.values()) {
        f.close();
      }
      throw e;
    }
    return new SafetensorsReader(source, fileOf, new ArrayList<>(opened.values()));
  }

  /** Where the tensors come from (a file, or an index file), for messages. */
  public String source() {
    return source;
  }

  /** Every tensor name (file order for one file, sorted for a sharded folder). */
  public List<String> names() {
    return List.copyOf(fileOf.keySet());
  }

  public boolean contains(String name) {
    return fileOf.containsKey(name);
  }

  /** The header entry of a tensor. */
  public TensorInfo info(String name) {
    return file(name).header().tensors().get(name);
  }

  /** The {@code __metadata__} of the first file. */
  public Map<String, String> metadata() {
    return files.isEmpty() ? Map.of() : files.get(0).header().metadata();
  }

  /** Raw little-endian bytes of a tensor (see {@link SafetensorsFile#bytes}). */
  public ByteBuffer bytes(String name) throws IOException {
    return file(name).bytes(name);
  }

  /** Values that became ±infinity because they were read as float16, so far. */
  public long float16Overflows() {
    return float16Overflows.get();
  }

  private SafetensorsFile file(String name) {
    SafetensorsFile f = fileOf.get(name);
    if (f == null) {
      throw new IllegalArgumentException(source + ": no tensor '" + name + "'");
    }
    return f;
  }

  /**
   * Reads one tensor into {@code manager}. Floating-point data (F32, F16, BF16) arrives as
   * {@code floatType} (FLOAT32 or FLOAT16); integer and boolean data keep their type.
   */
  public NDArray read(NDManager manager, String name, DataType floatType) throws IOException {
    if (floatType != DataType.FLOAT32 && floatType != DataType.FLOAT16) {
      throw new IllegalArgumentException("float type " + floatType + " is not allowed; allowed: float32, float16");
    }
    TensorInfo info = info(name);
    ByteBuffer raw = bytes(name);
    Shape shape = new Shape(info.shape());
    SafetensorsDtype from = info.dtype();
    if (!from.isFloat() || from.djlType() == floatType) {
      return create(manager, raw, shape, from.djlType());
    }
    long n = info.elements();
    ByteBuffer out = ByteBuffer.allocateDirect(Math.toIntExact(n * floatType.getNumOfBytes())).order(ByteOrder.nativeOrder());
    long overflow = convert(raw, from, out, floatType == DataType.FLOAT32 ? SafetensorsDtype.F32 : SafetensorsDtype.F16, n);
    out.flip();
    if (overflow > 0) {
      float16Overflows.addAndGet(overflow);
      LOG.warn("{}: {} values of '{}' ({}) exceed float16's range and became ±infinity", source, overflow, name, from);
    }
    return manager.create(out, shape, floatType);
  }

  /**
   * DJL's CPU arrays alias a direct buffer they are created from; a memory-mapped view must not
   * back a live tensor (it is read-only and unmapped by the garbage collector), so copy it once
   * into the tensor's own memory.
   */
  private static NDArray create(NDManager manager, ByteBuffer raw, Shape shape, DataType type) {
    if (!raw.isReadOnly()) {
      return manager.create(raw.order(ByteOrder.nativeOrder()), shape, type);
    }
    try (NDArray view = manager.create(raw, shape, type)) {
      return view.duplicate();
    }
  }

  /**
   * Converts n floats between F32, F16 and BF16 (little-endian in, native order out).
   *
   * @return how many finite values became infinite (narrowing to F16 only)
   */
  static long convert(ByteBuffer in, SafetensorsDtype from, ByteBuffer out, SafetensorsDtype to, long n) {
    ByteBuffer src = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    long overflow = 0;
    for (long i = 0; i < n; i++) {
      float v = switch (from) {
        case F32 -> src.getFloat();
        case F16 -> HalfFloats.halfToFloat(src.getShort());
        case BF16 -> HalfFloats.bf16ToFloat(src.getShort());
        default -> throw new IllegalArgumentException("not a float type: " + from);
      };
      switch (to) {
        case F32 -> out.putFloat(v);
        case F16 -> {
          if (HalfFloats.overflowsFloat16(v)) {
            overflow++;
          }
          out.putShort(HalfFloats.floatToHalf(v));
        }
        case BF16 -> out.putShort(HalfFloats.floatToBf16(v));
        default -> throw new IllegalArgumentException("not a float type: " + to);
      }
    }
    return overflow;
  }

  /**
   * Checks that this file or folder holds exactly the expected tensors with the expected shapes.
   *
   * @param what names the tensor set in the message, e.g. "model weights"
   * @param expected name → shape the restoring side needs
   * @param ignorable stored names that may be present without being expected (e.g. a tied
   *     {@code lm_head.weight}); matched exactly or, ending in {@code *}, by prefix
   * @throws TensorMismatchException listing missing names, unexpected names and every shape
   *     mismatch
   */
  public void requireExactly(String what, Map<String, long[]> expected, java.util.Collection<String> ignorable) throws TensorMismatchException {
    List<String> problems = new ArrayList<>();
    java.util.TreeSet<String> missing = new java.util.TreeSet<>(expected.keySet());
    missing.removeAll(fileOf.keySet());
    java.util.TreeSet<String> unexpected = new java.util.TreeSet<>(fileOf.keySet());
    unexpected.removeAll(expected.keySet());
    unexpected.removeIf(n -> ignorable.stream().anyMatch(p -> p.endsWith("*") ? n.startsWith(p.substring(0, p.length() - 1)) : n.equals(p)));
    if (!missing.isEmpty()) {
      problems.add("missing " + listed(missing));
    }
    if (!unexpected.isEmpty()) {
      problems.add("not expected " + listed(unexpected));
    }
    List<String> shapes = new ArrayList<>();
    for (Map.Entry<String, long[]> e : new TreeMap<>(expected).entrySet()) {
      if (fileOf.containsKey(e.getKey())) {
        TensorInfo info = info(e.getKey());
        if (!java.util.Arrays.equals(info.shape(), e.getValue())) {
          shapes.add("'" + e.getKey() + "' has shape " + info.shapeString() + " but " + java.util.Arrays.toString(e.getValue()) + " is needed");
        }
      }
    }
    problems.addAll(shapes.subList(0, Math.min(shapes.size(), LISTED)));
    if (shapes.size() > LISTED) {
      problems.add("and " + (shapes.size() - LISTED) + " more shape mismatches (" + shapes.size() + " in all)");
    }
    if (!problems.isEmpty()) {
      throw new TensorMismatchException(source + ": " + what + " do not match: " + String.join("; ", problems));
    }
  }

  /**
   * Names listed per kind of mismatch in {@link #requireExactly}'s message. A config whose
   * architecture is far off (num_hidden_layers: 100000) misses millions of names; the message
   * stays one readable line with the first few and the count.
   */
  static final int LISTED = 5;

  private static String listed(java.util.SortedSet<String> names) {
    if (names.size() <= LISTED) {
      return names.toString();
    }
    return names.size() + " tensors, the first " + LISTED + ": " + new ArrayList<>(names).subList(0, LISTED) + " ...";
  }

  /** Metadata view used by tests and tools: name → info, in {@link #names()} order. */
  public Map<String, TensorInfo> infos() {
    Map<String, TensorInfo> m = new LinkedHashMap<>();
    for (String name : fileOf.keySet()) {
      m.put(name, info(name));
    }
    return Collections.unmodifiableMap(m);
  }

  @Override
  public void close() throws IOException {
    IOException first = null;
    for (SafetensorsFile f : files) {
      try {
        f.close();
      } catch (IOException e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
