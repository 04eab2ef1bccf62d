package org.longctx.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.longctx.trainer.optim.OptimTestSupport.adamwCase;
import static org.longctx.trainer.optim.OptimTestSupport.assertClose;
import static org.longctx.trainer.optim.OptimTestSupport.backward;
import static org.longctx.trainer.optim.OptimTestSupport.config;
import static org.longctx.trainer.optim.OptimTestSupport.floatMap;
import static org.longctx.trainer.optim.OptimTestSupport.floats;
import static org.longctx.trainer.optim.OptimTestSupport.gradient;
import static org.longctx.trainer.optim.OptimTestSupport.parameters;
import static org.longctx.trainer.optim.OptimTestSupport.values;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The whole step: unscale, norm, clip, skip or apply, zero. */
class OptimizerStepTest {

  private static final JsonNode CASE = adamwCase("llm_betas_decay");

  @Test
  void nanGradientLeavesWeightsAndStateUntouchedAndCountsASkip() {
    try (NDManager manager = NDManager.newBaseManager()) {
      List<NamedParameter> params = parameters(manager, CASE, DataType.FLOAT32);
      List<float[]> before = snapshot(params);
      try (AdamW adamw = new AdamW(params, config(CASE))) {
        OptimizerStep step = new OptimizerStep(adamw, LossScaler.disabled(), 1.0);
        Map<String, float[]> poisoned = floatMap(CASE.get("grads").get(0));
        poisoned.get("b")[2] = Float.NaN;
        backward(params, poisoned);
        StepOutcome out = step.apply(2.5, 1e-2);
        assertFalse(out.applied());
        assertTrue(Double.isNaN(out.gradNorm()));
        assertEquals(1, out.skippedSteps());
        assertEquals(0, out.optimizerSteps());
        assertEquals(0, adamw.stepCount());
        assertWeights(before, params);
        for (var t : adamw.exportState().tensors().values()) {
          assertArrayEquals(new float[t.values().length], t.values(), "moments stay zero");
        }
        for (NamedParameter p : params) {
          assertArrayEquals(new float[gradient(p).length], gradient(p), "NaN gradient zeroed after the step");
        }
        // Nothing leaked: the next good step is torch's first step.
        backward(params, floatMap(CASE.get("grads").get(0)));
        assertTrue(step.apply(2.5, CASE.get("steps").get(0).get("lr").asDouble()).applied());
        for (NamedParameter p : params) {
          assertClose(floats(CASE.get("steps").get(0).get("params").get(p.name())), values(p), p.name());
        }
      }
    }
  }

  @Test
  void nonFiniteLossSkipsEvenWithFiniteGradients() {
    try (NDManager manager = NDManager.newBaseManager()) {
      List<NamedParameter> params = parameters(manager, CASE, DataType.FLOAT32);
      List<float[]> before = snapshot(params);
      try (AdamW adamw = new AdamW(params, config(CASE))) {
        OptimizerStep step = new OptimizerStep(adamw, LossScaler.disabled(), Double.POSITIVE_INFINITY);
        backward(params, floatMap(CASE.get("grads").get(0)));
        StepOutcome out = step.apply(Double.POSITIVE_INFINITY, 1e-2);
        assertFalse(out.applied());
        assertTrue(Double.isFinite(out.gradNorm()));
        assertWeights(before, params);
      }
    }
  }

  /** A loss read through a supplier: read once, after the gradient norm, and reported in the outcome. */
  @Test
  void lossSupplierIsReadOnceAfterTheNorm() {
    try (NDManager manager = NDManager.newBaseManager()) {
      List<NamedParameter> params = parameters(manager, CASE, DataType.FLOAT32);
      List<float[]> before = snapshot(params);
      try (AdamW adamw = new AdamW(params, config(CASE))) {
        OptimizerStep step = new OptimizerStep(adamw, LossScaler.disabled(), Double.POSITIVE_INFINITY);
        backward(params, floatMap(CASE.get("grads").get(0)));
        List<String> order = new java.util.ArrayList<>();
        StepOutcome out = step.apply(() -> {
          order.add("loss");
          return Double.NaN;
        }, 1e-2, grads -> order.add("gradients"));
        assertEquals(List.of("gradients", "loss"), order);
        assertTrue(Double.isNaN(out.loss()));
        assertFalse(out.applied(), "a NaN loss read through the supplier skips the step");
        assertWeights(before, params);
        backward(params, floatMap(CASE.get("grads").get(0)));
        out = step.apply(() -> 2.5, 1e-2, grads -> { });
        assertEquals(2.5, out.loss());
        assertTrue(out.applied());
      }
    }
  }

  /** float16 gradients of loss * 2^16 overflow: skip and halve until they fit, then grow back. */
  @Test
  void float16OverflowSkipsBacksOffThenRecovers() {
    try (NDManager manager = NDManager.newBaseManager()) {
      List<NamedParameter> params = parameters(manager, CASE, DataType.FLOAT16);
      List<float[]> before = snapshot(params);
      Map<String, float[]> grads = floatMap(CASE.get("grads").get(0));  // |g| up to ~3: g * 2^16 > 65504
      LossScaler scaler = LossScaler.dynamic(65536, 2, 0.5, 2);
      try (AdamW adamw = new AdamW(params, config(CASE))) {
        OptimizerStep step = new OptimizerStep(adamw, scaler, Double.POSITIVE_INFINITY);
        List<Double> scales = new ArrayList<>();
        StepOutcome out;
        do {
          backward(params, grads, scaler, 1);
          if (scales.isEmpty()) { // at 2^16 exactly the parameters with some |g| * 2^16 > 65504 overflow
            List<String> expected = new ArrayList<>();
            for (NamedParameter p : params) {
              boolean overflows = false;
              for (float g : grads.get(p.name())) {
                overflows |= Math.abs(g * 65536.0) > 65504 + 16; // beyond float16's largest value and its rounding
              }
              if (overflows) {
                expected.add(p.name());
              }
            }
            try (Gradients read = scaler.unscale(params)) {
              assertEquals(expected, read.nonFiniteNames(), "the parameters named when the step is skipped");
            }
            assertTrue(!expected.isEmpty());
          }
          out = step.apply(1.0, CASE.get("steps").get(0).get("lr").asDouble());
          scales.add(out.lossScale());
          if (!out.applied()) {
            assertWeights(before, params);
            assertEquals(out.lossScale() / 2, out.nextLossScale(), "back off by half");
          }
        } while (!out.applied() && scales.size() < 20);
        assertTrue(out.applied(), "recovered within 20 steps, scales " + scales);
        assertTrue(scales.size() > 1, "the first scale must overflow, scales " + scales);
        assertEquals(scales.size() - 1, out.skippedSteps());
        double fitting = out.lossScale();
        // The good step equals torch's first step, though the scale that made it is not 2^16.
        for (NamedParameter p : params) {
          assertClose(floats(CASE.get("steps").get(0).get("params").get(p.name())),
              adamw.exportState().tensors().get("master." + p.name()).values(), p.name());
        }
        backward(params, floatMap(CASE.get("grads").get(1)), scaler, 1);  // small gradients: fit at 2x too
        out = step.apply(1.0, 1e-3);
        assertTrue(out.applied());
        assertEquals(2 * fitting, out.nextLossScale(), "two good steps in a row grow the scale");
      }
    }
  }

  /** Two micro-batches of loss/2 give the gradients of one full batch; the result is identical. */
  @Test
  void gradientAccumulationMatchesOneBatch() {
    try (NDManager manager = NDManager.newBaseManager()) {
      List<NamedParameter> whole = parameters(manager, CASE, DataType.FLOAT32);
      List<NamedParameter> accumulated = parameters(manager, CASE, DataType.FLOAT32);
      try (AdamW a = new AdamW(whole, config(CASE)); AdamW b = new AdamW(accumulated, config(CASE))) {
        OptimizerStep stepA = new OptimizerStep(a, LossScaler.disabled(), 1.0);
        OptimizerStep stepB = new OptimizerStep(b, LossScaler.disabled(), 1.0);
        for (int i = 0; i < 3; i++) {
          Map<String, float[]> g = floatMap(CASE.get("grads").get(i));
          double lr = CASE.get("steps").get(i).get("lr").asDouble();
          backward(whole, g);
          backward(accumulated, g, LossScaler.disabled(), 2);
          backward(accumulated, g, LossScaler.disabled(), 2);
          StepOutcome outA = stepA.apply(1.0, lr);
          StepOutcome outB = stepB.apply(1.0, lr);
          assertEquals(outA.gradNorm(), outB.gradNorm());
        }
        assertWeights(snapshot(whole), accumulated);
      }
    }
  }

  /** Grad mode is per thread: a fresh thread and an open collector must not break the update. */
  @Test
  @SuppressWarnings("try")  // the open collector is the point
  void stepsOnAnotherThreadAndInsideAnOpenCollector() throws Exception {
    try (NDManager manager = NDManager.newBaseManager()) {
      List<NamedParameter> here = parameters(manager, CASE, DataType.FLOAT32);
      List<NamedParameter> there = parameters(manager, CASE, DataType.FLOAT16);
      Map<String, float[]> g = floatMap(CASE.get("grads").get(0));
      double lr = CASE.get("steps").get(0).get("lr").asDouble();
      try (AdamW a = new AdamW(here, config(CASE)); AdamW b = new AdamW(there, config(CASE))) {
        backward(here, g);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          assertTrue(new OptimizerStep(a, LossScaler.disabled(), 1.0).apply(1.0, lr).applied());
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
          try {
            backward(there, g);
            new OptimizerStep(b, LossScaler.disabled(), 1.0).apply(1.0, lr);
          } catch (Throwable e) {
            failure.set(e);
          }
        });
        t.start();
        t.join();
        if (failure.get() != null) {
          throw new AssertionError("step on a fresh thread failed", failure.get());
        }
        for (NamedParameter p : here) {
          assertClose(floats(CASE.get("steps").get(0).get("params").get(p.name())), values(p), p.name());
        }
        assertEquals(1, b.stepCount());
      }
    }
  }

  /** Steps must not pile up native arrays in the model's or the optimizer's manager. */
  @Test
  void stepsDoNotLeakArrays() {
    for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT16}) {
      try (NDManager manager = NDManager.newBaseManager()) {
        List<NamedParameter> params = parameters(manager, CASE, type);
        LossScaler scaler = LossScaler.forParameterType(type);
        try (AdamW adamw = new AdamW(params, config(CASE))) {
          OptimizerStep step = new OptimizerStep(adamw, scaler, 1.0);
          Map<String, float[]> g = floatMap(CASE.get("grads").get(0));
          backward(params, g, scaler, 1);
          step.apply(1.0, 1e-3);
          int model = manager.getManagedArrays().size();
          int optimizer = adamw.liveArrays();
          for (int i = 0; i < 5; i++) {
            backward(params, g, scaler, 1);
            step.apply(1.0, 1e-3);
            adamw.exportState();
          }
          assertEquals(model, manager.getManagedArrays().size(), type + ": arrays in the parameters' manager");
          assertEquals(optimizer, adamw.liveArrays(), type + ": arrays in the optimizer's manager");
        }
      }
    }
  }

  private static List<float[]> snapshot(List<NamedParameter> params) {
    List<float[]> out = new ArrayList<>();
    for (NamedParameter p : params) {
      out.add(values(p));
    }
    return out;
  }

  private static void assertWeights(List<float[]> expected, List<NamedParameter> params) {
    for (int i = 0; i < params.size(); i++) {
      assertArrayEquals(expected.get(i), values(params.get(i)), params.get(i).name() + " must be bitwise unchanged");
    }
  }
}
