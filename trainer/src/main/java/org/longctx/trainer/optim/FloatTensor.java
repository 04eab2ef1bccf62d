package org.longctx.trainer.optim;

import java.util.Arrays;

/**
 * A float32 array on the host with its shape: how optimizer state leaves and re-enters the
 * device, so checkpoints can store it (e.g. as a float32 safetensors entry) without touching
 * DJL. Values are in C order.
 *
 * @param shape dimensions, each {@code >= 0}; {@code {}} for a scalar
 * @param values exactly {@code prod(shape)} values
 */
public record FloatTensor(long[] shape, float[] values) {

  public FloatTensor {
    shape = shape.clone();
    long size = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("shape: negative dimension in " + Arrays.toString(shape));
      }
      size *= d;
    }
    if (size != values.length) {
      throw new IllegalArgumentException(
          "values: shape " + Arrays.toString(shape) + " needs " + size + " values, got " + values.length);
    }
    values = values.clone();
  }

  /** A copy: the record stays immutable. */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** A copy: the record stays immutable. */
  @Override
  public float[] values() {
    return values.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FloatTensor t && Arrays.equals(shape, t.shape) && Arrays.equals(values, t.values);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(shape) + Arrays.hashCode(values);
  }

  @Override
  public String toString() {
    return "FloatTensor" + Arrays.toString(shape);
  }
}
