package org.longctx.checkpoints.safetensors;

/**
 * Bit-exact conversions between float32, float16 (IEEE binary16) and bfloat16, done in Java
 * because DJL's PyTorch engine aborts the JVM on bfloat16. Narrowing rounds to nearest, ties to
 * even, as PyTorch's {@code .to(dtype)} does.
 */
public final class HalfFloats {
  /** Largest finite float16. */
  public static final float FLOAT16_MAX = 65504f;

  private HalfFloats() {}

  /** bfloat16 bits → float32 (exact: bfloat16 is the upper half of a float32). */
  public static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }

  /** float32 → bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN. */
  public static short floatToBf16(float value) {
    int bits = Float.floatToRawIntBits(value);
    if (Float.isNaN(value)) {
      return (short) ((bits >>> 16) | 0x0040);
    }
    int lsb = (bits >>> 16) & 1;
    return (short) ((bits + 0x7fff + lsb) >>> 16);
  }

  /** float16 bits → float32 (exact). */
  public static float halfToFloat(short half) {
    int h = half & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      // subnormal: mant × 2^-24
      float v = mant * 0x1p-24f;
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /**
   * float32 → float16 bits, round to nearest even. Magnitudes from 65520 up become ±infinity
   * (use {@link #overflowsFloat16} to count them); tiny values become subnormals or ±0.
   */
  public static short floatToHalf(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    int abs = bits & 0x7fffffff;
    if (abs >= 0x7f800000) {
      // infinity or NaN (keep NaN a quiet NaN)
      return (short) (sign | 0x7c00 | (abs > 0x7f800000 ? 0x200 | ((abs >>> 13) & 0x3ff) : 0));
    }
    if (abs >= 0x477ff000) {
      // ≥ 65520 rounds past the largest float16
      return (short) (sign | 0x7c00);
    }
    if (abs < 0x38800000) {
      // below the smallest normal float16 (2^-14): subnormal or zero
      if (abs < 0x33000000) {
        // < 2^-25: rounds to zero (2^-25 exactly ties to even zero)
        return (short) sign;
      }
      int exp = abs >>> 23;
      int mant = (abs & 0x7fffff) | 0x800000;
      int shift = 126 - exp; // value = mant × 2^(exp-150); subnormal unit 2^-24 → shift by (126 - exp)
      int result = mant >>> shift;
      int rem = mant & ((1 << shift) - 1);
      int half = 1 << (shift - 1);
      if (rem > half || (rem == half && (result & 1) == 1)) {
        result++;
      }
      return (short) (sign | result);
    }
    // normal: rebias exponent 127 → 15 and round the 13 dropped mantissa bits
    int rounded = abs + 0xfff + ((abs >>> 13) & 1);
    return (short) (sign | ((rounded - (112 << 23)) >>> 13));
  }

  /** True when a finite float32 becomes ±infinity in float16. */
  public static boolean overflowsFloat16(float value) {
    return !Float.isInfinite(value) && !Float.isNaN(value) && Math.abs(value) >= 65520f;
  }
}
