package org.longctx.data.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Utf8Test {

  private static byte[] hex(String s) {
    String[] parts = s.trim().split("\\s+");
    byte[] out = new byte[parts.length];
    for (int i = 0; i < parts.length; i++) {
      out[i] = (byte) Integer.parseInt(parts[i], 16);
    }
    return out;
  }

  @Test
  void knownCases() {
    assertEquals(-1, Utf8.firstInvalid(hex("41 C3 A9 E6 97 A5 F0 9F 8E 89"), 0, 10)); // Aé日🎉
    assertEquals(1, Utf8.firstInvalid(hex("41 80 41"), 0, 3)); // lone continuation
    assertEquals(0, Utf8.firstInvalid(hex("C0 AF"), 0, 2)); // overlong '/'
    assertEquals(0, Utf8.firstInvalid(hex("E0 80 AF"), 0, 3)); // overlong
    assertEquals(0, Utf8.firstInvalid(hex("ED A0 80"), 0, 3)); // surrogate U+D800
    assertEquals(0, Utf8.firstInvalid(hex("F4 90 80 80"), 0, 4)); // above U+10FFFF
    assertEquals(2, Utf8.firstInvalid(hex("41 41 E6 97"), 0, 4)); // cut off at the end
    assertEquals(-1, Utf8.firstInvalid(hex("41 41 E6 97"), 0, 2));
    assertEquals(8, Utf8.firstInvalid(hex("41 41 41 41 41 41 41 41 FF"), 0, 9));
  }

  @Test
  void agreesWithTheJdkDecoderOnRandomBytes() {
    SplittableRandom random = new SplittableRandom(7);
    var decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    for (int trial = 0; trial < 20_000; trial++) {
      byte[] b = new byte[random.nextInt(1, 24)];
      for (int i = 0; i < b.length; i++) {
        // mostly ASCII and valid lead/continuation bytes, so valid sequences are common
        int kind = random.nextInt(4);
        b[i] = (byte) (kind == 0 ? random.nextInt(0x80) : kind == 1 ? 0x80 + random.nextInt(0x40) : random.nextInt(256));
      }
      boolean jdkValid;
      try {
        decoder.reset().decode(ByteBuffer.wrap(b));
        jdkValid = true;
      } catch (CharacterCodingException e) {
        jdkValid = false;
      }
      assertEquals(jdkValid, Utf8.firstInvalid(b, 0, b.length) < 0, () -> java.util.HexFormat.of().formatHex(b));
    }
  }

  @Test
  void surrogateEscapesAreFoundInRawJson() {
    java.util.function.Predicate<String> may = s -> Utf8.mayHoldSurrogateEscape(
        s.getBytes(StandardCharsets.US_ASCII), 0, s.length());
    assertEquals(true, may.test("{\"text\": \"a\\ud800b\"}"));
    assertEquals(true, may.test("\\uDC00"));
    assertEquals(true, may.test("\\ud83c\\udf89")); // a proper pair still takes the careful path
    assertEquals(false, may.test("{\"text\": \"caf\\u00e9 \\u4e2d\"}"));
    assertEquals(false, may.test("\\ud7ff plain"));
    assertEquals(false, may.test("\\u00d8 \\\\d800")); // Ø, and a backslash before plain text
  }

  @Test
  void unpairedSurrogates() {
    assertEquals(-1, Utf8.firstUnpairedSurrogate("a🎉b"));
    assertEquals(1, Utf8.firstUnpairedSurrogate("a\ud800b"));
    assertEquals(1, Utf8.firstUnpairedSurrogate("a\udc00"));
    assertEquals(0, Utf8.firstUnpairedSurrogate("\ud83c"));
  }
}
