package org.longctx.kernels;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.djl.Device;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * What a machine without the native library sees (the CPU build): no profiler, and starting or
 * stopping one refused with a message that says why. The profiler itself runs on a GPU node in
 * {@code bench gpu --profile} (docs/gpu.md).
 */
class ProfilerTest {

  @Test
  void withoutTheLibraryThereIsNoProfilerAndUsesAreRefusedSayingWhy() {
    assumeFalse(NativeKernels.available(), "a native library is loaded here");
    assertFalse(Profiler.available());
    String m = assertThrows(IllegalStateException.class, () -> Profiler.start(Device.cpu())).getMessage();
    assertTrue(m.contains("profiler: not available"), m);
    m = assertThrows(IllegalStateException.class, () -> Profiler.stop(Device.cpu(), Path.of("trace.json"))).getMessage();
    assertTrue(m.contains("not running"), m);
  }
}
