package org.longctx.kernels;

/**
 * The JNI functions of {@code liblongctx_native.so} ({@code native/src/longctx_native.cpp}).
 * Handles are {@code torch::Tensor} pointers as in {@code PtNDArray.getHandle()}; returned
 * handles are new tensors that the caller wraps in a {@code PtNDArray} (which frees them).
 * Errors arrive as DJL's {@code EngineException}. Only {@link NativeKernels} calls these, after
 * checking arguments and that the library is loaded.
 */
final class NativeLibrary {
  private NativeLibrary() {}

  static native long attention(long q, long k, long v, long offset, double scale, boolean explicitMask);

  static native long cast(long x, int dtypeCode);

  static native long rmsNorm(long x, long weight, double eps);

  static native long rope(long x, long cos, long sin);

  static native long swiGlu(long gate, long up);

  static native String dtype(long x);

  static native long crossEntropy(long logits, long targets, long ignoreIndex, long chunkRows);

  static native long crossEntropyAten(long logits, long targets, long ignoreIndex);

  static native void fusedAdamW(long[] params, long[] grads, long[] expAvgs, long[] expAvgSqs, long[] steps,
      double lr, double beta1, double beta2, double weightDecay, double eps, long gradScale, long foundInf);

  static native long[] float32Gradients(long[] params, double multiplier);

  static native double globalNorm(long[] tensors);

  static native void multiplyInPlace(long[] tensors, double factor);

  static native void zeroGradients(long[] params);

  static native void copyInto(long[] targets, long[] sources);

  static native void setTf32(boolean on);

  static native boolean tf32();

  static native void synchronize(int device);

  static native long peakMemory(int device);

  static native long allocatedMemory(int device);

  static native void resetPeakMemory(int device);

  /** NCCL's version (major·10000 + minor·100 + patch); 0 when the library was built without NCCL. */
  static native int ncclVersion();

  static native byte[] ncclUniqueId();

  static native long ncclOpen(byte[] uniqueId, int worldSize, int rank, int device, long timeoutMs);

  static native void ncclAllReduceMean(long communicator, long[] tensors, long timeoutMs);

  static native void ncclClose(long communicator, long timeoutMs);

  /** Whether the library was built with PyTorch's profiler (longctx_profiler.cpp). */
  static native boolean profilerAvailable();

  static native void profilerStart(boolean cuda);

  static native void profilerStop(String path);
}
