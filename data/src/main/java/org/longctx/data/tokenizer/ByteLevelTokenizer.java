package org.longctx.data.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a byte-level Hugging Face tokenizer: every byte is one token, so any text
 * round-trips and nothing has to be learned or downloaded. Tests and the demo model use it.
 *
 * <p>Ids: {@code 0..255} are the bytes themselves (id = byte value), then the special tokens
 * {@value #BOS} = {@link #BOS_ID}, {@value #EOS} = {@link #EOS_ID}, {@value #PAD} =
 * {@link #PAD_ID}; {@link #VOCAB_SIZE} ids in all. The model is BPE with no merges behind
 * a ByteLevel pre-tokenizer without the GPT-2 regex (so the whole text is one "word" and
 * spaces are ordinary bytes), which is the form the {@code tokenizers} library and
 * {@code transformers} load as-is.
 */
public final class ByteLevelTokenizer {
  public static final String BOS = "<s>";
  public static final String EOS = "</s>";
  public static final String PAD = "<pad>";
  public static final int BOS_ID = 256;
  public static final int EOS_ID = 257;
  public static final int PAD_ID = 258;
  public static final int VOCAB_SIZE = 259;

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ByteLevelTokenizer() {}

  /**
   * GPT-2's byte → printable character table: printable Latin-1 bytes map to themselves,
   * the rest to {@code U+0100} onwards, so every token string is visible text.
   */
  static char[] byteToChar() {
    char[] table = new char[256];
    boolean[] printable = new boolean[256];
    for (int b = '!'; b <= '~'; b++) {
      printable[b] = true;
    }
    for (int b = 0xA1; b <= 0xAC; b++) {
      printable[b] = true;
    }
    for (int b = 0xAE; b <= 0xFF; b++) {
      printable[b] = true;
    }
    int next = 256;
    for (int b = 0; b < 256; b++) {
      table[b] = printable[b] ? (char) b : (char) next++;
    }
    return table;
  }

  /** The {@code tokenizer.json} text. */
  public static String tokenizerJson() {
    ObjectNode root = JSON.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    addSpecial(added, BOS_ID, BOS);
    addSpecial(added, EOS_ID, EOS);
    addSpecial(added, PAD_ID, PAD);
    root.putNull("normalizer");
    root.set("pre_tokenizer", byteLevel());
    root.putNull("post_processor");
    root.set("decoder", byteLevel());
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.putNull("unk_token");
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", false);
    model.put("byte_fallback", false);
    model.put("ignore_merges", false);
    ObjectNode vocab = model.putObject("vocab");
    char[] table = byteToChar();
    for (int b = 0; b < 256; b++) {
      vocab.put(String.valueOf(table[b]), b);
    }
    model.putArray("merges");
    return write(root);
  }

  /** The {@code tokenizer_config.json} text that names the special tokens for transformers. */
  public static String tokenizerConfigJson(int modelMaxLength) {
    ObjectNode root = JSON.createObjectNode();
    root.put("tokenizer_class", "PreTrainedTokenizerFast");
    root.put("bos_token", BOS);
    root.put("eos_token", EOS);
    root.put("pad_token", PAD);
    root.put("model_max_length", modelMaxLength);
    root.put("clean_up_tokenization_spaces", false);
    return write(root);
  }

  /** Writes {@code tokenizer.json} and {@code tokenizer_config.json} into {@code dir}; returns the former. */
  public static Path writeTo(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve("tokenizer.json");
    Files.writeString(file, tokenizerJson(), StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("tokenizer_config.json"), tokenizerConfigJson(1 << 20), StandardCharsets.UTF_8);
    return file;
  }

  private static ObjectNode byteLevel() {
    ObjectNode node = JSON.createObjectNode();
    node.put("type", "ByteLevel");
    node.put("add_prefix_space", false);
    node.put("trim_offsets", true);
    node.put("use_regex", false);
    return node;
  }

  private static void addSpecial(ArrayNode added, int id, String content) {
    ObjectNode t = added.addObject();
    t.put("id", id);
    t.put("content", content);
    t.put("single_word", false);
    t.put("lstrip", false);
    t.put("rstrip", false);
    t.put("normalized", false);
    t.put("special", true);
  }

  private static String write(ObjectNode root) {
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
