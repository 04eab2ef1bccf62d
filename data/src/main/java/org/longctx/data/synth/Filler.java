package org.longctx.data.synth;

import java.util.SplittableRandom;

/**
 * Text that carries no information the tasks ask about. The passkey tasks use the classic
 * filler of the passkey-retrieval literature; the dependent documents use pseudo-words
 * built from syllables, so a model must read them rather than recall a corpus.
 */
public final class Filler {
  /** The filler sentence block used by the passkey-retrieval papers. */
  public static final String PASSKEY_FILLER =
      "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. ";

  private static final String[] ONSETS = {"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st", "tr"};
  private static final String[] VOWELS = {"a", "e", "i", "o", "u", "ai", "ou"};
  private static final String[] CODAS = {"", "", "n", "r", "s", "l", "m"};

  private Filler() {}

  /** {@code chars} characters of repeated passkey filler (cut at a character boundary). */
  public static String passkey(int chars) {
    StringBuilder sb = new StringBuilder(chars + PASSKEY_FILLER.length());
    while (sb.length() < chars) {
      sb.append(PASSKEY_FILLER);
    }
    sb.setLength(chars);
    return sb.toString();
  }

  /** A pseudo-word of 1 to 3 syllables. */
  public static String word(SplittableRandom random) {
    StringBuilder sb = new StringBuilder();
    int syllables = 1 + random.nextInt(3);
    for (int i = 0; i < syllables; i++) {
      sb.append(ONSETS[random.nextInt(ONSETS.length)]).append(VOWELS[random.nextInt(VOWELS.length)])
          .append(CODAS[random.nextInt(CODAS.length)]);
    }
    return sb.toString();
  }

  /** A sentence of 4 to 12 pseudo-words, capitalised, ending with ". ". */
  public static String sentence(SplittableRandom random) {
    StringBuilder sb = new StringBuilder();
    int words = 4 + random.nextInt(9);
    for (int i = 0; i < words; i++) {
      String w = word(random);
      if (i == 0) {
        w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
      }
      sb.append(i == 0 ? "" : " ").append(w);
    }
    return sb.append(". ").toString();
  }

  /** A string of {@code digits} random decimal digits, the first one non-zero. */
  public static String digits(SplittableRandom random, int digits) {
    StringBuilder sb = new StringBuilder(digits);
    sb.append((char) ('1' + random.nextInt(9)));
    for (int i = 1; i < digits; i++) {
      sb.append((char) ('0' + random.nextInt(10)));
    }
    return sb.toString();
  }
}
