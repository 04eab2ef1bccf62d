package org.longctx.data.prepare;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.util.List;
import org.longctx.data.DataConfig;
import org.longctx.data.io.Utf8;

/**
 * Turns one raw line into a document (text + source) or a {@link Reason} it is not one. The
 * bytes are checked as strict UTF-8 before JSON parsing, so invalid UTF-8 is told apart
 * from malformed JSON; {@code \\uD800}-style escapes that leave unpaired surrogates in the
 * text count as invalid UTF-8 too (no tokenizer can encode them).
 */
public final class RecordParser {
  /** The source of a document whose record names none. */
  public static final String UNKNOWN_SOURCE = "unknown";

  private static final ObjectReader JSON = new ObjectMapper(JsonFactory.builder()
      // Pile documents can be tens of MB; Jackson's default cap is 20M chars per string
      .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build())
      .build())
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .reader();

  private final String[] textPath;
  private final List<String[]> sourcePaths;

  /** The outcome for one line: either {@code reason} or {@code text} and {@code source} are set. */
  public record Result(Reason reason, String detail, String text, String source) {
    static Result reject(Reason reason, String detail) {
      return new Result(reason, detail, null, null);
    }

    public boolean ok() {
      return reason == null;
    }
  }

  public RecordParser(DataConfig config) {
    this.textPath = config.textField().split("\\.");
    this.sourcePaths = config.sourceFields().stream().map(p -> p.split("\\.")).toList();
  }

  /** Parses {@code line[0, length)}; the bytes are not kept. */
  public Result parse(byte[] line, int length) {
    if (isBlank(line, length)) {
      return Result.reject(Reason.BLANK_LINE, "empty or whitespace-only line");
    }
    int bad = Utf8.firstInvalid(line, 0, length);
    if (bad >= 0) {
      return Result.reject(Reason.INVALID_UTF8, "invalid UTF-8 at byte " + bad + " (0x"
          + String.format("%02x", line[bad] & 0xFF) + ")");
    }
    JsonNode root;
    try {
      root = JSON.readTree(line, 0, length);
    } catch (JsonProcessingException e) {
      return Result.reject(Reason.MALFORMED_JSON, firstLine(e.getOriginalMessage()));
    } catch (IOException e) {
      return Result.reject(Reason.MALFORMED_JSON, firstLine(e.getMessage()));
    }
    if (root == null || !root.isObject()) {
      return Result.reject(Reason.MALFORMED_JSON, "not a JSON object but " + (root == null ? "nothing" : root.getNodeType()));
    }
    JsonNode text = at(root, textPath);
    if (text == null || text.isMissingNode()) {
      return Result.reject(Reason.MISSING_TEXT, "no field '" + String.join(".", textPath) + "'");
    }
    if (!text.isTextual()) {
      return Result.reject(Reason.TEXT_NOT_STRING, "'" + String.join(".", textPath) + "' is " + text.getNodeType());
    }
    String value = text.textValue();
    int surrogate = Utf8.mayHoldSurrogateEscape(line, 0, length) ? Utf8.firstUnpairedSurrogate(value) : -1;
    if (surrogate >= 0) {
      return Result.reject(Reason.INVALID_UTF8, "unpaired surrogate \\u" + Integer.toHexString(value.charAt(surrogate))
          + " (from a JSON escape) at char " + surrogate + " of the text");
    }
    if (value.isBlank()) {
      return Result.reject(Reason.EMPTY_TEXT, "text is empty or whitespace only");
    }
    return new Result(null, null, value, source(root));
  }

  private String source(JsonNode root) {
    for (String[] path : sourcePaths) {
      JsonNode s = at(root, path);
      if (s != null && s.isTextual() && !s.textValue().isEmpty()) {
        return s.textValue();
      }
    }
    return UNKNOWN_SOURCE;
  }

  private static JsonNode at(JsonNode node, String[] path) {
    for (String key : path) {
      if (node == null || !node.isObject()) {
        return null;
      }
      node = node.get(key);
    }
    return node;
  }

  private static boolean isBlank(byte[] b, int length) {
    for (int i = 0; i < length; i++) {
      byte c = b[i];
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\f') {
        return false;
      }
    }
    return true;
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
