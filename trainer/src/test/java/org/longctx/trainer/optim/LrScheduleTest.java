package org.longctx.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.longctx.trainer.optim.OptimTestSupport.fixture;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/** Learning-rate schedules against transformers' get_*_schedule_with_warmup. */
class LrScheduleTest {

  /** The schedules are double arithmetic in both; only cos may differ in the last bits. */
  private static final double TOL = 1e-12;

  @Test
  void matchesTransformersUpToTheLastStep() {
    int checked = 0;
    for (JsonNode c : fixture().get("schedules")) {
      LrSchedule s = schedule(c, c.get("min_lr_ratio").asDouble());
      JsonNode lrs = c.get("lr");
      for (int step = 0; step <= s.totalSteps(); step++) {
        double expected = lrs.get(step).asDouble();
        assertEquals(expected, s.lr(step), TOL * s.peakLr(), c.get("function").asText() + " warmup "
            + s.warmupSteps() + " total " + s.totalSteps() + " step " + step);
        checked++;
      }
    }
    assertTrue(checked > 60, "checked " + checked);
  }

  @Test
  void holdsTheFloorAfterTheLastStep() {
    for (JsonNode c : fixture().get("schedules")) {
      double ratio = c.get("min_lr_ratio").asDouble();
      LrSchedule s = schedule(c, ratio);
      double floor = s.kind() == LrSchedule.Kind.CONSTANT ? s.peakLr() : ratio * s.peakLr();
      for (long step = s.totalSteps(); step < s.totalSteps() + 5; step++) {
        assertEquals(floor, s.lr(step), TOL * s.peakLr(), s + " step " + step);
      }
      if (s.kind() == LrSchedule.Kind.LINEAR && ratio == 0) {  // where transformers holds the floor too
        for (int step = (int) s.totalSteps(); step < c.get("lr").size(); step++) {
          assertEquals(c.get("lr").get(step).asDouble(), s.lr(step), 0.0);
        }
      }
    }
  }

  /** The floor extends transformers' linear schedule as min_lr_rate extends its cosine: r + (1 - r) f. */
  @Test
  void linearFloorRescalesTransformersLinearAfterWarmup() {
    double ratio = 0.2;
    for (JsonNode c : fixture().get("schedules")) {
      if (!c.get("schedule").asText().equals("linear")) {
        continue;
      }
      LrSchedule s = schedule(c, ratio);
      for (int step = 0; step <= s.totalSteps(); step++) {
        double hf = c.get("lr").get(step).asDouble() / s.peakLr();
        double expected = step < s.warmupSteps() ? hf : ratio + (1 - ratio) * hf;
        assertEquals(expected * s.peakLr(), s.lr(step), TOL * s.peakLr(), "step " + step);
      }
    }
  }

  @Test
  void rejectsBadSettings() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LrSchedule.Kind.fromName("step"));
    assertEquals("lr_schedule: 'step' is not allowed; allowed: cosine, linear, constant", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.of(LrSchedule.Kind.COSINE, 1e-3, 11, 10));
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.of(LrSchedule.Kind.COSINE, 0, 1, 10));
    assertThrows(IllegalArgumentException.class, () -> new LrSchedule(LrSchedule.Kind.LINEAR, 1e-3, 1, 10, 1.5));
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.of(LrSchedule.Kind.LINEAR, 1e-3, 1, 10).lr(-1));
  }

  private static LrSchedule schedule(JsonNode c, double minRatio) {
    return new LrSchedule(LrSchedule.Kind.fromName(c.get("schedule").asText()), c.get("base_lr").asDouble(),
        c.get("warmup_steps").asLong(), c.get("total_steps").asLong(), minRatio);
  }
}
