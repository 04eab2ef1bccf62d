package org.longctx.kernels;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.djl.Device;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * What a machine without NCCL sees (the CPU build): no version, and every use refused with a
 * message that says why. The communicator itself is checked on a GPU node by {@code bench gpu
 * --parity} (docs/gpu.md).
 */
class NcclCommunicatorTest {

  @Test
  void withoutTheLibraryThereIsNoNcclAndUsesAreRefusedSayingWhy() {
    assumeFalse(NativeKernels.available(), "a native library is loaded here");
    assertTrue(NcclCommunicator.version().isEmpty());
    assertTrue(!NcclCommunicator.available());
    String m = assertThrows(IllegalStateException.class, NcclCommunicator::uniqueId).getMessage();
    assertTrue(m.contains("native kernels are not available"), m);
  }

  @Test
  void openChecksRankAndDeviceFirst() {
    byte[] id = new byte[128];
    String m = assertThrows(IllegalArgumentException.class,
        () -> NcclCommunicator.open(id, 2, 2, Device.gpu(0), Duration.ofSeconds(1))).getMessage();
    assertTrue(m.contains("rank 2 is not a rank of a world of 2"), m);
    m = assertThrows(IllegalArgumentException.class,
        () -> NcclCommunicator.open(id, 1, 0, Device.cpu(), Duration.ofSeconds(1))).getMessage();
    assertTrue(m.contains("NCCL runs on GPUs"), m);
  }
}
