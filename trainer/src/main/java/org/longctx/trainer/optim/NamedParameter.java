package org.longctx.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import org.longctx.trainer.model.Casts;

/**
 * A trainable array and the name checkpoints and optimizer state use for it (Hugging Face
 * weight names, e.g. {@code model.layers.0.self_attn.q_proj.weight}).
 *
 * @param name unique, non-empty
 * @param array an autograd leaf ({@code setRequiresGradient(true)}) of type float32 or float16;
 *     its gradient is read with {@code array.getGradient()}
 */
public record NamedParameter(String name, NDArray array) {

  public NamedParameter {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("parameter name: must be non-empty, got '" + name + "'");
    }
    if (array == null) {
      throw new IllegalArgumentException("parameter " + name + ": array is null");
    }
    DataType type = Casts.typeOf(array);
    if (type != DataType.FLOAT32 && type != DataType.FLOAT16 && type != DataType.BFLOAT16) {
      throw new IllegalArgumentException(
          "parameter " + name + ": data type " + type + " is not trainable; allowed: float32, float16, bfloat16");
    }
  }

  /** The parameter's type (bfloat16 included, which DJL reports as unknown). */
  public DataType dataType() {
    return Casts.typeOf(array);
  }

  /** True for float16 and bfloat16 parameters, which train through a float32 master copy. */
  public boolean isHalf() {
    return dataType() != DataType.FLOAT32;
  }

  /** Number of dimensions of the parameter ({@code 2} for a weight matrix, {@code 1} for a norm). */
  public int rank() {
    return array.getShape().dimension();
  }
}
