package org.longctx.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TextTokenizerTest {

  /** In the byte-level tokenizer a token id is the byte value: the expected ids are the UTF-8 bytes. */
  private static int[] utf8Ids(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    int[] ids = new int[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      ids[i] = bytes[i] & 0xFF;
    }
    return ids;
  }

  @Test
  void byteLevelIdsAreTheUtf8BytesAndDecodeBack() {
    try (TextTokenizer t = TextTokenizer.create(TokenizerSpec.byteLevel(), true)) {
      for (String text : new String[] {"hello world", "  two  spaces\n\ttab", "héllo — ünïcode 日本語 🎉", "nul\0char", "<s> not special </s>"}) {
        int[] ids = t.encode(text);
        assertArrayEquals(utf8Ids(text), ids, text);
        assertEquals(text, t.decode(ids), text);
      }
    }
  }

  @Test
  void encodingIntoAReusedBufferGivesTheSameIds() {
    try (TextTokenizer t = TextTokenizer.create(TokenizerSpec.byteLevel(), true)) {
      int[][] buffer = new int[1][];
      for (String text : new String[] {"a longer first text", "short", "ünï", "a much longer text than any before it"}) {
        int n = t.encodeInto(text, true, true, buffer);
        assertArrayEquals(t.encode(text, true, true), java.util.Arrays.copyOf(buffer[0], n), text);
      }
    }
  }

  @Test
  void longTextsAreNotTruncated() {
    String text = "abcdefghij".repeat(5_000);
    try (TextTokenizer t = TextTokenizer.create(TokenizerSpec.byteLevel(), true)) {
      assertEquals(50_000, t.encode(text).length);
      assertEquals(50_000, t.encodeThroughDjl(text).length);
    }
  }

  @Test
  void bosAndEosComeFromTheAddedTokens() {
    TokenizerSpec spec = TokenizerSpec.byteLevel();
    assertEquals(ByteLevelTokenizer.BOS_ID, spec.bosId());
    assertEquals(ByteLevelTokenizer.EOS_ID, spec.eosId());
    assertEquals(ByteLevelTokenizer.VOCAB_SIZE, spec.vocabSize());
    try (TextTokenizer t = TextTokenizer.create(spec, false)) {
      assertArrayEquals(new int[] {256, 'h', 'i', 257}, t.encode("hi", true, true));
      assertArrayEquals(new int[] {'h', 'i', 257}, t.encode("hi", false, true));
      assertEquals("<s>hi</s>", t.decode(t.encode("hi", true, true)));
      // without splitting, special-token text in a document becomes the special token
      assertArrayEquals(new int[] {'a', 257, 'b'}, t.encode("a</s>b"));
    }
    try (TextTokenizer t = TextTokenizer.create(spec, true)) {
      assertArrayEquals(new int[] {256, 'h', 'i', 257}, t.encode("hi", true, true));
      assertArrayEquals(utf8Ids("a</s>b"), t.encode("a</s>b"));
    }
  }

  @Test
  void namedSpecialTokensMustExist() {
    byte[] json = ByteLevelTokenizer.tokenizerJson().getBytes(StandardCharsets.UTF_8);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TokenizerSpec.of(json, null, "t.json", "<|begin_of_text|>", ""));
    assertEquals("data.bos_token: '<|begin_of_text|>' is not a token of t.json", e.getMessage());
    byte[] config = "{\"bos_token\": {\"content\": \"<pad>\"}, \"eos_token\": \"<s>\"}".getBytes(StandardCharsets.UTF_8);
    TokenizerSpec spec = TokenizerSpec.of(json, config, "t.json", "", "");
    assertEquals(ByteLevelTokenizer.PAD_ID, spec.bosId());
    assertEquals(ByteLevelTokenizer.BOS_ID, spec.eosId());
  }
}
