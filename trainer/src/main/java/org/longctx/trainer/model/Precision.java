package org.longctx.trainer.model;

import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The numeric recipe of a model: the type its parameters and activations have, and whether
 * training scales the loss (AdamW keeps float32 master weights of every half-precision
 * parameter, see {@code optim.AdamW}). The one place that parses
 * {@code model.dtype} and says which types exist.
 *
 * <ul>
 *   <li>{@code float32}: everything in float32 (CPU default).</li>
 *   <li>{@code float16}: float16 parameters and activations, float32 master weights in the
 *       optimizer, dynamic loss scaling (float16's range is too small for raw gradients), the
 *       loss and RMSNorm's mean of squares in float32 (GPU).</li>
 *   <li>{@code bfloat16}: listed for the native extension, which can make bfloat16 tensors;
 *       DJL's own PyTorch engine aborts the JVM when asked for one, so it is refused here until
 *       a kernel provider that supplies it is loaded.</li>
 * </ul>
 */
public enum Precision {
  FLOAT32("float32", DataType.FLOAT32, false),
  FLOAT16("float16", DataType.FLOAT16, true),
  BFLOAT16("bfloat16", DataType.BFLOAT16, false);

  private final String key;
  private final DataType dataType;
  private final boolean lossScaling;

  Precision(String key, DataType dataType, boolean lossScaling) {
    this.key = key;
    this.dataType = dataType;
    this.lossScaling = lossScaling;
  }

  /** The config spelling: float32, float16, bfloat16. */
  public String key() {
    return key;
  }

  /** The type of parameters and activations. */
  public DataType dataType() {
    return dataType;
  }

  /** Whether training scales the loss dynamically (float16 only: bfloat16 has float32's range). */
  public boolean lossScaling() {
    return lossScaling;
  }

  /** Whether this JVM can run it: bfloat16 needs the native kernel library's cast, the others always run. */
  public boolean available() {
    return this != BFLOAT16 || Casts.supports(DataType.BFLOAT16) || NativeSupport.available();
  }

  /** The precision a model's arrays have. */
  public static Precision of(DataType type) {
    for (Precision p : values()) {
      if (p.dataType == type) {
        return p;
      }
    }
    throw new IllegalArgumentException("dtype: " + type + " is not a model precision; allowed: " + allowed());
  }

  /**
   * Parses a config value.
   *
   * @param key the config key, for the message (e.g. {@code model.dtype})
   */
  public static Precision parse(String key, String value) {
    for (Precision p : values()) {
      if (p.key.equals(value)) {
        if (!p.available()) {
          throw new IllegalArgumentException(key + ": '" + value + "' is not allowed; allowed: " + allowed() + " ('" + value
              + "' needs the native kernel library: DJL's own PyTorch engine has no bfloat16)");
        }
        return p;
      }
    }
    throw new IllegalArgumentException(key + ": '" + value + "' is not allowed; allowed: " + allowed());
  }

  /** The precisions this JVM can run, comma-separated. */
  public static String allowed() {
    return Arrays.stream(values()).filter(Precision::available).map(Precision::key).collect(Collectors.joining(", "));
  }
}
