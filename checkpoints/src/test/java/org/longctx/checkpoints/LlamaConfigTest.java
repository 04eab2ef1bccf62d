package org.longctx.checkpoints;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.longctx.checkpoints.LlamaConfig.Architecture;

class LlamaConfigTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode json(String text) throws IOException {
    return JSON.readTree(text.replace('\'', '"'));
  }

  // shaped like the config.json of meta-llama/Llama-3.2-1B (transformers 4 form), smaller
  static final String LLAMA_V4 = """
      {'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', 'vocab_size': 1000, 'hidden_size': 256,
       'intermediate_size': 512, 'num_hidden_layers': 3, 'num_attention_heads': 8, 'num_key_value_heads': 2,
       'hidden_act': 'silu', 'max_position_embeddings': 131072, 'rms_norm_eps': 1e-05, 'rope_theta': 500000.0,
       'rope_scaling': {'factor': 32.0, 'high_freq_factor': 4.0, 'low_freq_factor': 1.0,
                        'original_max_position_embeddings': 8192, 'rope_type': 'llama3'},
       'tie_word_embeddings': true, 'attention_bias': false, 'mlp_bias': false, 'bos_token_id': 128000,
       'eos_token_id': [128001, 128008, 128009], 'torch_dtype': 'bfloat16'}
      """;

  static final String LLAMA_V5 = """
      {'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', 'vocab_size': 128, 'hidden_size': 64,
       'intermediate_size': 96, 'num_hidden_layers': 2, 'num_attention_heads': 4, 'num_key_value_heads': 2,
       'head_dim': 16, 'max_position_embeddings': 64, 'rms_norm_eps': 1e-05, 'attention_bias': true,
       'rope_parameters': {'rope_type': 'yarn', 'factor': 4.0, 'original_max_position_embeddings': 16, 'rope_theta': 10000.0},
       'bos_token_id': 1, 'eos_token_id': 2, 'pad_token_id': null, 'dtype': 'float32'}
      """;

  static final String MISTRAL = """
      {'architectures': ['MistralForCausalLM'], 'model_type': 'mistral', 'vocab_size': 32000, 'hidden_size': 128,
       'intermediate_size': 256, 'num_hidden_layers': 2, 'num_attention_heads': 4, 'num_key_value_heads': 1,
       'head_dim': null, 'hidden_act': 'silu', 'max_position_embeddings': 32768, 'rms_norm_eps': 1e-05,
       'rope_theta': 1000000.0, 'sliding_window': 4096, 'tie_word_embeddings': false, 'bos_token_id': 1, 'eos_token_id': 2}
      """;

  static final String QWEN2 = """
      {'architectures': ['Qwen2ForCausalLM'], 'model_type': 'qwen2', 'vocab_size': 151936, 'hidden_size': 96,
       'intermediate_size': 192, 'num_hidden_layers': 2, 'num_attention_heads': 6, 'num_key_value_heads': 2,
       'hidden_act': 'silu', 'max_position_embeddings': 32768, 'rms_norm_eps': 1e-06, 'rope_theta': 1000000.0,
       'rope_scaling': null, 'sliding_window': 32768, 'use_sliding_window': false, 'max_window_layers': 21,
       'tie_word_embeddings': true, 'bos_token_id': 151643, 'eos_token_id': 151645}
      """;

  @Test
  void readsLlamaInTransformers4Form() throws IOException {
    LlamaConfig c = LlamaConfig.fromHuggingFace(json(LLAMA_V4));
    assertEquals(Architecture.LLAMA, c.architecture());
    assertEquals(1000, c.vocabSize());
    assertEquals(32, c.headDim(), "hidden_size / num_attention_heads");
    assertEquals(4, c.groupSize());
    assertEquals(1e-5, c.rmsNormEps());
    assertTrue(c.tieWordEmbeddings());
    assertFalse(c.qkvBias() || c.outputBias() || c.mlpBias());
    assertEquals("llama3", c.rope().ropeType());
    assertEquals(500000.0, c.rope().ropeTheta());
    assertEquals(131072, c.maxPositionEmbeddings());
    assertEquals(128000, c.bosTokenId());
    assertEquals(List.of(128001, 128008, 128009), c.eosTokenIds());
    assertNull(c.padTokenId());
  }

  @Test
  void readsLlamaInTransformers5Form() throws IOException {
    LlamaConfig c = LlamaConfig.fromHuggingFace(json(LLAMA_V5));
    assertEquals("yarn", c.rope().ropeType());
    assertEquals(16, c.headDim());
    assertTrue(c.qkvBias() && c.outputBias(), "Llama attention_bias covers q, k, v and o");
    assertFalse(c.tieWordEmbeddings());
    assertEquals(List.of(2), c.eosTokenIds());
  }

  @Test
  void readsMistralWithTheSlidingWindowOff() throws IOException {
    LlamaConfig c = LlamaConfig.fromHuggingFace(json(MISTRAL));
    assertEquals(Architecture.MISTRAL, c.architecture());
    assertEquals(32, c.headDim(), "head_dim null → hidden_size / heads");
    assertEquals(1, c.numKeyValueHeads());
    assertEquals("default", c.rope().ropeType());
    assertEquals(1_000_000.0, c.rope().ropeTheta());
    ObjectNode out = c.toHuggingFace("float32");
    assertTrue(out.get("sliding_window").isNull(), "exported without a sliding window");
  }

  @Test
  void readsQwen2WithQkvBiasAndTiedEmbeddings() throws IOException {
    LlamaConfig c = LlamaConfig.fromHuggingFace(json(QWEN2));
    assertEquals(Architecture.QWEN2, c.architecture());
    assertTrue(c.qkvBias());
    assertFalse(c.outputBias());
    assertFalse(c.mlpBias());
    assertTrue(c.tieWordEmbeddings());
    assertEquals(16, c.headDim());
  }

  @Test
  void unsupportedArchitecturesListTheSupportedOnes() throws IOException {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromHuggingFace(
        json("{'architectures': ['GPT2LMHeadModel'], 'model_type': 'gpt2'}")));
    assertEquals("architectures: 'GPT2LMHeadModel' is not supported; supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM",
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromHuggingFace(json("{'model_type': 'phi3'}")));
    assertTrue(e.getMessage().contains("model_type 'phi3'") && e.getMessage().contains("supported: LlamaForCausalLM"), e.getMessage());
  }

  @Test
  void badValuesNameTheirKey() throws IOException {
    ObjectNode gelu = (ObjectNode) json(LLAMA_V5);
    gelu.put("hidden_act", "gelu");
    assertEquals("hidden_act: 'gelu' is not supported; allowed: silu",
        assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromHuggingFace(gelu)).getMessage());
    ObjectNode kv = (ObjectNode) json(LLAMA_V5);
    kv.put("num_key_value_heads", 3);
    assertEquals("num_key_value_heads: must divide num_attention_heads (4), got 3",
        assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromHuggingFace(kv)).getMessage());
    ObjectNode missing = (ObjectNode) json(LLAMA_V5);
    missing.remove("vocab_size");
    assertEquals("vocab_size: missing from config.json",
        assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromHuggingFace(missing)).getMessage());
  }

  @Test
  void exportWritesBothRopeFormsAndReadsBackTheSame() throws IOException {
    for (String text : List.of(LLAMA_V4, LLAMA_V5, MISTRAL, QWEN2)) {
      LlamaConfig c = LlamaConfig.fromHuggingFace(json(text));
      ObjectNode out = c.toHuggingFace("bfloat16");
      assertEquals("bfloat16", out.get("torch_dtype").asText());
      assertEquals("bfloat16", out.get("dtype").asText());
      assertTrue(out.has("rope_theta") && out.has("rope_scaling") && out.get("rope_parameters").isObject(), out.toString());
      assertEquals(c.rope().ropeType(), out.get("rope_parameters").get("rope_type").asText());
      assertSameModel(c, LlamaConfig.fromHuggingFace(out));
      // each form alone describes the same model: transformers 4 reads one, 5 the other
      ObjectNode v4Only = out.deepCopy();
      v4Only.remove("rope_parameters");
      assertSameModel(c, LlamaConfig.fromHuggingFace(v4Only));
      ObjectNode v5Only = out.deepCopy();
      v5Only.remove("rope_scaling");
      v5Only.remove("rope_theta");
      v5Only.remove("original_max_position_embeddings");
      assertSameModel(c, LlamaConfig.fromHuggingFace(v5Only));
    }
    ObjectNode llama3 = LlamaConfig.fromHuggingFace(json(LLAMA_V4)).toHuggingFace("float32");
    assertEquals("llama3", llama3.get("rope_scaling").get("rope_type").asText());
    assertEquals(32.0, llama3.get("rope_scaling").get("factor").asDouble());
    assertEquals(500000.0, llama3.get("rope_theta").asDouble());
    assertEquals(8192, llama3.get("rope_parameters").get("original_max_position_embeddings").asInt());
    assertEquals("[128001,128008,128009]", llama3.get("eos_token_id").toString());
    assertEquals("[128001,128008,128009]", LlamaConfig.fromHuggingFace(json(LLAMA_V4)).generationConfig().get("eos_token_id").toString());
  }

  // shaped like syzymon/long_llama_3b's config.json (CStanKonrad/long_llama src/configuration_longllama.py keys), smaller
  static final String LONG_LLAMA = """
      {'architectures': ['LongLlamaForCausalLM'], 'auto_map': {'AutoConfig': 'configuration_longllama.LongLlamaConfig',
       'AutoModelForCausalLM': 'modeling_longllama.LongLlamaForCausalLM'}, 'model_type': 'longllama', 'vocab_size': 320,
       'hidden_size': 64, 'intermediate_size': 128, 'num_hidden_layers': 6, 'num_attention_heads': 4, 'hidden_act': 'silu',
       'max_position_embeddings': 2048, 'rms_norm_eps': 1e-06, 'rope_theta': 10000.0, 'rope_scaling': null,
       'mem_layers': [1, 3, 5], 'mem_positionals': true, 'mem_dtype': 'bfloat16', 'mem_attention_grouping': [4, 2048],
       'last_context_length': 1024, 'torch_attention': false, 'gradient_checkpoint_every_ith': 1,
       'tie_word_embeddings': false, 'bos_token_id': 1, 'eos_token_id': 2, 'pad_token_id': 0, 'torch_dtype': 'float32'}
      """;

  @Test
  void readsAndWritesLongLlamaConfigs() throws IOException {
    LlamaConfig c = LlamaConfig.fromHuggingFace(json(LONG_LLAMA));
    assertEquals(Architecture.LLAMA, c.architecture(), "a Llama with memory layers, Llama's weight names");
    assertEquals(new MemoryLayers(List.of(1, 3, 5), 1024, 4, 2048, "bfloat16"), c.memory());
    assertEquals(4, c.numKeyValueHeads(), "LongLLaMA has no grouped-query attention");
    ObjectNode out = c.toHuggingFace("float32");
    assertEquals("[\"LongLlamaForCausalLM\"]", out.get("architectures").toString());
    assertEquals("longllama", out.get("model_type").asText());
    assertEquals("modeling_longllama.LongLlamaForCausalLM", out.get("auto_map").get("AutoModelForCausalLM").asText());
    assertEquals("[1,3,5]", out.get("mem_layers").toString());
    assertEquals("[4,2048]", out.get("mem_attention_grouping").toString());
    assertEquals(1024, out.get("last_context_length").asInt());
    assertTrue(out.get("rope_scaling").isNull());
    LlamaConfig again = LlamaConfig.fromHuggingFace(out);
    assertEquals(c, again, "read back identically");
    ObjectNode plain = c.withMemory(null).toHuggingFace("float32");
    assertEquals("[\"LlamaForCausalLM\"]", plain.get("architectures").toString());
    assertFalse(plain.has("mem_layers"));
    ObjectNode defaults = (ObjectNode) json(LONG_LLAMA);
    defaults.remove(List.of("mem_attention_grouping", "last_context_length", "mem_dtype"));
    assertEquals(MemoryLayers.of(List.of(1, 3, 5), 1024), LlamaConfig.fromHuggingFace(defaults).memory(), "LongLLaMA's defaults");
  }

  @Test
  void refusesMemoryWhereLongLlamaHasNone() throws IOException {
    LlamaConfig gqa = LlamaConfig.fromHuggingFace(json(LLAMA_V5)); // grouped-query attention and biases
    MemoryLayers memory = MemoryLayers.of(List.of(1), 16);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> gqa.withMemory(memory)).getMessage()
        .startsWith("mem_layers: memory layers need a Llama without biases or grouped-query attention"));
    ObjectNode scaled = (ObjectNode) json(LONG_LLAMA);
    scaled.set("rope_scaling", json("{'rope_type': 'linear', 'factor': 2.0}"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromHuggingFace(scaled)).getMessage()
        .startsWith("rope_scaling: memory layers (LongLLaMA) use no rope scaling"));
    ObjectNode beyond = (ObjectNode) json(LONG_LLAMA);
    beyond.putArray("mem_layers").add(6);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromHuggingFace(beyond)).getMessage()
        .startsWith("mem_layers: layer 6 does not exist; allowed: 0 … 5"));
    ObjectNode tooLong = (ObjectNode) json(LONG_LLAMA);
    tooLong.put("last_context_length", 4096);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromHuggingFace(tooLong)).getMessage()
        .startsWith("last_context_length: must be ≤ the window (max_position_embeddings 2048), got 4096"));
    ObjectNode noPositions = (ObjectNode) json(LONG_LLAMA);
    noPositions.put("mem_positionals", false);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromHuggingFace(noPositions)).getMessage()
        .startsWith("mem_positionals"));
  }

  private static void assertSameModel(LlamaConfig expected, LlamaConfig actual) {
    assertEquals(expected.architecture(), actual.architecture());
    assertEquals(expected.vocabSize(), actual.vocabSize());
    assertEquals(expected.hiddenSize(), actual.hiddenSize());
    assertEquals(expected.intermediateSize(), actual.intermediateSize());
    assertEquals(expected.numHiddenLayers(), actual.numHiddenLayers());
    assertEquals(expected.numAttentionHeads(), actual.numAttentionHeads());
    assertEquals(expected.numKeyValueHeads(), actual.numKeyValueHeads());
    assertEquals(expected.headDim(), actual.headDim());
    assertEquals(expected.rmsNormEps(), actual.rmsNormEps());
    assertEquals(expected.tieWordEmbeddings(), actual.tieWordEmbeddings());
    assertEquals(expected.qkvBias(), actual.qkvBias());
    assertEquals(expected.outputBias(), actual.outputBias());
    assertEquals(expected.mlpBias(), actual.mlpBias());
    assertEquals(expected.bosTokenId(), actual.bosTokenId());
    assertEquals(expected.eosTokenIds(), actual.eosTokenIds());
    assertEquals(expected.padTokenId(), actual.padTokenId());
    assertEquals(expected.rope().ropeType(), actual.rope().ropeType());
    assertEquals(expected.rope().ropeTheta(), actual.rope().ropeTheta());
    assertEquals(expected.maxPositionEmbeddings(), actual.maxPositionEmbeddings());
    assertEquals(expected.rope().toConfig(), actual.rope().toConfig());
    for (long len : new long[] {1, 100, 20000, 200000}) {
      assertArrayEquals(expected.rope().invFreq(len), actual.rope().invFreq(len));
      assertEquals(expected.rope().attentionFactor(len), actual.rope().attentionFactor(len));
    }
  }
}
