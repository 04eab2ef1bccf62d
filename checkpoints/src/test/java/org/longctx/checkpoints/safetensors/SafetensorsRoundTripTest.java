package org.longctx.checkpoints.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.longctx.checkpoints.Storage;

class SafetensorsRoundTripTest {
  @TempDir Path dir;
  NDManager manager;

  @BeforeEach
  void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterEach
  void close() {
    manager.close();
  }

  private static Configuration conf(boolean memoryMap) {
    Configuration c = new Configuration();
    c.setBoolean(SafetensorsFile.MEMORY_MAP_KEY, memoryMap);
    return c;
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void everyDtypeSurvivesWriteAndRead(boolean memoryMap) throws IOException {
    NDArray f32 = manager.create(new float[] {1.5f, -2.25f, 3e-8f, 7f, 0f, -0f}, new Shape(2, 3));
    NDArray f16 = manager.create(new float[] {0.5f, 1000f, -3.75f}, new Shape(3)).toType(DataType.FLOAT16, false);
    NDArray i64 = manager.create(new long[] {Long.MAX_VALUE, -1, 42}, new Shape(3, 1));
    NDArray i32 = manager.create(new int[] {Integer.MIN_VALUE, 5});
    NDArray i8 = manager.create(new byte[] {-128, 127}, new Shape(2)).toType(DataType.INT8, false);
    NDArray u8 = manager.create(new byte[] {(byte) 255, 3}, new Shape(2)).toType(DataType.UINT8, false);
    NDArray bool = manager.create(new boolean[] {true, false, true});
    NDArray scalar = manager.create(3.25f);
    List<TensorEntry> entries = List.of(
        TensorEntry.of("f32", f32), TensorEntry.of("f16", f16), TensorEntry.of("i64", i64), TensorEntry.of("i32", i32),
        TensorEntry.of("i8", i8), TensorEntry.of("u8", u8), TensorEntry.of("bool", bool), TensorEntry.of("scalar", scalar));
    Path file = dir.resolve("all.safetensors");
    SafetensorsWriter.write(Storage.path(file), entries, conf(memoryMap));
    try (SafetensorsReader r = SafetensorsReader.open(Storage.path(file), "model", conf(memoryMap))) {
      assertEquals(List.of("f32", "f16", "i64", "i32", "i8", "u8", "bool", "scalar"), r.names());
      assertEquals(SafetensorsDtype.F16, r.info("f16").dtype());
      assertEquals(SafetensorsDtype.U8, r.info("u8").dtype());
      assertEquals(f32, r.read(manager, "f32", DataType.FLOAT32));
      assertEquals(new Shape(2, 3), r.read(manager, "f32", DataType.FLOAT32).getShape());
      assertEquals(f16, r.read(manager, "f16", DataType.FLOAT16));
      assertArrayEquals(new float[] {0.5f, 1000f, -3.75f}, r.read(manager, "f16", DataType.FLOAT32).toFloatArray());
      assertArrayEquals(i64.toLongArray(), r.read(manager, "i64", DataType.FLOAT32).toLongArray());
      assertEquals(DataType.INT64, r.read(manager, "i64", DataType.FLOAT32).getDataType());
      assertArrayEquals(i32.toIntArray(), r.read(manager, "i32", DataType.FLOAT32).toIntArray());
      assertArrayEquals(new byte[] {-128, 127}, r.read(manager, "i8", DataType.FLOAT32).toByteArray());
      assertArrayEquals(new byte[] {(byte) 255, 3}, r.read(manager, "u8", DataType.FLOAT32).toByteArray());
      assertArrayEquals(new boolean[] {true, false, true}, r.read(manager, "bool", DataType.FLOAT32).toBooleanArray());
      NDArray s = r.read(manager, "scalar", DataType.FLOAT32);
      assertEquals(new Shape(), s.getShape());
      assertEquals(3.25f, s.getFloat());
      // arrays read from a mapped file own their memory: they can be changed in place
      NDArray mutable = r.read(manager, "f32", DataType.FLOAT32);
      mutable.addi(1f);
      assertEquals(2.5f, mutable.getFloat(0, 0));
      assertEquals(1.5f, r.read(manager, "f32", DataType.FLOAT32).getFloat(0, 0));
    }
  }

  @Test
  void headerIsPaddedToEightBytesAndCarriesFormatPt() throws IOException {
    Path file = dir.resolve("h.safetensors");
    SafetensorsWriter.write(file, List.of(TensorEntry.ofFloats("w", new long[] {3}, new float[] {1, 2, 3}, SafetensorsDtype.F32)));
    byte[] bytes = Files.readAllBytes(file);
    long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, n % 8, "header length " + n);
    String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
    JsonNode json = new ObjectMapper().readTree(header);
    assertEquals("pt", json.get("__metadata__").get("format").asText());
    assertEquals("[0,12]", json.get("w").get("data_offsets").toString());
    assertEquals(8 + n + 12, bytes.length);
    assertEquals(2f, ByteBuffer.wrap(bytes, (int) (8 + n + 4), 4).order(ByteOrder.LITTLE_ENDIAN).getFloat());
    assertThrows(IOException.class, () -> SafetensorsWriter.write(file, List.of()), "never overwrites");
    assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(dir.resolve("dup.safetensors"), List.of(
        TensorEntry.ofFloats("w", new long[] {1}, new float[] {1}, SafetensorsDtype.F32),
        TensorEntry.ofFloats("w", new long[] {1}, new float[] {1}, SafetensorsDtype.F32))));
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void shardedFolderRoundTrips(boolean memoryMap) throws IOException {
    List<TensorEntry> entries = new ArrayList<>();
    List<float[]> values = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      float[] v = new float[10 + i];
      for (int j = 0; j < v.length; j++) {
        v[j] = i * 100 + j;
      }
      values.add(v);
      entries.add(TensorEntry.ofFloats("layer." + i + ".weight", new long[] {v.length}, v, SafetensorsDtype.F32));
    }
    org.apache.hadoop.fs.Path folder = Storage.path(dir.resolve("sharded"));
    // 100-byte shards: tensors of 40..64 bytes → one or two per shard
    List<String> written = SafetensorsWriter.writeSharded(folder, "model", entries, 100, conf(memoryMap));
    assertEquals("model.safetensors.index.json", written.get(written.size() - 1));
    int shards = written.size() - 1;
    assertEquals(String.format("model-00001-of-%05d.safetensors", shards), written.get(0));
    JsonNode index = new ObjectMapper().readTree(dir.resolve("sharded/model.safetensors.index.json").toFile());
    long total = 0;
    for (float[] v : values) {
      total += v.length * 4L;
    }
    assertEquals(total, index.get("metadata").get("total_size").asLong());
    assertEquals(7, index.get("weight_map").size());
    for (String shard : written.subList(0, shards)) {
      long size = Files.size(dir.resolve("sharded").resolve(shard));
      try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("sharded").resolve(shard))) {
        long data = size - f.header().dataStart();
        assertTrue(data <= 100 || f.header().tensors().size() == 1, shard + " holds " + data + " data bytes");
      }
    }
    try (SafetensorsReader r = SafetensorsReader.open(folder, "model", conf(memoryMap))) {
      assertEquals(7, r.names().size());
      for (int i = 0; i < 7; i++) {
        assertArrayEquals(values.get(i), r.read(manager, "layer." + i + ".weight", DataType.FLOAT32).toFloatArray());
      }
    }
    // fits in one file → plain model.safetensors, no index
    org.apache.hadoop.fs.Path one = Storage.path(dir.resolve("one"));
    assertEquals(List.of("model.safetensors"), SafetensorsWriter.writeSharded(one, "model", entries, 1 << 20, conf(memoryMap)));
    try (SafetensorsReader r = SafetensorsReader.open(one, "model", conf(memoryMap))) {
      assertArrayEquals(values.get(6), r.read(manager, "layer.6.weight", DataType.FLOAT32).toFloatArray());
    }
  }

  @Test
  void bfloat16IsConvertedInJavaAndFloat16OverflowIsCounted() throws IOException {
    // hand-made BF16 data: 1.0, -2.5, 70144 (> float16 max), -1.0e6-ish, 0.15625, 65280
    short[] bits = {0x3f80, (short) 0xc020, 0x4789, (short) 0xc974, 0x3e20, 0x477f};
    float[] asFloat = {1.0f, -2.5f, 70144f, -999424f, 0.15625f, 65280f};
    ByteBuffer data = ByteBuffer.allocate(bits.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (short b : bits) {
      data.putShort(b);
    }
    String header = "{\"x\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,12]}}";
    Path file = dir.resolve("bf16.safetensors");
    Files.write(file, RawFiles.file(header, data.array()));
    try (SafetensorsReader r = SafetensorsReader.open(file)) {
      NDArray f32 = r.read(manager, "x", DataType.FLOAT32);
      assertEquals(DataType.FLOAT32, f32.getDataType());
      assertArrayEquals(asFloat, f32.toFloatArray());
      assertEquals(0, r.float16Overflows());
      NDArray f16 = r.read(manager, "x", DataType.FLOAT16);
      assertEquals(DataType.FLOAT16, f16.getDataType());
      assertEquals(2, r.float16Overflows(), "70144 and -999424 do not fit in float16");
      float[] back = f16.toType(DataType.FLOAT32, false).toFloatArray();
      assertEquals(Float.POSITIVE_INFINITY, back[2]);
      assertEquals(Float.NEGATIVE_INFINITY, back[3]);
      assertEquals(65280f, back[5]);
      assertEquals(-2.5f, back[1]);
    }
  }

  @Test
  void float32IsWrittenAsBfloat16WithRoundToNearestEven() throws IOException {
    // 1 + 2^-8 is exactly between bf16 neighbours 1 and 1 + 2^-7: ties to even → 1.0
    // 1 + 3·2^-8 is between 1 + 2^-7 and 1 + 2^-6: ties to even → 1 + 2^-6
    float[] v = {1f + 0x1p-8f, 1f + 3 * 0x1p-8f, 3.14159f, -1e-3f};
    NDArray a = manager.create(v);
    Path file = dir.resolve("out.safetensors");
    SafetensorsWriter.write(file, List.of(TensorEntry.of("v", a, SafetensorsDtype.BF16), TensorEntry.of("h", a, SafetensorsDtype.F16)));
    try (SafetensorsReader r = SafetensorsReader.open(file)) {
      assertEquals(SafetensorsDtype.BF16, r.info("v").dtype());
      ByteBuffer raw = r.bytes("v");
      assertEquals(0x3f80, raw.getShort(0) & 0xffff);
      assertEquals(0x3f82, raw.getShort(2) & 0xffff);
      assertEquals(0x4049, raw.getShort(4) & 0xffff); // 3.140625
      assertEquals(0xba83, raw.getShort(6) & 0xffff); // -0.00100708
      float[] f16 = r.read(manager, "h", DataType.FLOAT32).toFloatArray();
      assertArrayEquals(manager.create(v).toType(DataType.FLOAT16, false).toType(DataType.FLOAT32, false).toFloatArray(), f16,
          "Java float16 rounding equals PyTorch's");
    }
  }
}
