package org.longctx.data.prepare;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.EnumFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.longctx.data.DataConfig;
import org.longctx.data.tokenizer.TokenizerSpec;

/**
 * {@code manifest.json} of a prepared dataset: what went in, what came out and why the rest
 * did not, in a fixed key order and without timestamps, so the same inputs give the same
 * manifest. Layout:
 *
 * <pre>
 * format_version, layout,
 * output:   rows, tokens, parts[{shard, input, input_bytes, records_in, kept, rejected_total, rows, tokens, rejects}]
 * counts:   records_in, kept, rejected_total, rejected{reason: n}, rejects_written, tokens_kept,
 *           truncated_documents, tokens_cut, packed_tail_tokens
 * filters:  [{stage, in, out, rejected{reason: n}}]   (out of one stage = in of the next; last out = kept)
 * sources:  {name: {in, kept, tokens, rejected{reason: n}}}   (documents that parsed)
 * length_histogram: [{min, max, count}]   (kept documents, power-of-two buckets)
 * tokenizer: {source, sha256, vocab_size, bos_token, bos_id, eos_token, eos_id}
 * config:   the data section as resolved
 * </pre>
 */
public final class PrepareManifest {
  public static final String FILE = "manifest.json";
  public static final int FORMAT_VERSION = 1;

  static final ObjectMapper JSON = JsonMapper.builder()
      .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .configure(EnumFeature.WRITE_ENUMS_TO_LOWERCASE, true)
      .enable(SerializationFeature.INDENT_OUTPUT)
      .build();

  private PrepareManifest() {}

  /** Builds the manifest from the per-partition results (in partition order). */
  public static ObjectNode build(DataConfig config, TokenizerSpec tokenizer, List<PartResult> parts) {
    PartStats total = new PartStats();
    for (PartResult p : parts) {
      total.merge(p.stats());
    }
    ObjectNode root = JSON.createObjectNode();
    root.put("format_version", FORMAT_VERSION);
    root.put("layout", config.layout().name().toLowerCase(java.util.Locale.ROOT));
    if (config.layout() == DataConfig.Layout.PACKED) {
      root.put("seq_len", config.seqLen());
    }

    ObjectNode output = root.putObject("output");
    output.put("rows", total.rows);
    output.put("tokens", total.rowTokens);
    ArrayNode partList = output.putArray("parts");
    for (PartResult p : parts) {
      ObjectNode n = partList.addObject();
      n.put("shard", p.shard());
      n.put("input", p.task().path());
      n.put("input_bytes", p.task().bytes());
      n.put("records_in", p.stats().recordsIn);
      n.put("kept", p.stats().kept);
      n.put("rejected_total", p.stats().rejectedTotal());
      n.put("rows", p.stats().rows);
      n.put("tokens", p.stats().rowTokens);
      if (p.rejects().isEmpty()) {
        n.putNull("rejects");
      } else {
        n.put("rejects", p.rejects());
      }
    }

    ObjectNode counts = root.putObject("counts");
    counts.put("records_in", total.recordsIn);
    counts.put("kept", total.kept);
    counts.put("rejected_total", total.rejectedTotal());
    counts.set("rejected", reasons(total.rejected, true));
    counts.put("rejects_written", total.rejectsWritten);
    counts.put("tokens_kept", total.tokensKept);
    counts.put("truncated_documents", total.truncatedDocuments);
    counts.put("tokens_cut", total.tokensCut);
    counts.put("packed_tail_tokens", total.packedTailTokens);

    ArrayNode filters = root.putArray("filters");
    long in = total.recordsIn;
    for (String stage : Reason.STAGES) {
      ObjectNode f = filters.addObject();
      f.put("stage", stage);
      f.put("in", in);
      ObjectNode rejected = JSON.createObjectNode();
      long dropped = 0;
      for (Reason r : Reason.values()) {
        if (r.stage().equals(stage)) {
          rejected.put(r.key(), total.rejected[r.ordinal()]);
          dropped += total.rejected[r.ordinal()];
        }
      }
      in -= dropped;
      f.put("out", in);
      f.set("rejected", rejected);
    }

    ObjectNode sources = root.putObject("sources");
    for (Map.Entry<String, PartStats.SourceStats> e : total.sources.entrySet()) {
      ObjectNode s = sources.putObject(e.getKey());
      s.put("in", e.getValue().in);
      s.put("kept", e.getValue().kept);
      s.put("tokens", e.getValue().tokens);
      s.set("rejected", reasons(e.getValue().rejected, false));
    }

    ArrayNode histogram = root.putArray("length_histogram");
    for (int b = 0; b < total.lengthHistogram.length; b++) {
      if (total.lengthHistogram[b] > 0) {
        ObjectNode h = histogram.addObject();
        h.put("min", b == 0 ? 0 : 1L << (b - 1));
        h.put("max", b == 0 ? 0 : (1L << b) - 1);
        h.put("count", total.lengthHistogram[b]);
      }
    }

    ObjectNode tok = root.putObject("tokenizer");
    tokenizer.describe().forEach((k, v) -> tok.set(k, JSON.valueToTree(v)));
    root.set("config", JSON.valueToTree(config));
    return root;
  }

  private static ObjectNode reasons(long[] counts, boolean includeZeros) {
    ObjectNode out = JSON.createObjectNode();
    for (Reason r : Reason.values()) {
      if (includeZeros || counts[r.ordinal()] > 0) {
        out.put(r.key(), counts[r.ordinal()]);
      }
    }
    return out;
  }

  public static byte[] toBytes(JsonNode manifest) {
    try {
      return (JSON.writeValueAsString(manifest) + "\n").getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static JsonNode parse(byte[] bytes) throws IOException {
    return JSON.readTree(bytes);
  }
}
