package org.longctx.checkpoints;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.longctx.positional.HfRopeConfig;
import org.longctx.positional.Rope;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shape of a Llama-family model, read from and written to a Hugging Face
 * {@code config.json}. Llama, Mistral and Qwen2 differ only in which biases they carry (and in
 * Mistral's sliding window, which longctx switches off), so one record describes all three.
 *
 * @param architecture which Hugging Face class the checkpoint is for
 * @param vocabSize rows of the embedding and of the output head
 * @param hiddenSize model width
 * @param intermediateSize width of the SwiGLU MLP
 * @param numHiddenLayers decoder blocks
 * @param numAttentionHeads query heads
 * @param numKeyValueHeads key/value heads (grouped-query attention when fewer than query heads)
 * @param headDim per-head width (the rotary dimension)
 * @param rmsNormEps epsilon inside RMSNorm's square root
 * @param tieWordEmbeddings the output head reuses the embedding matrix
 * @param qkvBias q, k and v projections carry a bias (Llama's attention_bias; always for Qwen2)
 * @param outputBias the o projection carries a bias (Llama's attention_bias only)
 * @param mlpBias gate, up and down projections carry a bias (Llama's mlp_bias)
 * @param rope the rotary embedding, including rope_theta and max_position_embeddings
 * @param bosTokenId beginning-of-sequence id, or null
 * @param eosTokenIds end-of-sequence ids (config.json allows one or a list)
 * @param padTokenId padding id, or null
 * @param memory Focused Transformer memory layers (a LongLLaMA checkpoint), or null for none
 */
public record LlamaConfig(
    Architecture architecture,
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int numHiddenLayers,
    int numAttentionHeads,
    int numKeyValueHeads,
    int headDim,
    double rmsNormEps,
    boolean tieWordEmbeddings,
    boolean qkvBias,
    boolean outputBias,
    boolean mlpBias,
    Rope rope,
    Integer bosTokenId,
    List<Integer> eosTokenIds,
    Integer padTokenId,
    MemoryLayers memory) {

  private static final Logger LOG = LoggerFactory.getLogger(LlamaConfig.class);
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  /** The Hugging Face model classes longctx reads and writes. */
  public enum Architecture {
    LLAMA("LlamaForCausalLM", "llama"),
    MISTRAL("MistralForCausalLM", "mistral"),
    QWEN2("Qwen2ForCausalLM", "qwen2");

    private final String className;
    private final String modelType;

    Architecture(String className, String modelType) {
      this.className = className;
      this.modelType = modelType;
    }

    /** config.json's {@code architectures[0]}. */
    public String className() {
      return className;
    }

    /** config.json's {@code model_type}. */
    public String modelType() {
      return modelType;
    }

    static String supported() {
      return Arrays.stream(values()).map(Architecture::className).collect(Collectors.joining(", "));
    }

    static Architecture of(JsonNode config) {
      JsonNode archs = config.get("architectures");
      String modelType = config.path("model_type").asText("");
      if (archs != null && archs.isArray() && archs.size() > 0) {
        String name = archs.get(0).asText();
        for (Architecture a : values()) {
          if (a.className.equals(name)) {
            return a;
          }
        }
        throw new IllegalArgumentException("architectures: '" + name + "' is not supported; supported: " + supported());
      }
      for (Architecture a : values()) {
        if (a.modelType.equals(modelType)) {
          return a;
        }
      }
      throw new IllegalArgumentException("config.json names no supported architecture (architectures missing, model_type '"
          + modelType + "'); supported: " + supported());
    }
  }

  public LlamaConfig {
    positive("vocab_size", vocabSize);
    positive("hidden_size", hiddenSize);
    positive("intermediate_size", intermediateSize);
    positive("num_hidden_layers", numHiddenLayers);
    positive("num_attention_heads", numAttentionHeads);
    positive("num_key_value_heads", numKeyValueHeads);
    positive("head_dim", headDim);
    if (numAttentionHeads % numKeyValueHeads != 0) {
      throw new IllegalArgumentException("num_key_value_heads: must divide num_attention_heads (" + numAttentionHeads + "), got " + numKeyValueHeads);
    }
    if (headDim % 2 != 0) {
      throw new IllegalArgumentException("head_dim: must be even (rotary halves), got " + headDim);
    }
    if (!(rmsNormEps > 0) || Double.isInfinite(rmsNormEps)) {
      throw new IllegalArgumentException("rms_norm_eps: must be > 0, got " + rmsNormEps);
    }
    if (rope == null) {
      throw new IllegalArgumentException("rope: required");
    }
    if (rope.headDim() != headDim) {
      throw new IllegalArgumentException("rope: built for head_dim " + rope.headDim() + " but the model's head_dim is " + headDim);
    }
    switch (architecture) {
      case LLAMA -> {
        if (qkvBias != outputBias) {
          throw new IllegalArgumentException("attention_bias: Llama biases all of q, k, v and o or none; got q/k/v " + qkvBias + ", o " + outputBias);
        }
      }
      case MISTRAL -> {
        if (qkvBias || outputBias || mlpBias) {
          throw new IllegalArgumentException("Mistral has no biases; got q/k/v " + qkvBias + ", o " + outputBias + ", mlp " + mlpBias);
        }
      }
      case QWEN2 -> {
        if (!qkvBias || outputBias || mlpBias) {
          throw new IllegalArgumentException("Qwen2 biases exactly q, k and v; got q/k/v " + qkvBias + ", o " + outputBias + ", mlp " + mlpBias);
        }
      }
      default -> throw new IllegalArgumentException("architecture: required");
    }
    eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
    if (memory != null) {
      checkMemory(memory, architecture, numHiddenLayers, numAttentionHeads, numKeyValueHeads, qkvBias, outputBias, mlpBias, rope);
    }
  }

  /** A model without memory layers. */
  public LlamaConfig(Architecture architecture, int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
      int numAttentionHeads, int numKeyValueHeads, int headDim, double rmsNormEps, boolean tieWordEmbeddings, boolean qkvBias,
      boolean outputBias, boolean mlpBias, Rope rope, Integer bosTokenId, List<Integer> eosTokenIds, Integer padTokenId) {
    this(architecture, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads, headDim,
        rmsNormEps, tieWordEmbeddings, qkvBias, outputBias, mlpBias, rope, bosTokenId, eosTokenIds, padTokenId, null);
  }

  /**
   * What LongLLaMA's format can hold [CStanKonrad/long_llama {@code src/modeling_longllama.py}]:
   * a Llama without biases or grouped-query attention, no rope scaling (memory keys are stored
   * as projected, which is their rotation at position 0 only when cos 0 = 1 and sin 0 = 0 are
   * not scaled), memory layers that exist, and a last context that fits the window.
   */
  private static void checkMemory(MemoryLayers memory, Architecture architecture, int numHiddenLayers, int numAttentionHeads,
      int numKeyValueHeads, boolean qkvBias, boolean outputBias, boolean mlpBias, Rope rope) {
    if (architecture != Architecture.LLAMA || qkvBias || outputBias || mlpBias || numKeyValueHeads != numAttentionHeads) {
      throw new IllegalArgumentException("mem_layers: memory layers need a Llama without biases or grouped-query attention "
          + "(LongLLaMA's format); got " + architecture.className() + ", biases q/k/v " + qkvBias + " o " + outputBias + " mlp "
          + mlpBias + ", " + numKeyValueHeads + " key/value heads for " + numAttentionHeads + " heads");
    }
    if (!rope.ropeType().equals("default")) {
      throw new IllegalArgumentException("rope_scaling: memory layers (LongLLaMA) use no rope scaling; got rope_type "
          + rope.ropeType());
    }
    int last = memory.layers().get(memory.layers().size() - 1);
    if (last >= numHiddenLayers) {
      throw new IllegalArgumentException("mem_layers: layer " + last + " does not exist; allowed: 0 … " + (numHiddenLayers - 1));
    }
    if (memory.lastContextLength() > rope.maxPositionEmbeddings()) {
      throw new IllegalArgumentException("last_context_length: must be ≤ the window (max_position_embeddings "
          + rope.maxPositionEmbeddings() + "), got " + memory.lastContextLength());
    }
  }

  private static void positive(String key, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(key + ": must be ≥ 1, got " + value);
    }
  }

  /** max_position_embeddings, as the rope records it. */
  public int maxPositionEmbeddings() {
    return rope.maxPositionEmbeddings();
  }

  /** Query heads sharing one key/value head. */
  public int groupSize() {
    return numAttentionHeads / numKeyValueHeads;
  }

  /** The same model with another rotary embedding (what context extension changes). */
  public LlamaConfig withRope(Rope newRope) {
    return new LlamaConfig(architecture, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
        numKeyValueHeads, headDim, rmsNormEps, tieWordEmbeddings, qkvBias, outputBias, mlpBias, newRope, bosTokenId,
        eosTokenIds, padTokenId, memory);
  }

  /** The same model with Focused Transformer memory layers ({@code null}: none, a plain Llama). */
  public LlamaConfig withMemory(MemoryLayers newMemory) {
    return new LlamaConfig(architecture, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
        numKeyValueHeads, headDim, rmsNormEps, tieWordEmbeddings, qkvBias, outputBias, mlpBias, rope, bosTokenId,
        eosTokenIds, padTokenId, newMemory);
  }

  // ---- config.json in ----

  /**
   * Reads a {@code config.json} of LlamaForCausalLM, MistralForCausalLM or Qwen2ForCausalLM, in
   * the transformers 4 or 5 form.
   *
   * @throws IllegalArgumentException naming the key that is missing, malformed or unsupported
   */
  public static LlamaConfig fromHuggingFace(JsonNode config) {
    if (config == null || !config.isObject()) {
      throw new IllegalArgumentException("config.json: must be a JSON object");
    }
    boolean longLlama = LongLlamaFormat.isLongLlama(config);
    Architecture arch = longLlama ? Architecture.LLAMA : Architecture.of(config);
    String act = config.path("hidden_act").asText("silu");
    if (!act.equals("silu")) {
      throw new IllegalArgumentException("hidden_act: '" + act + "' is not supported; allowed: silu");
    }
    int heads = requiredInt(config, "num_attention_heads");
    int kvHeads = config.hasNonNull("num_key_value_heads") ? requiredInt(config, "num_key_value_heads") : heads;
    int headDim = HfRopeConfig.headDim(config);
    boolean qkvBias;
    boolean outputBias;
    boolean mlpBias;
    switch (arch) {
      case LLAMA -> {
        qkvBias = bool(config, "attention_bias", false);
        outputBias = qkvBias;
        mlpBias = bool(config, "mlp_bias", false);
      }
      case MISTRAL -> {
        qkvBias = false;
        outputBias = false;
        mlpBias = false;
        if (config.hasNonNull("sliding_window")) {
          LOG.warn("config.json: Mistral sliding_window {} is switched off; longctx attends to the whole context "
              + "(identical output for inputs no longer than the window)", config.get("sliding_window"));
        }
      }
      case QWEN2 -> {
        qkvBias = true;
        outputBias = false;
        mlpBias = false;
        if (bool(config, "use_sliding_window", false)) {
          LOG.warn("config.json: Qwen2 use_sliding_window is switched off; longctx attends to the whole context");
        }
      }
      default -> throw new IllegalStateException(arch.toString());
    }
    Rope rope = HfRopeConfig.parse(config, headDim);
    return new LlamaConfig(arch,
        requiredInt(config, "vocab_size"),
        requiredInt(config, "hidden_size"),
        requiredInt(config, "intermediate_size"),
        requiredInt(config, "num_hidden_layers"),
        heads, kvHeads, headDim,
        config.hasNonNull("rms_norm_eps") ? number(config, "rms_norm_eps") : 1e-6,
        bool(config, "tie_word_embeddings", false),
        qkvBias, outputBias, mlpBias, rope,
        optionalInt(config, "bos_token_id"),
        tokenIds(config.get("eos_token_id")),
        optionalInt(config, "pad_token_id"),
        longLlama ? LongLlamaFormat.read(config) : null);
  }

  static int requiredInt(JsonNode config, String key) {
    JsonNode v = config.get(key);
    if (v == null || v.isNull()) {
      throw new IllegalArgumentException(key + ": missing from config.json");
    }
    if (!v.isIntegralNumber() && !(v.isNumber() && v.asDouble() == Math.rint(v.asDouble()))) {
      throw new IllegalArgumentException(key + ": must be an integer, got " + v);
    }
    return v.asInt();
  }

  private static Integer optionalInt(JsonNode config, String key) {
    JsonNode v = config.get(key);
    if (v == null || v.isNull()) {
      return null;
    }
    if (v.isArray()) {
      return v.size() == 0 ? null : v.get(0).asInt();
    }
    return requiredInt(config, key);
  }

  private static List<Integer> tokenIds(JsonNode v) {
    List<Integer> ids = new ArrayList<>();
    if (v == null || v.isNull()) {
      return ids;
    }
    if (v.isArray()) {
      v.forEach(x -> ids.add(x.asInt()));
    } else if (v.isIntegralNumber()) {
      ids.add(v.asInt());
    } else {
      throw new IllegalArgumentException("eos_token_id: must be an integer or a list of integers, got " + v);
    }
    return ids;
  }

  private static double number(JsonNode config, String key) {
    JsonNode v = config.get(key);
    if (!v.isNumber()) {
      throw new IllegalArgumentException(key + ": must be a number, got " + v);
    }
    return v.asDouble();
  }

  static boolean bool(JsonNode config, String key, boolean otherwise) {
    JsonNode v = config.get(key);
    if (v == null || v.isNull()) {
      return otherwise;
    }
    if (!v.isBoolean()) {
      throw new IllegalArgumentException(key + ": must be true or false, got " + v);
    }
    return v.asBoolean();
  }

  // ---- config.json out ----

  /**
   * The {@code config.json} transformers loads for this model. The rope is written in both
   * forms — {@code rope_scaling} + {@code rope_theta} (transformers 4.x) and
   * {@code rope_parameters} (5.x) — describing the same rotary embedding.
   *
   * @param dtype what the weights are stored as: float32, float16 or bfloat16
   */
  public ObjectNode toHuggingFace(String dtype) {
    if (!List.of("float32", "float16", "bfloat16").contains(dtype)) {
      throw new IllegalArgumentException("dtype: '" + dtype + "' is not allowed; allowed: float32, float16, bfloat16");
    }
    ObjectNode c = JSON.objectNode();
    c.putArray("architectures").add(architecture.className());
    c.put("model_type", architecture.modelType());
    c.put("vocab_size", vocabSize);
    c.put("hidden_size", hiddenSize);
    c.put("intermediate_size", intermediateSize);
    c.put("num_hidden_layers", numHiddenLayers);
    c.put("num_attention_heads", numAttentionHeads);
    c.put("num_key_value_heads", numKeyValueHeads);
    c.put("head_dim", headDim);
    c.put("hidden_act", "silu");
    c.put("rms_norm_eps", rmsNormEps);
    c.put("tie_word_embeddings", tieWordEmbeddings);
    c.put("initializer_range", 0.02);
    c.put("attention_dropout", 0.0);
    c.put("use_cache", true);
    switch (architecture) {
      case LLAMA -> {
        c.put("attention_bias", qkvBias);
        c.put("mlp_bias", mlpBias);
        c.put("pretraining_tp", 1);
      }
      case MISTRAL -> c.putNull("sliding_window");
      case QWEN2 -> {
        c.put("use_sliding_window", false);
        c.putNull("sliding_window");
        c.put("max_window_layers", numHiddenLayers);
      }
      default -> throw new IllegalStateException(architecture.toString());
    }
    putIdOrNull(c, "bos_token_id", bosTokenId);
    if (eosTokenIds.size() == 1) {
      c.put("eos_token_id", eosTokenIds.get(0));
    } else if (eosTokenIds.isEmpty()) {
      c.putNull("eos_token_id");
    } else {
      ArrayNode a = c.putArray("eos_token_id");
      eosTokenIds.forEach(a::add);
    }
    putIdOrNull(c, "pad_token_id", padTokenId);
    c.put("torch_dtype", dtype); // transformers 4.x
    c.put("dtype", dtype); // transformers 5.x
    ObjectNode v4 = JSON.objectNode();
    HfRopeConfig.writeV4(rope, v4);
    ObjectNode v5 = JSON.objectNode();
    HfRopeConfig.writeV5(rope, v5);
    c.put("max_position_embeddings", rope.maxPositionEmbeddings());
    c.set("rope_theta", v4.get("rope_theta"));
    c.set("rope_scaling", v4.get("rope_scaling"));
    if (v4.has("original_max_position_embeddings")) {
      c.set("original_max_position_embeddings", v4.get("original_max_position_embeddings"));
    }
    c.set("rope_parameters", v5.get("rope_parameters"));
    if (memory != null) {
      LongLlamaFormat.write(memory, c);
    }
    return c;
  }

  /** The {@code generation_config.json} that goes with {@link #toHuggingFace}. */
  public ObjectNode generationConfig() {
    ObjectNode g = JSON.objectNode();
    g.put("_from_model_config", true);
    putIdOrNull(g, "bos_token_id", bosTokenId);
    if (eosTokenIds.size() == 1) {
      g.put("eos_token_id", eosTokenIds.get(0));
    } else if (!eosTokenIds.isEmpty()) {
      ArrayNode a = g.putArray("eos_token_id");
      eosTokenIds.forEach(a::add);
    }
    if (padTokenId != null) {
      g.put("pad_token_id", padTokenId);
    }
    return g;
  }

  private static void putIdOrNull(ObjectNode c, String key, Integer id) {
    if (id == null) {
      c.putNull(key);
    } else {
      c.put(key, id);
    }
  }
}
