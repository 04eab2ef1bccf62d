package org.longctx.trainer.eval;

/**
 * Scores a passkey answer: the key the model generated is the run of digits at the start of
 * its continuation (after leading spaces), and it counts only when it equals the key exactly —
 * a prefix, an extra digit or a different digit is wrong.
 */
public final class PasskeyScore {
  private PasskeyScore() {}

  /**
   * The key a continuation states: leading whitespace skipped, then every digit up to the
   * first non-digit. Empty when the continuation does not start with a digit.
   */
  public static String extractKey(String continuation) {
    int i = 0;
    while (i < continuation.length() && Character.isWhitespace(continuation.charAt(i))) {
      i++;
    }
    int start = i;
    while (i < continuation.length() && continuation.charAt(i) >= '0' && continuation.charAt(i) <= '9') {
      i++;
    }
    return continuation.substring(start, i);
  }

  /** Whether {@code continuation} states exactly {@code key}. */
  public static boolean isCorrect(String continuation, String key) {
    return !key.isEmpty() && extractKey(continuation).equals(key);
  }
}
