package org.longctx.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** RMSNorm against a float64 evaluation of {@code w · x / sqrt(mean(x²) + eps)}. */
class RmsNormTest {
  static final int D = 64;
  static final double EPS = 1e-5;

  /** Rows of ordinary activations, one with values whose squares overflow float16 (|x| > 256), one near zero. */
  static float[] input() {
    SplittableRandom r = new SplittableRandom(2);
    float[] x = new float[3 * D];
    for (int i = 0; i < D; i++) {
      x[i] = (float) r.nextGaussian();
      x[D + i] = (float) (r.nextGaussian() * 40);
      x[2 * D + i] = (float) (r.nextGaussian() * 1e-3);
    }
    x[D + 5] = 3000f; // a "massive activation", as large models' residual streams carry
    return x;
  }

  static double[] expected(float[] x, float[] w) {
    double[] out = new double[x.length];
    for (int row = 0; row < x.length / D; row++) {
      double ms = 0;
      for (int i = 0; i < D; i++) {
        ms += x[row * D + i] * (double) x[row * D + i];
      }
      double inv = 1 / Math.sqrt(ms / D + EPS);
      for (int i = 0; i < D; i++) {
        out[row * D + i] = w[i] * x[row * D + i] * inv;
      }
    }
    return out;
  }

  @Test
  void trainableFloat16NormMatchesFloat64AndPassesGradients() {
    float[] x = input();
    float[] w = new float[D];
    for (int i = 0; i < D; i++) {
      w[i] = 0.5f + i / (float) D;
    }
    double[] want = expected(x, w);
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray weight = m.create(w).toType(DataType.FLOAT16, true);
      weight.setRequiresGradient(true); // the training path
      NDArray input = m.create(x, new Shape(3, D)).toType(DataType.FLOAT16, true);
      input.setRequiresGradient(true);
      RmsNorm norm = new RmsNorm(weight, EPS);
      float[] got;
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray y = norm.forward(input);
        assertEquals(DataType.FLOAT16, y.getDataType());
        got = y.toType(DataType.FLOAT32, true).toFloatArray();
        collector.backward(y.sum());
      }
      for (int i = 0; i < got.length; i++) {
        double tolerance = 2e-3 * Math.max(1, Math.abs(want[i]));
        assertEquals(want[i], got[i], tolerance, "element " + i);
      }
      float[] inputGradient = input.getGradient().toType(DataType.FLOAT32, true).toFloatArray();
      float[] weightGradient = weight.getGradient().toType(DataType.FLOAT32, true).toFloatArray();
      for (float g : inputGradient) {
        assertTrue(Float.isFinite(g));
      }
      double weightGradientNorm = 0;
      for (float g : weightGradient) {
        assertTrue(Float.isFinite(g));
        weightGradientNorm += Math.abs(g);
      }
      assertTrue(weightGradientNorm > 0, "the weight receives a gradient");
    }
  }
}
