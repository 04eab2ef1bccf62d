package org.longctx.trainer;

/**
 * The {@code model:} section of an experiment config.
 *
 * @param path a Hugging Face model folder or a longctx checkpoint directory; empty means none
 * @param dtype compute precision: float32 (CPU) or float16 (GPU, with float32 master weights)
 */
public record ModelConfig(String path, String dtype) {

  public ModelConfig {
    path = path == null ? "" : path;
    if (!"float32".equals(dtype) && !"float16".equals(dtype)) {
      throw new IllegalArgumentException("dtype: '" + dtype + "' is not allowed; allowed: float32, float16 (DJL has no bfloat16)");
    }
  }

  public static ModelConfig defaults() {
    return new ModelConfig("", "float32");
  }
}
