package org.longctx.data.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A tokenizer as data: the bytes of its {@code tokenizer.json} (shipped to every executor,
 * so executors need no access to where it came from), its fingerprint, and the BOS/EOS ids
 * the prepare job adds.
 *
 * @param json the {@code tokenizer.json} bytes
 * @param source where it was read from (for the manifest)
 * @param sha256 hex SHA-256 of {@code json}: two runs with equal fingerprints tokenize alike
 * @param vocabSize model vocabulary plus added tokens (largest id + 1)
 * @param bosToken BOS text, empty when the tokenizer defines none
 * @param bosId BOS id, -1 when none
 * @param eosToken EOS text, empty when none
 * @param eosId EOS id, -1 when none
 */
public record TokenizerSpec(
    byte[] json, String source, String sha256, int vocabSize, String bosToken, int bosId, String eosToken, int eosId)
    implements Serializable {

  /** Names tried, in order, when neither the config nor tokenizer_config.json names BOS. */
  public static final List<String> BOS_CANDIDATES = List.of("<s>", "<|begin_of_text|>", "<bos>");
  /** Names tried, in order, when neither the config nor tokenizer_config.json names EOS. */
  public static final List<String> EOS_CANDIDATES = List.of("</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>");

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Reads a tokenizer from its bytes.
   *
   * @param json {@code tokenizer.json}
   * @param configJson {@code tokenizer_config.json} found beside it, or null
   * @param bosName BOS text from the experiment config; empty to look it up
   * @param eosName EOS text from the experiment config; empty to look it up
   */
  public static TokenizerSpec of(byte[] json, byte[] configJson, String source, String bosName, String eosName) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (IOException e) {
      throw new IllegalArgumentException("data.tokenizer: " + source + " is not valid JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject() || !root.path("model").isObject()) {
      throw new IllegalArgumentException("data.tokenizer: " + source + " is not a Hugging Face tokenizer.json (no 'model' object)");
    }
    Map<String, Integer> ids = tokenIds(root);
    int vocabSize = ids.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
    JsonNode config = null;
    if (configJson != null) {
      try {
        config = JSON.readTree(configJson);
      } catch (IOException e) {
        throw new IllegalArgumentException("data.tokenizer: tokenizer_config.json beside " + source
            + " is not valid JSON: " + e.getMessage(), e);
      }
    }
    String bos = resolve("bos_token", bosName, config, BOS_CANDIDATES, ids, source);
    String eos = resolve("eos_token", eosName, config, EOS_CANDIDATES, ids, source);
    return new TokenizerSpec(json, source, sha256(json), vocabSize,
        bos, bos.isEmpty() ? -1 : ids.get(bos), eos, eos.isEmpty() ? -1 : ids.get(eos));
  }

  /** The spec of {@link ByteLevelTokenizer}'s tokenizer (tests and benchmarks). */
  public static TokenizerSpec byteLevel() {
    byte[] json = ByteLevelTokenizer.tokenizerJson().getBytes(StandardCharsets.UTF_8);
    return of(json, null, "byte-level", "", "");
  }

  /** A small summary for manifests: source, fingerprint, vocabulary size, special ids. */
  public Map<String, Object> describe() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("source", source);
    out.put("sha256", sha256);
    out.put("vocab_size", vocabSize);
    out.put("bos_token", bosToken);
    out.put("bos_id", bosId);
    out.put("eos_token", eosToken);
    out.put("eos_id", eosId);
    return out;
  }

  /** Every token text with its id: the model's vocabulary (when it is a map) and added tokens. */
  static Map<String, Integer> tokenIds(JsonNode root) {
    Map<String, Integer> ids = new LinkedHashMap<>();
    JsonNode vocab = root.path("model").path("vocab");
    if (vocab.isObject()) {
      vocab.properties().forEach(e -> ids.put(e.getKey(), e.getValue().asInt()));
    } else if (vocab.isArray()) {
      // Unigram: [[piece, score], ...], the id is the index
      for (int i = 0; i < vocab.size(); i++) {
        ids.put(vocab.get(i).path(0).asText(), i);
      }
    }
    for (JsonNode t : root.path("added_tokens")) {
      ids.put(t.path("content").asText(), t.path("id").asInt());
    }
    return ids;
  }

  private static String resolve(String key, String given, JsonNode config, List<String> candidates,
      Map<String, Integer> ids, String source) {
    String configKey = "data." + key;
    if (!given.isEmpty()) {
      if (!ids.containsKey(given)) {
        throw new IllegalArgumentException(configKey + ": '" + given + "' is not a token of " + source);
      }
      return given;
    }
    if (config != null) {
      JsonNode named = config.path(key);
      // tokenizer_config.json writes either "<s>" or {"content": "<s>", ...}
      String name = named.isTextual() ? named.asText() : named.path("content").asText("");
      if (!name.isEmpty() && ids.containsKey(name)) {
        return name;
      }
    }
    for (String c : candidates) {
      if (ids.containsKey(c)) {
        return c;
      }
    }
    return "";
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TokenizerSpec t && t.sha256.equals(sha256) && t.bosId == bosId && t.eosId == eosId
        && t.source.equals(source);
  }

  @Override
  public int hashCode() {
    return sha256.hashCode();
  }

  @Override
  public String toString() {
    return "TokenizerSpec" + describe();
  }
}
