package org.longctx.kernels;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Floating dtypes the native cast converts between. The ordinal is the code the native library
 * reads ({@code scalarTypeOf} in {@code native/src/longctx_native.cpp}): keep the order.
 */
public enum KernelDType {
  FLOAT32("float32"),
  FLOAT16("float16"),
  BFLOAT16("bfloat16");

  private final String torchName;

  KernelDType(String torchName) {
    this.torchName = torchName;
  }

  /** The name PyTorch prints without its {@code torch.} prefix, e.g. {@code bfloat16}. */
  public String torchName() {
    return torchName;
  }

  /**
   * Parses {@code float32}, {@code float16}, {@code bfloat16} (case-insensitive; {@code fp32},
   * {@code fp16}, {@code bf16}, {@code half} also accepted, as in Hugging Face configs).
   */
  public static KernelDType of(String name) {
    if (name == null) {
      throw new IllegalArgumentException("dtype name is null; expected one of " + names());
    }
    switch (name.trim().toLowerCase(Locale.ROOT)) {
      case "float32":
      case "fp32":
      case "float":
        return FLOAT32;
      case "float16":
      case "fp16":
      case "half":
        return FLOAT16;
      case "bfloat16":
      case "bf16":
        return BFLOAT16;
      default:
        throw new IllegalArgumentException("unknown dtype '" + name + "'; expected one of " + names());
    }
  }

  private static String names() {
    return Arrays.stream(values()).map(KernelDType::torchName).collect(Collectors.joining(", "));
  }
}
