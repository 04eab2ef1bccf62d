package org.longctx.checkpoints.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed and validated safetensors header: every check the format allows is made here, so a
 * reader can trust offsets afterwards.
 *
 * @param tensors the entries in data order (by begin offset)
 * @param metadata the {@code __metadata__} strings (empty when absent)
 * @param dataStart absolute file offset of the data section: 8 + header length
 */
public record SafetensorsHeader(Map<String, TensorInfo> tensors, Map<String, String> metadata, long dataStart) {

  /** The safetensors reference implementation refuses headers above 100 MB; so do we. */
  public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

  static final ObjectMapper JSON = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  public SafetensorsHeader {
    tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
  }

  /** Bytes of the data section. */
  public long dataBytes() {
    long end = 0;
    for (TensorInfo t : tensors.values()) {
      end = Math.max(end, t.end());
    }
    return end;
  }

  /**
   * Reads the 8-byte little-endian header length and checks it against the file size.
   *
   * @return the header length N
   */
  static long headerLength(byte[] first8, long fileSize, String source) throws SafetensorsFormatException {
    if (fileSize < 8) {
      throw new SafetensorsFormatException(source, "file is " + fileSize + " bytes, shorter than the 8-byte header length; not a safetensors file (truncated?)");
    }
    long n = ByteBuffer.wrap(first8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (n < 2 || n > fileSize - 8) {
      throw new SafetensorsFormatException(source, "header length " + Long.toUnsignedString(n) + " goes beyond the file ("
          + fileSize + " bytes, so at most " + (fileSize - 8) + "); file truncated or not safetensors");
    }
    if (n > MAX_HEADER_BYTES) {
      throw new SafetensorsFormatException(source, "header length " + n + " exceeds the format's limit of " + MAX_HEADER_BYTES + " bytes");
    }
    return n;
  }

  /**
   * Parses and validates the JSON header.
   *
   * @param json the N header bytes
   * @param fileSize the whole file's size, to check the data section
   * @param source file name for messages
   */
  static SafetensorsHeader parse(byte[] json, long fileSize, String source) throws SafetensorsFormatException {
    long dataStart = 8L + json.length;
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(json)).toString();
    } catch (CharacterCodingException e) {
      throw new SafetensorsFormatException(source, "header is not valid UTF-8", e);
    }
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      String detail = e.getOriginalMessage();
      if (detail != null && detail.startsWith("Duplicate field")) {
        throw new SafetensorsFormatException(source, "header names a tensor twice: " + detail, e);
      }
      throw new SafetensorsFormatException(source, "header is not valid JSON: " + detail
          + (e.getLocation() == null ? "" : " at character " + e.getLocation().getCharOffset()), e);
    }
    if (root == null || !root.isObject()) {
      throw new SafetensorsFormatException(source, "header must be a JSON object, got " + (root == null ? "nothing" : root.getNodeType()));
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    List<TensorInfo> infos = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      if (e.getKey().equals("__metadata__")) {
        parseMetadata(e.getValue(), metadata, source);
      } else {
        infos.add(parseEntry(e.getKey(), e.getValue(), source));
      }
    }
    infos.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
    long expected = 0;
    for (TensorInfo t : infos) {
      if (t.begin() != expected) {
        throw new SafetensorsFormatException(source, "offsets are not contiguous: tensor '" + t.name() + "' begins at byte " + t.begin()
            + " of the data section but the previous tensor ends at " + expected + " (overlap or gap)");
      }
      expected = t.end();
    }
    long dataBytes = fileSize - dataStart;
    if (expected > dataBytes) {
      TensorInfo last = infos.get(infos.size() - 1);
      throw new SafetensorsFormatException(source, "offset out of range: tensor '" + last.name() + "' ends at byte " + expected
          + " of the data section but the file holds only " + dataBytes + " data bytes (file truncated?)");
    }
    if (expected < dataBytes) {
      throw new SafetensorsFormatException(source, "the data section holds " + dataBytes + " bytes but the tensors cover only "
          + expected + " (trailing bytes; file damaged or header wrong)");
    }
    Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    for (TensorInfo t : infos) {
      tensors.put(t.name(), t);
    }
    return new SafetensorsHeader(tensors, metadata, dataStart);
  }

  private static void parseMetadata(JsonNode node, Map<String, String> out, String source) throws SafetensorsFormatException {
    if (node.isNull()) {
      return;
    }
    if (!node.isObject()) {
      throw new SafetensorsFormatException(source, "__metadata__ must be an object of strings, got " + node.getNodeType());
    }
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      if (!e.getValue().isTextual()) {
        throw new SafetensorsFormatException(source, "__metadata__ value for '" + e.getKey() + "' must be a string, got " + e.getValue());
      }
      out.put(e.getKey(), e.getValue().asText());
    }
  }

  private static TensorInfo parseEntry(String name, JsonNode node, String source) throws SafetensorsFormatException {
    String where = "tensor '" + name + "'";
    if (!node.isObject()) {
      throw new SafetensorsFormatException(source, where + " must be an object with dtype, shape and data_offsets, got " + node);
    }
    JsonNode dtypeNode = node.get("dtype");
    JsonNode shapeNode = node.get("shape");
    JsonNode offsetsNode = node.get("data_offsets");
    if (dtypeNode == null || !dtypeNode.isTextual()) {
      throw new SafetensorsFormatException(source, where + " has no dtype string");
    }
    SafetensorsDtype dtype = SafetensorsDtype.parse(dtypeNode.asText());
    if (dtype == null) {
      throw new SafetensorsFormatException(source, where + " has unknown dtype '" + dtypeNode.asText() + "'; supported: " + SafetensorsDtype.allowedNames());
    }
    if (shapeNode == null || !shapeNode.isArray()) {
      throw new SafetensorsFormatException(source, where + " has no shape array");
    }
    long[] shape = new long[shapeNode.size()];
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = shapeNode.get(i);
      if (!d.isIntegralNumber() || d.asLong() < 0) {
        throw new SafetensorsFormatException(source, where + " has a bad dimension " + d + " in shape " + shapeNode + "; dimensions are integers ≥ 0");
      }
      shape[i] = d.asLong();
    }
    if (offsetsNode == null || !offsetsNode.isArray() || offsetsNode.size() != 2
        || !offsetsNode.get(0).isIntegralNumber() || !offsetsNode.get(1).isIntegralNumber()) {
      throw new SafetensorsFormatException(source, where + " needs data_offsets [begin, end] of two integers, got " + offsetsNode);
    }
    long begin = offsetsNode.get(0).asLong();
    long end = offsetsNode.get(1).asLong();
    if (begin < 0 || end < begin) {
      throw new SafetensorsFormatException(source, where + " has data_offsets " + offsetsNode + "; need 0 ≤ begin ≤ end");
    }
    long expectedBytes;
    try {
      expectedBytes = Math.multiplyExact(TensorInfo.elements(shape), dtype.bytes());
    } catch (ArithmeticException e) {
      throw new SafetensorsFormatException(source, where + " has shape " + shapeNode + " too large to address");
    }
    if (end - begin != expectedBytes) {
      throw new SafetensorsFormatException(source, where + " has " + (end - begin) + " bytes (data_offsets " + offsetsNode + ") but shape "
          + shapeNode + " × " + dtype + " (" + dtype.bytes() + " bytes) needs " + expectedBytes);
    }
    return new TensorInfo(name, dtype, shape, begin, end);
  }

  /**
   * The header bytes for the given entries (offsets already set), with {@code __metadata__}
   * first and spaces padding the JSON to a multiple of 8 bytes, as the reference writer does.
   */
  static byte[] encode(List<TensorInfo> tensors, Map<String, String> metadata) {
    ObjectNode root = JSON.createObjectNode();
    ObjectNode meta = root.putObject("__metadata__");
    metadata.forEach(meta::put);
    for (TensorInfo t : tensors) {
      ObjectNode e = root.putObject(t.name());
      e.put("dtype", t.dtype().name());
      var shape = e.putArray("shape");
      for (long d : t.shape()) {
        shape.add(d);
      }
      e.putArray("data_offsets").add(t.begin()).add(t.end());
    }
    byte[] json;
    try {
      json = JSON.writeValueAsBytes(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode a safetensors header", e);
    }
    int padded = (json.length + 7) / 8 * 8;
    byte[] out = new byte[padded];
    System.arraycopy(json, 0, out, 0, json.length);
    for (int i = json.length; i < padded; i++) {
      out[i] = ' ';
    }
    return out;
  }
}
