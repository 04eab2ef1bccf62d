package org.longctx.trainer.distributed;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.longctx.trainer.optim.Gradients;

/**
 * The replicas of a data-parallel run joined by a {@link Ring} over TCP: the gradients of a
 * step are copied into one float32 buffer, all-reduced in buckets and divided by the number of
 * replicas, and copied back, so clipping and AdamW see the global mean gradient and every
 * replica takes the same step (the ring gives every rank the same bits).
 *
 * <p>The mean over replicas equals the gradient of the mean loss over the global batch when the
 * replicas' micro-batches hold equally many predictions; with padding (whole-document packing,
 * PoSE) each replica's mean weighs its own tokens, as PyTorch's DistributedDataParallel does.
 *
 * <p>A ring failure (a dead or silent peer, an interrupted task) is thrown as
 * {@link UncheckedIOException}: the step cannot continue, and the task must fail so that Spark
 * retries the stage from the latest checkpoint.
 */
public final class RingCollective implements Collective {
  private static final NDIndex ALL = new NDIndex("...");
  private final Ring ring;
  private final List<Double> gradientSeconds = new ArrayList<>();
  private ByteBuffer flat;

  public RingCollective(Ring ring) {
    this.ring = ring;
  }

  /** The ring (for its traffic and time figures). */
  public Ring ring() {
    return ring;
  }

  /**
   * Seconds each {@link #averageGradients} call took (one per step): copying the gradients out
   * and back and the all-reduce, waiting for slower replicas included.
   */
  @Override
  public List<Double> gradientSeconds() {
    return List.copyOf(gradientSeconds);
  }

  @Override
  public int rank() {
    return ring.rank();
  }

  @Override
  public int worldSize() {
    return ring.worldSize();
  }

  @Override
  public void averageGradients(Gradients gradients) {
    if (ring.worldSize() == 1) {
      return;
    }
    long start = System.nanoTime();
    List<NDArray> arrays = gradients.arrays();
    long total = 0;
    for (NDArray g : arrays) {
      total += g.size();
    }
    if (total * Float.BYTES > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("ring: " + total + " gradient values do not fit one 2 GiB buffer; the ring needs buffers of at most "
          + (Integer.MAX_VALUE / Float.BYTES) + " floats");
    }
    int bytes = (int) (total * Float.BYTES);
    if (flat == null || flat.capacity() < bytes) {
      flat = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
    }
    flat.clear().limit(bytes);
    for (NDArray g : arrays) {
      flat.put(g.toByteBuffer().order(ByteOrder.nativeOrder()));
    }
    flat.flip();
    try {
      ring.allReduce(flat, ring.worldSize());
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage(), e);
    }
    int offset = 0;
    for (NDArray g : arrays) {
      int length = Math.toIntExact(g.size() * Float.BYTES);
      // copied into the gradient's own storage: NDArray.set(Buffer) would instead point this
      // handle at the buffer (on CPU), leaving the parameter's gradient untouched
      try (NDManager scope = g.getManager().newSubManager()) {
        NDArray mean = scope.create(flat.slice(offset, length).order(ByteOrder.nativeOrder()), g.getShape(), DataType.FLOAT32);
        g.set(ALL, mean);
      }
      offset += length;
    }
    gradientSeconds.add((System.nanoTime() - start) / 1e9);
  }

  @Override
  public double average(double value) {
    double sum = 0;
    // summed in rank order from the gathered bits: every replica gets the same double
    for (String v : allGather(Double.toHexString(value))) {
      sum += Double.parseDouble(v);
    }
    return sum / ring.worldSize();
  }

  @Override
  public List<String> allGather(String value) {
    try {
      List<String> out = new ArrayList<>(ring.worldSize());
      for (byte[] b : ring.allGather(value.getBytes(StandardCharsets.UTF_8))) {
        out.add(new String(b, StandardCharsets.UTF_8));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage(), e);
    }
  }

  @Override
  public void barrier() {
    try {
      ring.barrier();
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    ring.close();
  }
}
