package org.longctx.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import org.longctx.kernels.NativeKernels;

/**
 * Switches the native kernel library on where it helps: for models on a GPU, when the library
 * is configured ({@code -Dlongctx.native.lib} or {@code LONGCTX_NATIVE_LIB}, docs/gpu.md). Then
 * attention uses the {@link FusedKernel} and {@link Casts} gets the library's differentiable
 * cast (which also makes bfloat16 available). Without the library nothing changes: the pure-DJL
 * path is complete.
 */
final class NativeSupport {
  private NativeSupport() {}

  /** Whether the library is there (a configured library that fails to load is an error, not a silent fallback). */
  static boolean available() {
    return NativeKernels.available();
  }

  /** Installs the native cast and says whether models on {@code device} should use the fused kernel. */
  static synchronized boolean enable(Device device) {
    if (!device.isGpu() || !available()) {
      return false;
    }
    Casts.install((x, type) -> NativeKernels.cast(x, name(type)));
    return true;
  }

  private static String name(DataType type) {
    return switch (type) {
      case FLOAT32 -> "float32";
      case FLOAT16 -> "float16";
      case BFLOAT16 -> "bfloat16";
      default -> throw new IllegalArgumentException("cast: " + type + " is not a model precision");
    };
  }
}
