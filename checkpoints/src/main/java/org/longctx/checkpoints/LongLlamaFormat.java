package org.longctx.checkpoints;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * LongLLaMA's {@code config.json} [CStanKonrad/long_llama {@code src/configuration_longllama.py}]:
 * a Llama config (same weight names) whose architecture is {@code LongLlamaForCausalLM}, model
 * type {@code longllama}, plus the memory keys {@code mem_layers}, {@code last_context_length},
 * {@code mem_attention_grouping}, {@code mem_positionals}, {@code mem_dtype}. The modeling code is
 * not part of transformers: the published checkpoints name it in {@code auto_map}, which is
 * written the same way here.
 */
final class LongLlamaFormat {

  static final String CLASS_NAME = "LongLlamaForCausalLM";
  static final String MODEL_TYPE = "longllama";

  private LongLlamaFormat() {}

  static boolean isLongLlama(JsonNode config) {
    JsonNode archs = config.get("architectures");
    if (archs != null && archs.isArray() && archs.size() > 0) {
      return archs.get(0).asText().equals(CLASS_NAME);
    }
    return config.path("model_type").asText("").equals(MODEL_TYPE);
  }

  /** The memory keys of a LongLLaMA config.json, with LongLLaMA's defaults for those left out. */
  static MemoryLayers read(JsonNode config) {
    JsonNode layers = config.get("mem_layers");
    if (layers == null || !layers.isArray()) {
      throw new IllegalArgumentException("mem_layers: a LongLLaMA config.json must list its memory layers, got " + layers);
    }
    List<Integer> list = new ArrayList<>();
    for (JsonNode l : layers) {
      if (!l.isIntegralNumber()) {
        throw new IllegalArgumentException("mem_layers: must be layer indices, got " + layers);
      }
      list.add(l.asInt());
    }
    if (!LlamaConfig.bool(config, "mem_positionals", true)) {
      throw new IllegalArgumentException("mem_positionals: false (memory layers without rotary positions) is not supported; "
          + "allowed: true");
    }
    int last = config.hasNonNull("last_context_length") ? LlamaConfig.requiredInt(config, "last_context_length")
        : MemoryLayers.DEFAULT_LAST_CONTEXT_LENGTH;
    int heads = 0;
    int queries = 0;
    JsonNode grouping = config.get("mem_attention_grouping");
    if (grouping != null && !grouping.isNull()) {
      if (!grouping.isArray() || grouping.size() != 2 || !grouping.get(0).isIntegralNumber() || !grouping.get(1).isIntegralNumber()) {
        throw new IllegalArgumentException("mem_attention_grouping: must be null or [heads, queries], got " + grouping);
      }
      heads = grouping.get(0).asInt();
      queries = grouping.get(1).asInt();
    }
    String dtype = config.path("mem_dtype").asText(MemoryLayers.DEFAULT_MEM_DTYPE);
    return new MemoryLayers(list, last, heads, queries, dtype);
  }

  /** Turns a Llama {@code config.json} into LongLLaMA's: its class, model type, auto_map and memory keys. */
  static void write(MemoryLayers memory, ObjectNode c) {
    c.putArray("architectures").add(CLASS_NAME);
    c.put("model_type", MODEL_TYPE);
    ObjectNode autoMap = c.putObject("auto_map");
    autoMap.put("AutoConfig", "configuration_longllama.LongLlamaConfig");
    autoMap.put("AutoModel", "modeling_longllama.LongLlamaModel");
    autoMap.put("AutoModelForCausalLM", "modeling_longllama.LongLlamaForCausalLM");
    autoMap.put("AutoModelForSequenceClassification", "modeling_longllama.LongLlamaForSequenceClassification");
    memory.layers().forEach(c.putArray("mem_layers")::add);
    c.put("last_context_length", memory.lastContextLength());
    if (memory.grouped()) {
      c.putArray("mem_attention_grouping").add(memory.groupingHeads()).add(memory.groupingQueries());
    } else {
      c.putNull("mem_attention_grouping");
    }
    c.put("mem_positionals", true);
    c.put("mem_dtype", memory.memDtype());
    c.put("torch_attention", false);
    c.put("gradient_checkpoint_every_ith", 1);
  }
}
