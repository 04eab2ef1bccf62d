package org.longctx.kernels;

import ai.djl.Device;
import java.nio.file.Path;

/**
 * PyTorch's own profiler (Kineto; CUPTI on GPUs) around a stretch of work, written as a Chrome
 * trace ({@code native/src/longctx_profiler.cpp}). It is the trace {@code torch.profiler} writes
 * for a Python program, so a longctx step and a transformers step can be compared kernel by
 * kernel, and the gaps where the GPU waits for the host show on its timeline
 * ({@code bench gpu --profile}, docs/gpu.md). One profiling stretch at a time per process.
 */
public final class Profiler {
  private static boolean running;

  private Profiler() {}

  /** Whether the native library is loaded and was built with the profiler. */
  public static boolean available() {
    if (!NativeKernels.available()) {
      return false;
    }
    try {
      return NativeLibrary.profilerAvailable();
    } catch (UnsatisfiedLinkError e) {
      return false; // a library built before the profiler
    }
  }

  /** Starts recording operators, and on a GPU device its kernels and copies. */
  public static synchronized void start(Device device) {
    if (!available()) {
      throw new IllegalStateException("profiler: not available (" + NativeKernels.status()
          + "; the native library is built with it where libtorch ships torch/csrc/autograd/profiler_kineto.h)");
    }
    if (running) {
      throw new IllegalStateException("profiler: already running (one profiling stretch at a time)");
    }
    NativeLibrary.profilerStart(device.isGpu());
    running = true;
  }

  /** Stops recording (after the device's queued work has finished) and writes the Chrome trace to {@code trace}. */
  public static synchronized void stop(Device device, Path trace) {
    if (!running) {
      throw new IllegalStateException("profiler: not running (call start first)");
    }
    NativeKernels.synchronize(device);
    running = false;
    NativeLibrary.profilerStop(trace.toAbsolutePath().toString());
  }
}
