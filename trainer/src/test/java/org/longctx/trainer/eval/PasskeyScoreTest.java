package org.longctx.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PasskeyScoreTest {

  @Test
  void theKeyIsTheLeadingRunOfDigits() {
    assertEquals("12345", PasskeyScore.extractKey(" 12345."));
    assertEquals("12345", PasskeyScore.extractKey("12345"));
    assertEquals("123", PasskeyScore.extractKey("  123 45"));
    assertEquals("", PasskeyScore.extractKey(" is 12345"));
    assertEquals("", PasskeyScore.extractKey(""));
  }

  @Test
  void onlyAnExactMatchCounts() {
    assertTrue(PasskeyScore.isCorrect(" 12345.", "12345"));
    assertTrue(PasskeyScore.isCorrect(" 12345. Rem", "12345"));
    assertFalse(PasskeyScore.isCorrect(" 1234.", "12345"), "a prefix is wrong");
    assertFalse(PasskeyScore.isCorrect(" 123456", "12345"), "an extra digit is wrong");
    assertFalse(PasskeyScore.isCorrect(" 12346.", "12345"));
    assertFalse(PasskeyScore.isCorrect(" The pass key is 12345.", "12345"), "the key must come first");
    assertFalse(PasskeyScore.isCorrect("", ""), "an empty key never matches");
  }
}
