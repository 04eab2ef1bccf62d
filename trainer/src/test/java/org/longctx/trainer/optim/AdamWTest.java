package org.longctx.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.longctx.trainer.optim.OptimTestSupport.adamwCase;
import static org.longctx.trainer.optim.OptimTestSupport.assertClose;
import static org.longctx.trainer.optim.OptimTestSupport.backward;
import static org.longctx.trainer.optim.OptimTestSupport.config;
import static org.longctx.trainer.optim.OptimTestSupport.floatMap;
import static org.longctx.trainer.optim.OptimTestSupport.floats;
import static org.longctx.trainer.optim.OptimTestSupport.parameters;
import static org.longctx.trainer.optim.OptimTestSupport.values;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** AdamW against torch.optim.AdamW (golden/optim/optim_fixtures.json). */
class AdamWTest {

  @ParameterizedTest
  @ValueSource(strings = {"llm_betas_decay", "torch_default_betas", "llm_betas_clipped"})
  void float32MatchesTorchStepByStep(String name) {
    JsonNode c = adamwCase(name);
    try (NDManager manager = NDManager.newBaseManager()) {
      List<NamedParameter> params = parameters(manager, c, DataType.FLOAT32);
      try (AdamW adamw = new AdamW(params, config(c))) {
        assertEquals(List.of("w"), adamw.decayedNames());
        assertEquals(List.of("b"), adamw.undecayedNames());
        JsonNode steps = c.get("steps");
        for (int i = 0; i < steps.size(); i++) {
          JsonNode expected = steps.get(i);
          backward(params, floatMap(c.get("grads").get(i)));
          try (Gradients grads = Gradients.read(params, 1.0)) {
            if (!c.get("clip_max_norm").isNull()) {
              double norm = GradientClipping.clipGradNorm(grads, c.get("clip_max_norm").asDouble());
              assertClose(expected.get("grad_norm").asDouble(), norm, name + " step " + i + " grad norm");
            }
            adamw.step(grads, expected.get("lr").asDouble());
          }
          Gradients.zero(params);
          for (NamedParameter p : params) {
            assertClose(floats(expected.get("params").get(p.name())), values(p), name + " step " + i + " " + p.name());
          }
        }
        assertEquals(steps.size(), adamw.stepCount());
        AdamWState state = adamw.exportState();
        assertEquals(steps.size(), state.step());
        for (NamedParameter p : params) {
          JsonNode s = c.get("final_state").get(p.name());
          assertEquals(steps.size(), s.get("step").asDouble());
          assertClose(floats(s.get("exp_avg")), state.tensors().get("exp_avg." + p.name()).values(), "exp_avg");
          assertClose(floats(s.get("exp_avg_sq")), state.tensors().get("exp_avg_sq." + p.name()).values(),
              "exp_avg_sq");
        }
        assertEquals(4, state.tensors().size(), "float32 parameters have no master copy in the state");
      }
    }
  }

  @Test
  void float16ParametersTrainThroughFloat32Master() {
    JsonNode c = adamwCase("llm_betas_decay");
    try (NDManager manager = NDManager.newBaseManager()) {
      List<NamedParameter> params = parameters(manager, c, DataType.FLOAT16);
      LossScaler scaler = LossScaler.dynamic(1024, 2, 0.5, 2000);
      try (AdamW adamw = new AdamW(params, config(c))) {
        OptimizerStep step = new OptimizerStep(adamw, scaler, Double.POSITIVE_INFINITY);
        JsonNode steps = c.get("steps");
        for (int i = 0; i < steps.size(); i++) {
          JsonNode expected = steps.get(i);
          backward(params, floatMap(c.get("grads").get(i)), scaler, 1);
          StepOutcome out = step.apply(1.0, expected.get("lr").asDouble());
          assertTrue(out.applied(), "step " + i);
          assertEquals(1024.0, out.lossScale());
          AdamWState state = adamw.exportState();
          for (NamedParameter p : params) {
            assertEquals(DataType.FLOAT16, p.array().getDataType());
            float[] reference = floats(expected.get("params").get(p.name()));
            float[] master = state.tensors().get("master." + p.name()).values();
            assertClose(reference, master, "step " + i + " master " + p.name());
            float[] half = values(p);
            for (int j = 0; j < half.length; j++) {  // the parameter is the float16 rounding: half an ulp, 2^-11
              assertTrue(Math.abs(half[j] - reference[j]) <= Math.abs(reference[j]) * 0x1p-10 + 0x1p-24,
                  "step " + i + " " + p.name() + "[" + j + "]: float16 " + half[j] + " vs reference " + reference[j]);
            }
          }
        }
      }
    }
  }

  @Test
  void float32StateRoundTripContinuesBitwise() {
    stateRoundTrip(DataType.FLOAT32);
  }

  @Test
  void float16StateRoundTripContinuesBitwise() {
    stateRoundTrip(DataType.FLOAT16);
  }

  /** 5 uninterrupted steps vs 2 steps, export, a fresh optimizer importing, 3 more steps. */
  private static void stateRoundTrip(DataType type) {
    JsonNode c = adamwCase("torch_default_betas");
    int total = c.get("steps").size();
    int cut = 2;
    try (NDManager manager = NDManager.newBaseManager()) {
      List<NamedParameter> straight = parameters(manager, c, type);
      AdamWState straightState;
      try (AdamW adamw = new AdamW(straight, config(c))) {
        runSteps(straight, adamw, c, 0, total);
        straightState = adamw.exportState();
      }

      List<NamedParameter> first = parameters(manager, c, type);
      AdamWState saved;
      try (AdamW adamw = new AdamW(first, config(c))) {
        runSteps(first, adamw, c, 0, cut);
        saved = adamw.exportState();
      }
      // A new process: parameters restored from the checkpoint's weights, a fresh optimizer.
      List<NamedParameter> resumed = new ArrayList<>();
      for (NamedParameter p : first) {
        var a = manager.create(values(p), p.array().getShape()).toType(type, false);
        a.setRequiresGradient(true);
        resumed.add(new NamedParameter(p.name(), a));
      }
      try (AdamW adamw = new AdamW(resumed, config(c))) {
        adamw.importState(saved);
        assertEquals(cut, adamw.stepCount());
        runSteps(resumed, adamw, c, cut, total);
        AdamWState resumedState = adamw.exportState();
        assertEquals(straightState.tensors().keySet(), resumedState.tensors().keySet());
        for (String key : straightState.tensors().keySet()) {
          assertArrayEquals(straightState.tensors().get(key).values(), resumedState.tensors().get(key).values(),
              type + " " + key + " must be bitwise identical");
        }
        assertEquals(straightState.step(), resumedState.step());
      }
      for (int i = 0; i < straight.size(); i++) {
        assertArrayEquals(values(straight.get(i)), values(resumed.get(i)), type + " parameter " + straight.get(i).name());
      }
    }
  }

  private static void runSteps(List<NamedParameter> params, AdamW adamw, JsonNode c, int from, int to) {
    for (int i = from; i < to; i++) {
      backward(params, floatMap(c.get("grads").get(i)));
      try (Gradients grads = Gradients.read(params, 1.0)) {
        adamw.step(grads, c.get("steps").get(i).get("lr").asDouble());
      }
      Gradients.zero(params);
    }
  }

  @Test
  void importRejectsStateOfOtherParameters() {
    JsonNode c = adamwCase("llm_betas_decay");
    try (NDManager manager = NDManager.newBaseManager()) {
      List<NamedParameter> params = parameters(manager, c, DataType.FLOAT32);
      try (AdamW adamw = new AdamW(params, config(c))) {
        AdamWState good = adamw.exportState();
        Map<String, FloatTensor> renamed = new HashMap<>(good.tensors());
        renamed.put("exp_avg.v", renamed.remove("exp_avg.w"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> adamw.importState(new AdamWState(3, renamed)));
        assertTrue(e.getMessage().contains("missing [exp_avg.w]") && e.getMessage().contains("unexpected [exp_avg.v]"),
            e.getMessage());
        Map<String, FloatTensor> reshaped = new HashMap<>(good.tensors());
        reshaped.put("exp_avg.w", new FloatTensor(new long[] {4, 3}, new float[12]));
        e = assertThrows(IllegalArgumentException.class, () -> adamw.importState(new AdamWState(3, reshaped)));
        assertTrue(e.getMessage().contains("exp_avg.w has shape [4, 3]"), e.getMessage());
        assertEquals(0, adamw.stepCount(), "a rejected state changes nothing");
      }
    }
  }

  @Test
  void decayRuleIsVisibleAndReplaceable() {
    JsonNode c = adamwCase("llm_betas_decay");
    try (NDManager manager = NDManager.newBaseManager()) {
      List<NamedParameter> params = parameters(manager, c, DataType.FLOAT32);
      try (AdamW all = new AdamW(params, config(c), p -> true)) {
        assertEquals(List.of("w", "b"), all.decayedNames());
        assertEquals(List.of(), all.undecayedNames());
      }
    }
  }

  @Test
  void rejectsBadArguments() {
    assertThrows(IllegalArgumentException.class, () -> new AdamWConfig(1.0, 0.95, 1e-8, 0));
    assertThrows(IllegalArgumentException.class, () -> new AdamWConfig(0.9, 0.95, 0, 0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new AdamWConfig(0.9, 0.95, 1e-8, -0.1));
    assertTrue(e.getMessage().startsWith("weight_decay"), e.getMessage());
    try (NDManager manager = NDManager.newBaseManager()) {
      var frozen = manager.zeros(new ai.djl.ndarray.types.Shape(2));
      e = assertThrows(IllegalArgumentException.class,
          () -> new AdamW(List.of(new NamedParameter("x", frozen)), AdamWConfig.defaults()));
      assertTrue(e.getMessage().contains("setRequiresGradient"), e.getMessage());
      var ints = manager.zeros(new ai.djl.ndarray.types.Shape(2), DataType.INT32);
      assertThrows(IllegalArgumentException.class, () -> new NamedParameter("i", ints));
    }
  }
}
