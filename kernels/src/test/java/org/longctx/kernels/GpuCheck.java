package org.longctx.kernels;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/**
 * Runs the native-kernel checks (and with {@code --bench} the attention benchmark) on DJL's
 * default device and exits non-zero when a check fails. Run from a GPU bundle as
 * {@code bin/longctx-gpu check [--bench]} (docs/gpu.md); it needs the native library
 * ({@code -Dlongctx.native.lib} or {@code LONGCTX_NATIVE_LIB}).
 *
 * <p>Usage: {@code GpuCheck [--bench] [--bench-only]}
 */
public final class GpuCheck {
  private GpuCheck() {}

  public static void main(String[] args) {
    List<String> opts = Arrays.asList(args);
    for (String a : opts) {
      if (!a.equals("--bench") && !a.equals("--bench-only")) {
        System.err.println("Usage: GpuCheck [--bench] [--bench-only]; unknown argument " + a);
        System.exit(2);
      }
    }
    NativeKernels.load();
    PrintStream out = System.out;
    Engine engine = Engine.getEngine("PyTorch");
    Device device = engine.defaultDevice();
    out.println("engine " + engine.getEngineName() + " " + engine.getVersion() + ", device " + device
        + ", native kernels " + NativeKernels.status());
    // parity in float32 means IEEE float32 matmuls: TF32 would round the reference's inputs to 10 bits
    NativeKernels.setTf32(false);
    out.println("tf32 " + NativeKernels.tf32());
    long failed;
    try (NDManager manager = NDManager.newBaseManager(device, "PyTorch")) {
      KernelChecks checks = new KernelChecks(manager, out);
      if (!opts.contains("--bench-only")) {
        checks.attentionParity();
        checks.castGradient();
        checks.crossEntropyParity(KernelDType.FLOAT32, 2, 256, 1000, 100);
        checks.crossEntropyParity(KernelDType.BFLOAT16, 2, 256, 1000, 100);
        checks.crossEntropyParity(KernelDType.FLOAT16, 2, 256, 1000, 100);
        if (device.isGpu()) {
          checks.crossEntropyParity(KernelDType.BFLOAT16, 4, 2048, 32000, 1024);
        }
        checks.fusedAdamW();
      }
      if (opts.contains("--bench") || opts.contains("--bench-only")) {
        for (long t : new long[] {2048, 8192}) {
          int iters = t > 4096 ? 5 : 10;
          checks.benchmark(4, 16, t, 128, KernelDType.FLOAT16, false, 3, iters);
          checks.benchmark(4, 16, t, 128, KernelDType.BFLOAT16, false, 3, iters);
          checks.benchmark(4, 16, t, 128, KernelDType.FLOAT16, true, 2, iters);
        }
      }
      failed = checks.failed();
      out.println((checks.checks.size() - failed) + " passed, " + failed + " failed");
    }
    System.exit(failed == 0 ? 0 : 1);
  }
}
