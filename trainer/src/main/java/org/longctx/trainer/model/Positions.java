package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position ids of a {@code [batch, seq]} input, on the device and, when the caller made
 * them from host data, on the host too: the forward pass then knows the largest position without
 * reading the device (on a GPU such a read waits for all queued work).
 *
 * @param ids {@code [batch, seq]} int64
 * @param host the same values per row, or null when only the device has them
 * @param max the largest id
 */
public record Positions(NDArray ids, long[][] host, long max) {

  /** From host values (row-major {@code [rows, length]}), made in {@code manager}. */
  public static Positions of(NDManager manager, long[] flat, int rows, int length) {
    if (flat.length != (long) rows * length) {
      throw new IllegalArgumentException("positions: " + flat.length + " values for [" + rows + ", " + length + "]");
    }
    long[][] host = new long[rows][];
    for (int b = 0; b < rows; b++) {
      host[b] = java.util.Arrays.copyOfRange(flat, b * length, (b + 1) * length);
    }
    return new Positions(manager.create(flat, new Shape(rows, length)), host, ForwardPass.maxOf(host));
  }

  /** {@code 0 … seq − 1} in every row, made on the device. */
  public static Positions sequential(NDManager manager, long batch, long seq) {
    NDArray ids = manager.arange(0L, seq, 1L, DataType.INT64).expandDims(0).repeat(0, batch);
    return new Positions(ids, null, seq - 1);
  }

  /** Ids that exist only on the device: read back once (a counted host read) for the largest one and the checks. */
  public static Positions read(NDArray ids) {
    long[][] host = ForwardPass.rows(ids);
    return new Positions(ids.toType(DataType.INT64, false), host, ForwardPass.maxOf(host));
  }
}
