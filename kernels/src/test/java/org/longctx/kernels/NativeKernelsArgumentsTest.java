package org.longctx.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The checks that run before any native call; they need no library (CPU arrays only). */
class NativeKernelsArgumentsTest {

  private static IllegalArgumentException attentionError(Shape q, Shape k, Shape v, long offset) {
    return assertThrows(IllegalArgumentException.class, () -> NativeKernels.checkAttention(q, k, v, offset, 0));
  }

  @Test
  void attentionAcceptsGroupedHeadsAndCachedKeys() {
    NativeKernels.checkAttention(new Shape(2, 8, 5, 64), new Shape(2, 2, 12, 64), new Shape(2, 2, 12, 64), 7, 0.125);
    NativeKernels.checkAttention(new Shape(1, 4, 9, 32), new Shape(1, 4, 9, 32), new Shape(1, 4, 9, 32), 0, 0);
  }

  @Test
  void attentionRejectsBadShapesWithTheShapesInTheMessage() {
    assertTrue(attentionError(new Shape(2, 8, 5), new Shape(2, 8, 5, 4), new Shape(2, 8, 5, 4), 0)
        .getMessage().contains("rank 4"));
    assertTrue(attentionError(new Shape(2, 6, 5, 4), new Shape(2, 4, 5, 4), new Shape(2, 4, 5, 4), 0)
        .getMessage().contains("query heads (6) to be a multiple of kv heads (4)"));
    assertTrue(attentionError(new Shape(2, 4, 5, 8), new Shape(2, 4, 5, 4), new Shape(2, 4, 5, 4), 0)
        .getMessage().contains("equal batch and headDim"));
    assertTrue(attentionError(new Shape(2, 4, 5, 4), new Shape(2, 4, 5, 4), new Shape(2, 4, 6, 4), 0)
        .getMessage().contains("k and v of one shape"));
  }

  @Test
  void attentionOffsetMustCountTheCachedKeys() {
    IllegalArgumentException e = attentionError(new Shape(1, 2, 3, 4), new Shape(1, 2, 10, 4),
        new Shape(1, 2, 10, 4), 0);
    assertTrue(e.getMessage().contains("10 - 3 = 7"), e.getMessage());
    assertTrue(e.getMessage().endsWith("got 0"), e.getMessage());
    // more queries than keys would make the offset negative
    attentionError(new Shape(1, 2, 10, 4), new Shape(1, 2, 3, 4), new Shape(1, 2, 3, 4), -7);
  }

  @Test
  void attentionScaleMustBeFiniteAndNotNegative() {
    Shape s = new Shape(1, 1, 2, 4);
    for (double bad : new double[] {-1, Double.NaN, Double.POSITIVE_INFINITY}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> NativeKernels.checkAttention(s, s, s, 0, bad));
      assertTrue(e.getMessage().contains("scale"), e.getMessage());
    }
  }

  @Test
  void crossEntropyChecksTargetsAgainstLogits() {
    NativeKernels.checkCrossEntropy(new Shape(2, 7, 100), new Shape(2, 7), DataType.INT64, 3);
    IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
        () -> NativeKernels.checkCrossEntropy(new Shape(2, 7, 100), new Shape(14), DataType.INT64, 3));
    assertTrue(shape.getMessage().contains("(2, 7)"), shape.getMessage());
    IllegalArgumentException type = assertThrows(IllegalArgumentException.class,
        () -> NativeKernels.checkCrossEntropy(new Shape(4, 100), new Shape(4), DataType.FLOAT32, 3));
    assertTrue(type.getMessage().contains("integer targets"), type.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> NativeKernels.checkCrossEntropy(new Shape(4, 100), new Shape(4), DataType.INT32, 0));
  }

  @Test
  void adamWHyperparametersAreValidatedLikeTorch() {
    new AdamW(1e-3, 0.9, 0.95, 0.1, 1e-8);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new AdamW(-1e-3, 0.9, 0.95, 0.1, 1e-8))
        .getMessage().contains("lr"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new AdamW(1e-3, 1.0, 0.95, 0.1, 1e-8))
        .getMessage().contains("beta1 must be in [0, 1), got 1.0"));
    assertThrows(IllegalArgumentException.class, () -> new AdamW(1e-3, 0.9, -0.1, 0.1, 1e-8));
    assertThrows(IllegalArgumentException.class, () -> new AdamW(1e-3, 0.9, 0.95, Double.NaN, 1e-8));
    assertThrows(IllegalArgumentException.class, () -> new AdamW(1e-3, 0.9, 0.95, 0.1, -1));
    assertEquals(2e-4, new AdamW(1e-3, 0.9, 0.95, 0.1, 1e-8).withLr(2e-4).lr());
  }

  @Test
  void layerOperationsCheckShapesBeforeAnyNativeCall() {
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      NDArray x = m.zeros(new Shape(2, 5, 8));
      IllegalArgumentException norm = assertThrows(IllegalArgumentException.class,
          () -> NativeKernels.rmsNorm(x, m.zeros(new Shape(6)), 1e-5f));
      assertTrue(norm.getMessage().contains("x [..., hidden] and weight [hidden], got (2, 5, 8) and (6)"), norm.getMessage());
      IllegalArgumentException rope = assertThrows(IllegalArgumentException.class,
          () -> NativeKernels.rope(m.zeros(new Shape(1, 2, 3, 5)), x, x));
      assertTrue(rope.getMessage().contains("last axis must be even"), rope.getMessage());
      IllegalArgumentException gate = assertThrows(IllegalArgumentException.class,
          () -> NativeKernels.swiGlu(x, m.zeros(new Shape(2, 5, 9))));
      assertTrue(gate.getMessage().contains("gate and up of one shape"), gate.getMessage());
    }
  }

  @Test
  void adamWListsMustBeParallel() {
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      NDArray p = m.zeros(new Shape(3, 4));
      NDArray step = m.zeros(new Shape(1));
      IllegalArgumentException lengths = assertThrows(IllegalArgumentException.class,
          () -> NativeKernels.checkAdamWLists(List.of(p), List.of(p, p), List.of(p), List.of(p), List.of(step)));
      assertTrue(lengths.getMessage().contains("grads 2"), lengths.getMessage());
      IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
          () -> NativeKernels.checkAdamWLists(List.of(p), List.of(m.zeros(new Shape(4, 3))), List.of(p),
              List.of(p), List.of(step)));
      assertTrue(shape.getMessage().contains("grads[0] has shape (4, 3) but params[0] has (3, 4)"),
          shape.getMessage());
      IllegalArgumentException steps = assertThrows(IllegalArgumentException.class,
          () -> NativeKernels.checkAdamWLists(List.of(p), List.of(p), List.of(p), List.of(p),
              List.of(m.zeros(new Shape(2)))));
      assertTrue(steps.getMessage().contains("steps[0] must hold one element"), steps.getMessage());
      assertThrows(IllegalArgumentException.class,
          () -> NativeKernels.checkAdamWLists(List.of(), List.of(), List.of(), List.of(), List.of()));
    }
  }

  @Test
  void dtypeNamesParseAndUnknownOnesAreListed() {
    assertEquals(KernelDType.BFLOAT16, KernelDType.of("bf16"));
    assertEquals(KernelDType.BFLOAT16, KernelDType.of(" BFloat16 "));
    assertEquals(KernelDType.FLOAT16, KernelDType.of("half"));
    assertEquals(KernelDType.FLOAT32, KernelDType.of("float32"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KernelDType.of("int8"));
    assertEquals("unknown dtype 'int8'; expected one of float32, float16, bfloat16", e.getMessage());
    // the native side maps these codes (longctx_native.cpp, scalarTypeOf)
    assertEquals(0, KernelDType.FLOAT32.ordinal());
    assertEquals(1, KernelDType.FLOAT16.ordinal());
    assertEquals(2, KernelDType.BFLOAT16.ordinal());
  }

  @Test
  void withoutTheLibraryEveryOperationSaysHowToConfigureIt() {
    assumeFalse(NativeKernels.available(), "a native library is configured: " + NativeKernels.status());
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      NDArray x = m.zeros(new Shape(1, 2, 3, 4));
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> NativeKernels.attention(x, x, x, 0));
      assertTrue(e.getMessage().contains("-Dlongctx.native.lib"), e.getMessage());
      assertTrue(e.getMessage().contains("LONGCTX_NATIVE_LIB"), e.getMessage());
      assertThrows(IllegalStateException.class, () -> NativeKernels.cast(x, "bf16"));
      assertThrows(IllegalStateException.class, () -> NativeKernels.setTf32(true));
      // the default chunking reads the vocabulary from the last dimension before the library is needed
      NDArray targets = m.zeros(new Shape(1, 2, 3), DataType.INT64);
      assertThrows(IllegalStateException.class, () -> NativeKernels.crossEntropy(x, targets, -100));
      IllegalStateException load = assertThrows(IllegalStateException.class, NativeKernels::load);
      assertTrue(load.getMessage().startsWith("native kernels requested but not configured"), load.getMessage());
      // argument errors still come first, with or without the library
      assertThrows(IllegalArgumentException.class, () -> NativeKernels.attention(x, x, x, 1));
      assertThrows(IllegalArgumentException.class, () -> NativeKernels.cast(x, "int8"));
    }
  }

  @Test
  void arraysOfOtherEnginesOrNullAreRejectedByName() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NativeKernels.handle(null, "q"));
    assertEquals("q is null", e.getMessage());
  }
}
