package org.longctx.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The kernel checks on whatever device DJL picks, when the native library is configured
 * ({@code -Dlongctx.native.lib}); reported as skipped otherwise (the CPU build has no libtorch
 * headers to build it with).
 */
class NativeKernelsLibraryTest {

  @BeforeEach
  void needsLibrary() {
    assumeTrue(NativeKernels.available(), "native kernels: " + NativeKernels.status());
  }

  private static void run(java.util.function.Consumer<KernelChecks> body) {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    try (NDManager m = NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch");
        PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8)) {
      NativeKernels.setTf32(false);
      KernelChecks checks = new KernelChecks(m, out);
      body.accept(checks);
      assertEquals(0, checks.failed(), log.toString(StandardCharsets.UTF_8));
    }
  }

  @Test
  void fusedAttentionMatchesComposedAttentionWithGqaAndOffsets() {
    run(KernelChecks::attentionParity);
  }

  @Test
  void castKeepsTheGradient() {
    run(KernelChecks::castGradient);
  }

  @Test
  void chunkedCrossEntropyMatchesFloat32LogSoftmax() {
    run(c -> {
      c.crossEntropyParity(KernelDType.FLOAT32, 2, 64, 300, 50);
      c.crossEntropyParity(KernelDType.BFLOAT16, 2, 64, 300, 7);
    });
  }

  @Test
  void fusedAdamWMatchesTheFormula() {
    run(KernelChecks::fusedAdamW);
  }
}
