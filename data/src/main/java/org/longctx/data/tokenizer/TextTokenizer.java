package org.longctx.data.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns text into token ids with a Hugging Face tokenizer through DJL, without the limits
 * and costs of DJL's defaults.
 *
 * <p>Two things matter for speed and correctness. DJL's tokenizer truncates every encoding
 * to 512 tokens unless told otherwise, so it is built with truncation and padding off and a
 * huge model length. And DJL's {@code encode} copies nine arrays out of the native encoding
 * (token strings and character spans among them) where only the ids are needed; this class
 * asks the native library for the ids alone, which is the same call DJL makes first.
 *
 * <p>Special tokens written literally in a document ({@code "<|endoftext|>"} in a web page)
 * are by default encoded as the plain text they are, like {@code transformers}'
 * {@code split_special_tokens=True}: only the job decides where BOS and EOS go. The
 * tokenizer is then loaded without its special added tokens; ordinary added tokens stay.
 *
 * <p>One instance per tokenizer per JVM ({@link #shared}): Spark runs tasks of an executor as
 * threads, and the native tokenizer may be used from several threads at once.
 */
public final class TextTokenizer implements AutoCloseable {
  private static final Map<String, TextTokenizer> SHARED = new ConcurrentHashMap<>();
  private static final ObjectMapper JSON = new ObjectMapper();

  private final TokenizerSpec spec;
  private final boolean splitSpecialTokens;
  private final HuggingFaceTokenizer tokenizer;

  private TextTokenizer(TokenizerSpec spec, boolean splitSpecialTokens) {
    this.spec = spec;
    this.splitSpecialTokens = splitSpecialTokens;
    byte[] json = splitSpecialTokens ? withoutSpecialAddedTokens(spec.json()) : spec.json();
    try {
      this.tokenizer = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), Map.of(
          "truncation", "false",
          "padding", "false",
          "addSpecialTokens", "false",
          "modelMaxLength", String.valueOf(Integer.MAX_VALUE - 8)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot load tokenizer " + spec.source(), e);
    }
  }

  /**
   * A new tokenizer the caller closes.
   *
   * @param splitSpecialTokens encode special-token text inside documents as plain text
   */
  public static TextTokenizer create(TokenizerSpec spec, boolean splitSpecialTokens) {
    return new TextTokenizer(spec, splitSpecialTokens);
  }

  /** The JVM-wide instance for {@code spec}, loaded on first use and never closed. */
  public static TextTokenizer shared(TokenizerSpec spec, boolean splitSpecialTokens) {
    return SHARED.computeIfAbsent(key(spec, splitSpecialTokens), k -> new TextTokenizer(spec, splitSpecialTokens));
  }

  private static String key(TokenizerSpec spec, boolean splitSpecialTokens) {
    return spec.sha256() + (splitSpecialTokens ? "/split" : "/whole");
  }

  /** {@code json} with the added tokens marked special removed (they stay in {@link TokenizerSpec}). */
  static byte[] withoutSpecialAddedTokens(byte[] json) {
    try {
      ObjectNode root = (ObjectNode) JSON.readTree(json);
      JsonNode added = root.path("added_tokens");
      if (!added.isArray()) {
        return json;
      }
      ArrayNode kept = JSON.createArrayNode();
      for (JsonNode t : added) {
        if (!t.path("special").asBoolean(false)) {
          kept.add(t);
        }
      }
      root.set("added_tokens", kept);
      return JSON.writeValueAsBytes(root);
    } catch (IOException | ClassCastException e) {
      throw new IllegalArgumentException("data.tokenizer: " + e.getMessage(), e);
    }
  }

  public TokenizerSpec spec() {
    return spec;
  }

  /** The ids of {@code text}, without special tokens. */
  public int[] encode(String text) {
    long[] ids = encodeLong(text);
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = (int) ids[i];
    }
    return out;
  }

  /**
   * The ids of {@code text} with room for BOS before and EOS after (each written only when
   * its flag is set and the tokenizer defines it; a missing one is an error here).
   */
  public int[] encode(String text, boolean addBos, boolean addEos) {
    if (addBos && spec.bosId() < 0) {
      throw new IllegalArgumentException("data.add_bos: tokenizer " + spec.source() + " defines no BOS token; set data.bos_token or add_bos: false");
    }
    if (addEos && spec.eosId() < 0) {
      throw new IllegalArgumentException("data.add_eos: tokenizer " + spec.source() + " defines no EOS token; set data.eos_token or add_eos: false");
    }
    long[] ids = encodeLong(text);
    int start = addBos ? 1 : 0;
    int[] out = new int[ids.length + start + (addEos ? 1 : 0)];
    if (addBos) {
      out[0] = spec.bosId();
    }
    for (int i = 0; i < ids.length; i++) {
      out[start + i] = (int) ids[i];
    }
    if (addEos) {
      out[out.length - 1] = spec.eosId();
    }
    return out;
  }

  /**
   * Like {@link #encode(String, boolean, boolean)}, but into {@code out} (grown when too
   * small) to spare an allocation per document; returns the number of ids written.
   */
  public int encodeInto(String text, boolean addBos, boolean addEos, int[][] out) {
    if (addBos && spec.bosId() < 0) {
      throw new IllegalArgumentException("data.add_bos: tokenizer " + spec.source() + " defines no BOS token; set data.bos_token or add_bos: false");
    }
    if (addEos && spec.eosId() < 0) {
      throw new IllegalArgumentException("data.add_eos: tokenizer " + spec.source() + " defines no EOS token; set data.eos_token or add_eos: false");
    }
    long[] ids = encodeLong(text);
    int start = addBos ? 1 : 0;
    int length = ids.length + start + (addEos ? 1 : 0);
    if (out[0] == null || out[0].length < length) {
      out[0] = new int[Math.max(length, out[0] == null ? 0 : out[0].length * 3 / 2)];
    }
    int[] buffer = out[0];
    if (addBos) {
      buffer[0] = spec.bosId();
    }
    for (int i = 0; i < ids.length; i++) {
      buffer[start + i] = (int) ids[i];
    }
    if (addEos) {
      buffer[length - 1] = spec.eosId();
    }
    return length;
  }

  /** Ids as the native library returns them. */
  public long[] encodeLong(String text) {
    long encoding = TokenizersLibrary.LIB.encode(tokenizer.getHandle(), text, false);
    try {
      return TokenizersLibrary.LIB.getTokenIds(encoding);
    } finally {
      TokenizersLibrary.LIB.deleteEncoding(encoding);
    }
  }

  /** DJL's own encode path (all nine arrays); kept for comparison in the benchmark. */
  public long[] encodeThroughDjl(String text) {
    return tokenizer.encode(text, false, false).getIds();
  }

  public boolean splitSpecialTokens() {
    return splitSpecialTokens;
  }

  /**
   * Text of {@code ids}. Ids of special tokens are decoded only by a tokenizer that keeps
   * them ({@code splitSpecialTokens == false}); here they decode to nothing.
   */
  public String decode(int[] ids) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      l[i] = ids[i];
    }
    return tokenizer.decode(l, false);
  }

  @Override
  public void close() {
    SHARED.remove(key(spec, splitSpecialTokens), this);
    tokenizer.close();
  }
}
