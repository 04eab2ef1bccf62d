package org.longctx.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.longctx.trainer.optim.OptimTestSupport.fixture;

import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/** Dynamic loss scaling: torch.amp.GradScaler's recorded behaviour and the rules derived by hand. */
class LossScalerTest {

  @Test
  void followsGradScalerSequence() {
    JsonNode g = fixture().get("grad_scaler");
    LossScaler scaler = LossScaler.dynamic(g.get("init_scale").asDouble(), g.get("growth_factor").asDouble(),
        g.get("backoff_factor").asDouble(), g.get("growth_interval").asInt());
    long skipped = 0;
    int i = 0;
    for (JsonNode step : g.get("steps")) {
      boolean overflow = step.get("found_inf").asBoolean();
      boolean applied = scaler.update(!overflow);
      assertEquals(step.get("stepped").asBoolean(), applied, "step " + i);
      assertEquals(step.get("scale_after").asDouble(), scaler.scale(), "scale after step " + i);
      assertEquals(step.get("growth_tracker_after").asInt(), scaler.growthTracker(), "tracker after step " + i);
      skipped += overflow ? 1 : 0;
      assertEquals(skipped, scaler.skippedSteps());
      i++;
    }
  }

  /** Overflow: skip and halve, good-step count restarts; 2000 good steps in a row: double. */
  @Test
  void defaultsBackOffOnOverflowAndGrowAfterGoodRun() {
    LossScaler scaler = LossScaler.dynamic();
    assertEquals(65536.0, scaler.scale());
    assertFalse(scaler.update(false));
    assertEquals(32768.0, scaler.scale());
    assertEquals(1, scaler.skippedSteps());
    for (int i = 1; i < 2000; i++) {
      assertTrue(scaler.update(true));
      assertEquals(32768.0, scaler.scale(), "no growth before 2000 good steps, at " + i);
    }
    assertEquals(1999, scaler.growthTracker());
    assertFalse(scaler.update(false));  // one overflow restarts the run
    assertEquals(16384.0, scaler.scale());
    assertEquals(0, scaler.growthTracker());
    for (int i = 0; i < 2000; i++) {
      scaler.update(true);
    }
    assertEquals(32768.0, scaler.scale(), "grown after 2000 good steps");
    assertEquals(0, scaler.growthTracker());
    assertEquals(2, scaler.skippedSteps());
  }

  @Test
  void growthStopsAtTheLargestFloat32Scale() {
    LossScaler scaler = LossScaler.dynamic(0x1p127, 2, 0.5, 1);
    assertTrue(scaler.update(true));
    assertEquals(0x1p127, scaler.scale(), "2^128 is infinite in float32: no growth");
    assertEquals(0, scaler.growthTracker());
  }

  @Test
  void stateRestoresAndContinuesIdentically() {
    LossScaler a = LossScaler.dynamic(1024, 2, 0.5, 3);
    boolean[] pattern = {true, false, true, true, true, true, false, true};
    for (int i = 0; i < 4; i++) {
      a.update(pattern[i]);
    }
    LossScalerState saved = a.state();
    LossScaler b = LossScaler.dynamic(1024, 2, 0.5, 3);
    b.restore(saved);
    for (int i = 4; i < pattern.length; i++) {
      assertEquals(a.update(pattern[i]), b.update(pattern[i]));
      assertEquals(a.state(), b.state());
    }
    assertEquals(new LossScalerState(512, 1, 2), a.state());
  }

  @Test
  void disabledScalerKeepsScaleOneButStillSkipsNonFiniteSteps() {
    LossScaler scaler = LossScaler.forParameterType(DataType.FLOAT32);
    assertFalse(scaler.isEnabled());
    for (int i = 0; i < 5000; i++) {
      assertTrue(scaler.update(true));
    }
    assertEquals(1.0, scaler.scale());
    assertFalse(scaler.update(false));
    assertEquals(1.0, scaler.scale());
    assertEquals(1, scaler.skippedSteps());
    assertThrows(IllegalArgumentException.class, () -> scaler.restore(new LossScalerState(2, 0, 0)));
    assertTrue(LossScaler.forParameterType(DataType.FLOAT16).isEnabled());
  }

  @Test
  void rejectsBadSettings() {
    assertThrows(IllegalArgumentException.class, () -> LossScaler.dynamic(0, 2, 0.5, 10));
    assertThrows(IllegalArgumentException.class, () -> LossScaler.dynamic(1, 1, 0.5, 10));
    assertThrows(IllegalArgumentException.class, () -> LossScaler.dynamic(1, 2, 1, 10));
    assertThrows(IllegalArgumentException.class, () -> LossScaler.dynamic(1, 2, 0.5, 0));
    assertThrows(IllegalArgumentException.class, () -> LossScaler.forParameterType(DataType.INT8));
    assertThrows(IllegalArgumentException.class, () -> new LossScalerState(Double.NaN, 0, 0));
  }
}
