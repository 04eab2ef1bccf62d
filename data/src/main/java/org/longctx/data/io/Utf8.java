package org.longctx.data.io;

/** Strict UTF-8 checks (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). */
public final class Utf8 {
  private Utf8() {}

  /** Offset of the first byte that starts an invalid sequence in {@code [from, to)}, or -1. */
  public static int firstInvalid(byte[] b, int from, int to) {
    int i = from;
    while (i < to) {
      // fast path: 8 ASCII bytes at a time
      while (i + 8 <= to && ((b[i] | b[i + 1] | b[i + 2] | b[i + 3] | b[i + 4] | b[i + 5] | b[i + 6] | b[i + 7]) & 0x80) == 0) {
        i += 8;
      }
      if (i >= to) {
        break;
      }
      int c = b[i] & 0xFF;
      if (c < 0x80) {
        i++;
        continue;
      }
      int need;
      int min2;
      int max2 = 0xBF;
      if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        min2 = 0x80;
      } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        min2 = c == 0xE0 ? 0xA0 : 0x80; // E0: no overlong
        max2 = c == 0xED ? 0x9F : 0xBF; // ED: no surrogates
      } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        min2 = c == 0xF0 ? 0x90 : 0x80; // F0: no overlong
        max2 = c == 0xF4 ? 0x8F : 0xBF; // F4: nothing above U+10FFFF
      } else {
        return i; // continuation byte without a lead, C0/C1 overlong, or F5..FF
      }
      if (i + need >= to) {
        return i; // the sequence is cut off by the end of the line
      }
      int second = b[i + 1] & 0xFF;
      if (second < min2 || second > max2) {
        return i;
      }
      for (int k = 2; k <= need; k++) {
        if ((b[i + k] & 0xC0) != 0x80) {
          return i;
        }
      }
      i += need + 1;
    }
    return -1;
  }

  /**
   * Whether the JSON bytes may hold a surrogate escape ({@code \\uD800}-{@code \\uDFFF}). Strictly
   * valid UTF-8 cannot encode surrogates, so without such an escape the decoded strings
   * cannot hold one and {@link #firstUnpairedSurrogate} need not look.
   */
  public static boolean mayHoldSurrogateEscape(byte[] b, int from, int to) {
    for (int i = from; i + 3 < to; i++) {
      if (b[i] == '\\' && b[i + 1] == 'u' && (b[i + 2] | 0x20) == 'd') {
        int c = b[i + 3] | 0x20;
        if (c == '8' || c == '9' || (c >= 'a' && c <= 'f')) {
          return true;
        }
      }
    }
    return false;
  }

  /** Index of the first unpaired surrogate char in {@code s} (from a JSON {@code \\uD800} escape), or -1. */
  public static int firstUnpairedSurrogate(String s) {
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
          continue;
        }
        return i;
      }
      if (Character.isLowSurrogate(c)) {
        return i;
      }
    }
    return -1;
  }
}
