package org.longctx.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The byte-level tokenizer against Hugging Face's own libraries: golden/byte-level/ holds
 * the tokenizer.json this class writes and the encodings tokenizers/transformers made of it
 * (tools/reference/byte_level_tokenizer.py; versions inside the file).
 */
class ByteLevelTokenizerGoldenTest {

  private static byte[] resource(String name) throws IOException {
    try (InputStream in = ByteLevelTokenizerGoldenTest.class.getResourceAsStream("/golden/byte-level/" + name)) {
      if (in == null) {
        throw new IOException("missing test resource golden/byte-level/" + name);
      }
      return in.readAllBytes();
    }
  }

  private static int[] ints(JsonNode array) {
    int[] out = new int[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asInt();
    }
    return out;
  }

  @Test
  void theGoldenWasMadeFromWhatThisCodeWritesToday() throws IOException {
    assertEquals(ByteLevelTokenizer.tokenizerJson(), new String(resource("tokenizer.json"), StandardCharsets.UTF_8));
    assertEquals(ByteLevelTokenizer.tokenizerConfigJson(1 << 20),
        new String(resource("tokenizer_config.json"), StandardCharsets.UTF_8));
  }

  @Test
  void djlEncodesLikeHuggingFaceBothWays() throws IOException {
    JsonNode golden = new ObjectMapper().readTree(resource("byte_level_tokenizer.json"));
    assertEquals(ByteLevelTokenizer.VOCAB_SIZE, golden.get("vocab_size_with_added").asInt());
    assertEquals(ByteLevelTokenizer.VOCAB_SIZE, golden.get("len_tokenizer").asInt());
    assertEquals(ByteLevelTokenizer.BOS_ID, golden.get("bos_token_id").asInt());
    assertEquals(ByteLevelTokenizer.EOS_ID, golden.get("eos_token_id").asInt());
    assertEquals(ByteLevelTokenizer.PAD_ID, golden.get("pad_token_id").asInt());
    TokenizerSpec spec = TokenizerSpec.of(resource("tokenizer.json"), resource("tokenizer_config.json"), "golden", "", "");
    try (TextTokenizer whole = TextTokenizer.create(spec, false); TextTokenizer split = TextTokenizer.create(spec, true)) {
      for (JsonNode c : golden.get("cases")) {
        String text = c.get("text").asText();
        assertArrayEquals(ints(c.get("ids")), whole.encode(text), "special tokens kept: " + text);
        assertArrayEquals(ints(c.get("ids_split_special_tokens")), split.encode(text), "special tokens split: " + text);
        assertEquals(c.get("decoded").asText(), whole.decode(whole.encode(text)), text);
        assertEquals(c.get("decoded_split").asText(), split.decode(split.encode(text)), text);
      }
    }
  }
}
