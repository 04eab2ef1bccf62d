package org.longctx.positional;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every read of array values back to the host made by the forward pass and the training step
 * goes through here, and is counted. On a GPU each such read waits for the device to finish
 * all queued work, so the training path keeps them to the few a step needs (the loss, the
 * gradient norm); tests check the count.
 */
public final class HostReads {
  private static final AtomicLong READS = new AtomicLong();

  private HostReads() {}

  /** Reads since the JVM started. */
  public static long count() {
    return READS.get();
  }

  /** The values of an integer array as int64. */
  public static long[] longs(NDArray a) {
    READS.incrementAndGet();
    if (a.getDataType() == DataType.INT64) {
      return a.toLongArray();
    }
    try (NDArray asLong = a.toType(DataType.INT64, true)) {
      return asLong.toLongArray();
    }
  }

  /** The values of a floating array as float32. */
  public static float[] floats(NDArray a) {
    READS.incrementAndGet();
    if (a.getDataType() == DataType.FLOAT32) {
      return a.toFloatArray();
    }
    try (NDArray asFloat = a.toType(DataType.FLOAT32, true)) {
      return asFloat.toFloatArray();
    }
  }

  /** A one-element floating array's value. */
  public static double scalar(NDArray a) {
    float[] v = floats(a);
    if (v.length != 1) {
      throw new IllegalArgumentException("expected one value, got " + v.length);
    }
    return v[0];
  }
}
