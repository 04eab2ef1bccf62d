package org.longctx.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.longctx.trainer.EvalConfig;

class EvalPlanTest {

  static EvalConfig config() {
    return new EvalConfig(List.of(300, 400), 11, List.of(0.0, 1.0), 2, 5, List.of(64, 128), 2, EvalConfig.SYNTH, true, "",
        List.of(EvalConfig.Method.plain("a"), EvalConfig.Method.plain("b")));
  }

  static List<MethodSpec> methods() {
    return List.of(MethodSpec.of("a", "file:/m", null), MethodSpec.of("b", "file:/m", null));
  }

  @Test
  void theGridBecomesOnePromptPerCellAndTrialAndOneItemPerDocumentAndLength() throws Exception {
    EvalPlan plan = EvalPlan.build(config(), methods(), PasskeyPromptTest.byteLevel(true), new int[] {257}, "float32", 0);
    List<PasskeyPrompt> prompts = plan.inputs().prompts();
    assertEquals(2 * 2 * 2, prompts.size());
    assertEquals(300, prompts.get(0).ids().length);
    assertEquals(400, prompts.get(7).ids().length);
    assertEquals(1.0, prompts.get(7).depth());
    assertEquals(2, plan.inputs().documents().size());
    for (EvalDocument d : plan.inputs().documents()) {
      assertTrue(d.ids().length >= 128, d.toString());
    }
    assertNotEquals(plan.inputs().documents().get(0), plan.inputs().documents().get(1));
    assertEquals(8 + 2 * 2, plan.items().size());
    assertEquals(4, plan.items().stream().filter(i -> i.kind() == EvalItem.Kind.PERPLEXITY).count());
  }

  @Test
  void tasksHoldOneMethodEachAndCoverEveryItemOncePerMethod() throws Exception {
    EvalPlan plan = EvalPlan.build(config(), methods(), PasskeyPromptTest.byteLevel(true), new int[0], "float32", 0);
    List<EvalTask> tasks = plan.tasks(3);
    assertEquals(6, tasks.size());
    Comparator<EvalItem> order = Comparator.comparing(EvalItem::kind).thenComparingInt(EvalItem::index).thenComparingInt(EvalItem::length);
    for (String method : List.of("a", "b")) {
      List<EvalItem> covered = new ArrayList<>();
      double max = 0;
      double min = Double.MAX_VALUE;
      for (EvalTask t : tasks) {
        if (t.method().name().equals(method)) {
          covered.addAll(t.items());
          max = Math.max(max, t.cost());
          min = Math.min(min, t.cost());
        }
      }
      covered.sort(order);
      List<EvalItem> expected = new ArrayList<>(plan.items());
      expected.sort(order);
      assertEquals(expected, covered);
      double biggest = plan.items().stream().mapToDouble(EvalItem::cost).max().orElseThrow();
      assertTrue(max - min <= biggest, "balanced within one item: " + min + " .. " + max);
    }
    for (int i = 1; i < tasks.size(); i++) {
      assertTrue(tasks.get(i - 1).cost() >= tasks.get(i).cost(), "costliest tasks first");
    }
    EvalPlan withSelfExtend = new EvalPlan(List.of(MethodSpec.of("plain", "file:/m", null), new MethodSpec("se", "file:/m", null, 4, 16, 0)),
        plan.inputs(), plan.items());
    assertEquals("se", withSelfExtend.tasks(1).get(0).method().name(), "SelfExtend's double score maps start first");
    assertEquals(2, plan.tasks(1).size());
    assertEquals(2 * plan.items().size(), plan.tasks(1000).size(), "never more tasks than items");
  }

  @Test
  void evaluationDataIsSeededApartFromTrainingData() {
    assertNotEquals(0L, EvalPlan.heldOutSeed(0));
    assertNotEquals(EvalPlan.heldOutSeed(1), EvalPlan.heldOutSeed(2));
  }
}
