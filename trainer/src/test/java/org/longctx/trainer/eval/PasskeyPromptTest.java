package org.longctx.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.longctx.data.synth.SynthTasks;
import org.longctx.data.tokenizer.ByteLevelTokenizer;
import org.longctx.data.tokenizer.TextTokenizer;
import org.longctx.data.tokenizer.TokenizerSpec;

class PasskeyPromptTest {

  /** The project's byte-level tokenizer, through the Hugging Face tokenizers library. */
  static PasskeyPrompt.Encoder byteLevel(boolean bos) {
    TextTokenizer tokenizer = TextTokenizer.shared(TokenizerSpec.byteLevel(), true);
    return PasskeyPrompt.Encoder.of(tokenizer, bos ? ByteLevelTokenizer.BOS_ID : -1);
  }

  /** A tokenizer that makes one token of every two characters (independent of the library). */
  static final PasskeyPrompt.Encoder PAIRS = new PasskeyPrompt.Encoder() {
    @Override
    public int[] encode(String text) {
      int[] ids = new int[(text.length() + 1) / 2];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = text.charAt(2 * i);
      }
      return ids;
    }

    @Override
    public int bosId() {
      return 1;
    }
  };

  static String text(int[] ids) {
    byte[] b = new byte[ids.length];
    int n = 0;
    for (int id : ids) {
      if (id < 256) {
        b[n++] = (byte) id;
      }
    }
    return new String(b, 0, n, StandardCharsets.UTF_8);
  }

  @Test
  void byteLevelPromptsHaveExactlyTheLengthAndEndWithTheQuestion() {
    for (int length : new int[] {300, 512, 1000}) {
      PasskeyPrompt p = PasskeyPrompt.create(byteLevel(true), 7, length, 0.5, 0, 5);
      assertEquals(length, p.ids().length);
      assertEquals(ByteLevelTokenizer.BOS_ID, p.ids()[0]);
      String text = text(p.ids());
      assertTrue(text.endsWith("What is the pass key? The pass key is"), text);
      assertTrue(text.contains("The pass key is " + p.key() + ". Remember it."), text);
      assertEquals(5, p.key().length());
      assertTrue(p.key().matches("[1-9][0-9]{4}"), p.key());
    }
  }

  @Test
  void theSameCellGivesTheSamePromptAndTheSynthGeneratorsKey() {
    PasskeyPrompt a = PasskeyPrompt.create(byteLevel(true), 7, 600, 0.25, 3, 5);
    PasskeyPrompt b = PasskeyPrompt.create(byteLevel(true), 7, 600, 0.25, 3, 5);
    assertEquals(a, b);
    // the text is the synth generator's sample of that index, cut before the answer
    String sample = SynthTasks.passkey(7, PasskeyPrompt.index(600, 0.25, 3), 600 - 1 + 7, 5, 0.25).text();
    assertEquals(sample.substring(0, sample.length() - (" " + a.key() + ".").length()), text(a.ids()));
    Set<String> keys = new HashSet<>();
    for (int trial = 0; trial < 8; trial++) {
      keys.add(PasskeyPrompt.create(byteLevel(true), 7, 600, 0.25, trial, 5).key());
    }
    assertTrue(keys.size() >= 7, "trials draw different keys: " + keys);
    assertNotEquals(a.key(), PasskeyPrompt.create(byteLevel(true), 8, 600, 0.25, 3, 5).key(), "the seed changes the key");
  }

  @Test
  void depthMovesTheKeyThroughTheFiller() {
    int previous = -1;
    for (double depth : new double[] {0, 0.25, 0.5, 0.75, 1}) {
      PasskeyPrompt p = PasskeyPrompt.create(byteLevel(false), 3, 2000, depth, 0, 5);
      String text = text(p.ids());
      int at = text.indexOf("The pass key is ");
      assertTrue(at > previous, "depth " + depth + " puts the key at " + at + ", after " + previous);
      previous = at;
      double relative = at / (double) text.length();
      assertTrue(Math.abs(relative - depth) < 0.12, "depth " + depth + " at " + relative);
    }
  }

  @Test
  void aCoarserTokenizerIsFittedFromBelow() {
    for (int length : new int[] {200, 333, 1024}) {
      PasskeyPrompt p = PasskeyPrompt.create(PAIRS, 1, length, 0.5, 0, 5);
      assertTrue(p.ids().length <= length && p.ids().length >= length - 1, length + " -> " + p.ids().length);
    }
  }

  @Test
  void tooShortALengthIsRefusedWithTheNeededSize() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PasskeyPrompt.create(byteLevel(true), 1, 100, 0.5, 0, 5));
    assertTrue(e.getMessage().startsWith("lengths: 100 tokens cannot hold a passkey prompt"), e.getMessage());
  }
}
