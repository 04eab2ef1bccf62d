package org.longctx.data.synth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * One synthetic document in the Pile format: {@code {"text": ..., "meta": {"pile_set_name":
 * source, ...}}}, so synthetic data flows through the same prepare job as real shards.
 *
 * @param text the document; for retrieval tasks it ends with the answer
 * @param source the {@code pile_set_name}, e.g. {@code synth_passkey}
 * @param meta task details kept next to the text (answer, where the prompt ends, depth...)
 */
public record SynthSample(String text, String source, Map<String, Object> meta) {
  private static final ObjectMapper JSON = new ObjectMapper();

  public SynthSample {
    meta = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(meta));
  }

  /** One JSON line, without the newline. */
  public String toJsonLine() {
    ObjectNode root = JSON.createObjectNode();
    root.put("text", text);
    ObjectNode m = root.putObject("meta");
    m.put("pile_set_name", source);
    meta.forEach((k, v) -> m.set(k, JSON.valueToTree(v)));
    return root.toString();
  }
}
