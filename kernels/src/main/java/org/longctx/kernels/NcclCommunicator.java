package org.longctx.kernels;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One rank's NCCL communicator ({@code native/src/longctx_nccl.cpp}): the data-parallel replicas
 * of a run, one GPU each, average their gradients with {@code ncclAllReduce(ncclAvg)} on the
 * GPU, without copying them to the host.
 *
 * <p>Setting up: rank 0 makes a {@link #uniqueId()} (it names a socket on rank 0's host), every
 * rank receives it by some other channel (a Spark barrier's {@code allGather}, the ring's), and
 * every rank calls {@link #open} with it. Every call waits at most {@code timeout}: when a peer
 * has died or stopped answering, the communicator is aborted and the call throws, so the task
 * fails instead of hanging in a collective (as PyTorch's ProcessGroupNCCL watchdog does).
 */
public final class NcclCommunicator implements AutoCloseable {
  private final long handle;
  private final int worldSize;
  private final int rank;
  private final Device device;
  private final Duration timeout;
  private boolean closed;

  private NcclCommunicator(long handle, int worldSize, int rank, Device device, Duration timeout) {
    this.handle = handle;
    this.worldSize = worldSize;
    this.rank = rank;
    this.device = device;
    this.timeout = timeout;
  }

  /**
   * NCCL's version as {@code "2.28.9"} when the native library is loaded and was built with NCCL,
   * else empty (a CPU machine, a library built without nccl.h, or one older than NCCL support).
   */
  public static Optional<String> version() {
    if (!NativeKernels.available()) {
      return Optional.empty();
    }
    int v;
    try {
      v = NativeLibrary.ncclVersion();
    } catch (UnsatisfiedLinkError e) {
      return Optional.empty();  // a library built before NCCL support
    }
    return v == 0 ? Optional.empty()
        : Optional.of((v / 10_000) + "." + (v / 100 % 100) + "." + (v % 100));
  }

  /** Whether NCCL can be used here: {@link #version()} is present. */
  public static boolean available() {
    return version().isPresent();
  }

  /** A new NCCL unique id, to be made by rank 0 and given to every rank's {@link #open}. */
  public static byte[] uniqueId() {
    requireNccl();
    return NativeLibrary.ncclUniqueId();
  }

  /**
   * Joins the communicator named by {@code uniqueId} as {@code rank} of {@code worldSize} on
   * {@code device}; returns when every rank has joined.
   *
   * @throws ai.djl.engine.EngineException when NCCL fails or the others do not join within {@code timeout}
   */
  public static NcclCommunicator open(byte[] uniqueId, int worldSize, int rank, Device device, Duration timeout) {
    if (worldSize < 1 || rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException("rank " + rank + " is not a rank of a world of " + worldSize);
    }
    if (!device.isGpu()) {
      throw new IllegalArgumentException("NCCL runs on GPUs; the device is " + device);
    }
    requireNccl();
    long handle = NativeLibrary.ncclOpen(uniqueId, worldSize, rank, device.getDeviceId(), timeout.toMillis());
    return new NcclCommunicator(handle, worldSize, rank, device, timeout);
  }

  public int worldSize() {
    return worldSize;
  }

  public int rank() {
    return rank;
  }

  public Device device() {
    return device;
  }

  /**
   * Replaces every array, in place, by its mean over the ranks; returns when the GPU has done it.
   * Every rank passes arrays of the same shapes and dtypes in the same order (contiguous, on this
   * communicator's device).
   */
  public void allReduceMean(List<NDArray> arrays) {
    if (closed) {
      throw new IllegalStateException("the NCCL communicator is closed");
    }
    if (!arrays.isEmpty()) {
      NativeLibrary.ncclAllReduceMean(handle, NativeKernels.handles(arrays, "arrays"), timeout.toMillis());
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      NativeLibrary.ncclClose(handle, timeout.toMillis());
    }
  }

  private static void requireNccl() {
    NativeKernels.requireLoaded();
    if (!available()) {
      throw new IllegalStateException("NCCL is not available: the native library (" + NativeKernels.status()
          + ") was built without nccl.h; rebuild it where PyTorch's NCCL (the nvidia-nccl package) or NCCL_HOME is "
          + "present (docs/gpu.md)");
    }
  }
}
