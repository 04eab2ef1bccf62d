package org.longctx.checkpoints.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.longctx.checkpoints.Storage;

/** Deliberately damaged files: each must fail with a message naming the file and the problem. */
class SafetensorsCorruptionTest {
  @TempDir Path dir;

  private static final String GOOD_HEADER =
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
  private static final byte[] GOOD_DATA = RawFiles.floatsLe(1f, 2f, 3f);

  private String failure(byte[] content, boolean memoryMap) throws IOException {
    Path f = dir.resolve("bad-" + System.nanoTime() + ".safetensors");
    Files.write(f, content);
    Configuration conf = new Configuration();
    conf.setBoolean(SafetensorsFile.MEMORY_MAP_KEY, memoryMap);
    SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class,
        () -> SafetensorsReader.open(Storage.path(f), "model", conf).close());
    assertTrue(e.getMessage().startsWith(Storage.path(f).toString() + ": ") || e.getMessage().contains(f.getFileName().toString()),
        "message names the file: " + e.getMessage());
    return e.getMessage();
  }

  /** Fails the same way whether the file is memory-mapped or streamed; returns the message. */
  private String failure(byte[] content) throws IOException {
    String mapped = failure(content, true);
    String streamed = failure(content, false);
    assertEquals(problem(mapped), problem(streamed));
    return mapped;
  }

  private static String problem(String message) {
    return message.substring(message.indexOf(".safetensors: ") + ".safetensors: ".length());
  }

  @Test
  void theGoodFileReads() throws IOException {
    Path f = dir.resolve("good.safetensors");
    Files.write(f, RawFiles.file(GOOD_HEADER, GOOD_DATA));
    try (SafetensorsReader r = SafetensorsReader.open(f)) {
      assertEquals(List.of("a", "b"), r.names());
      assertEquals(8, r.info("a").byteSize());
    }
  }

  @Test
  void fileShorterThanTheLengthField() throws IOException {
    assertContains(failure(new byte[] {1, 2, 3}), "shorter than the 8-byte header length");
  }

  @ParameterizedTest
  @ValueSource(longs = {1_000_000, -5, 0x7fffffffffffffffL})
  void headerLengthBeyondTheFile(long declared) throws IOException {
    byte[] header = GOOD_HEADER.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertContains(failure(RawFiles.file(declared, header, GOOD_DATA)), "goes beyond the file");
  }

  @Test
  void headerThatIsNotJson() throws IOException {
    assertContains(failure(RawFiles.file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],", RawFiles.floatsLe(1f, 2f))), "header is not valid JSON");
  }

  @Test
  void headerThatIsNotAnObject() throws IOException {
    assertContains(failure(RawFiles.file("[1, 2, 3]", new byte[0])), "header must be a JSON object");
  }

  @Test
  void headerThatIsNotUtf8() throws IOException {
    byte[] header = {'{', '"', (byte) 0xff, '"', ':', '1', '}'};
    assertContains(failure(RawFiles.file(header.length, header, new byte[0])), "not valid UTF-8");
  }

  @Test
  void offsetsWithAGap() throws IOException {
    String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
    assertContains(failure(RawFiles.file(h, GOOD_DATA)), "offsets are not contiguous: tensor 'b' begins at byte 8");
  }

  @Test
  void overlappingOffsets() throws IOException {
    String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
    assertContains(failure(RawFiles.file(h, RawFiles.floatsLe(1f, 2f))), "not contiguous");
  }

  @Test
  void offsetsBeyondTheData() throws IOException {
    // the header promises 12 data bytes, the file was cut after 10
    byte[] cut = java.util.Arrays.copyOf(GOOD_DATA, 10);
    assertContains(failure(RawFiles.file(GOOD_HEADER, cut)), "offset out of range: tensor 'b' ends at byte 12");
  }

  @Test
  void trailingBytesAfterTheLastTensor() throws IOException {
    assertContains(failure(RawFiles.file(GOOD_HEADER, RawFiles.concat(GOOD_DATA, new byte[] {9, 9}))), "trailing bytes");
  }

  @Test
  void byteSizeNotMatchingShapeTimesDtype() throws IOException {
    String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}";
    assertContains(failure(RawFiles.file(h, RawFiles.floatsLe(1f, 2f))), "tensor 'a' has 8 bytes (data_offsets [0,8]) but shape [3] × F32 (4 bytes) needs 12");
  }

  @Test
  void unknownDtype() throws IOException {
    String h = "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}";
    String msg = failure(RawFiles.file(h, new byte[2]));
    assertContains(msg, "unknown dtype 'F8_E4M3'");
    assertContains(msg, "supported: F32, F16, BF16, I64, I32, I8, U8, BOOL");
  }

  @Test
  void duplicateNames() throws IOException {
    String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
    assertContains(failure(RawFiles.file(h, RawFiles.floatsLe(1f, 2f))), "names a tensor twice: Duplicate field 'a'");
  }

  @Test
  void missingOrMalformedFields() throws IOException {
    assertContains(failure(RawFiles.file("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4])), "tensor 'a' has no dtype");
    assertContains(failure(RawFiles.file("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", new byte[4])), "tensor 'a' has no shape");
    assertContains(failure(RawFiles.file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4])), "bad dimension -1");
    assertContains(failure(RawFiles.file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", new byte[4])), "needs data_offsets [begin, end]");
    assertContains(failure(RawFiles.file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", new byte[4])), "need 0 ≤ begin ≤ end");
    assertContains(failure(RawFiles.file("{\"__metadata__\":{\"format\":3}}", new byte[0])), "__metadata__ value for 'format' must be a string");
  }

  // ---- sharded folders ----

  private Path shardedFolder(String index, String... shardNames) throws IOException {
    Path folder = Files.createTempDirectory(dir, "sharded");
    Files.writeString(folder.resolve("model.safetensors.index.json"), index);
    for (String s : shardNames) {
      Files.write(folder.resolve(s), RawFiles.file(GOOD_HEADER, GOOD_DATA));
    }
    return folder;
  }

  private static String shardFailure(Path folder) {
    SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsReader.open(folder).close());
    assertTrue(e.getMessage().contains("model.safetensors.index.json"), e.getMessage());
    return e.getMessage();
  }

  @Test
  void indexNamingAMissingShard() throws IOException {
    Path f = shardedFolder("{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\"}}", "s1.safetensors");
    assertContains(shardFailure(f), "index names shard 's2.safetensors' but it is missing");
  }

  @Test
  void shardHoldingATensorTheIndexDoesNotList() throws IOException {
    Path f = shardedFolder("{\"weight_map\":{\"a\":\"s1.safetensors\"}}", "s1.safetensors");
    assertContains(shardFailure(f), "shard 's1.safetensors' holds tensor 'b' that the index does not list");
  }

  @Test
  void indexPlacingATensorInTheWrongShard() throws IOException {
    Path f = shardedFolder("{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s1.safetensors\",\"c\":\"s1.safetensors\"}}", "s1.safetensors");
    assertContains(shardFailure(f), "index places tensor 'c' in shard 's1.safetensors' but that shard does not hold it");
  }

  @Test
  void indexThatIsNotJsonOrEscapesTheFolder() throws IOException {
    assertContains(shardFailure(shardedFolder("{\"weight_map\": {", "s1.safetensors")), "index is not valid JSON");
    assertContains(shardFailure(shardedFolder("{\"files\": []}")), "no \"weight_map\" object");
    assertContains(shardFailure(shardedFolder("{\"weight_map\":{\"a\":\"../s1.safetensors\"}}")), "a shard is a plain file name");
    assertContains(shardFailure(shardedFolder("{\"weight_map\":{\"a\":\"s1.safetensors\",\"a\":\"s2.safetensors\"}}")), "Duplicate field 'a'");
  }

  @Test
  void folderWithoutWeights() throws IOException {
    Path empty = Files.createTempDirectory(dir, "empty");
    Files.write(empty.resolve("other.safetensors"), RawFiles.file(GOOD_HEADER, GOOD_DATA));
    IOException e = assertThrows(IOException.class, () -> SafetensorsReader.open(empty));
    assertContains(e.getMessage(), "holds neither model.safetensors nor model.safetensors.index.json; found [other.safetensors]");
  }

  private static void assertContains(String message, String part) {
    assertTrue(message.contains(part), "expected «" + part + "» in: " + message);
  }
}
