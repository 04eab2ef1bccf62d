package org.longctx.trainer;

/**
 * The {@code model:} section of an experiment config.
 *
 * @param path a Hugging Face model folder or a longctx checkpoint directory; empty means none
 * @param dtype compute precision: float32 (CPU) or float16 (GPU, with float32 master weights)
 * @param attentionChunk queries per attention chunk, bounding the score matrix to
 *     {@code chunk × L} per head; 0 chooses it per input so one chunk's scores stay under
 *     {@link LlamaModel#SCORE_BUDGET_ELEMENTS} values
 */
public record ModelConfig(String path, String dtype, int attentionChunk) {

  public ModelConfig {
    path = path == null ? "" : path;
    if (!"float32".equals(dtype) && !"float16".equals(dtype)) {
      throw new IllegalArgumentException("dtype: '" + dtype + "' is not allowed; allowed: float32, float16 (DJL has no bfloat16)");
    }
    if (attentionChunk < 0) {
      throw new IllegalArgumentException("attention_chunk: must be ≥ 0 (0 = automatic), got " + attentionChunk);
    }
  }

  public static ModelConfig defaults() {
    return new ModelConfig("", "float32", 0);
  }
}
