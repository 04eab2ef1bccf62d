package org.longctx.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
  void tasksScoreEveryMethodAndItemExactlyOnceInSlicesOfAboutEqualCost() throws Exception {
    EvalPlan built = EvalPlan.build(config(), methods(), PasskeyPromptTest.byteLevel(true), new int[0], "float32", 0);
    // three methods, one of them SelfExtend (twice the cost per item)
    EvalPlan plan = new EvalPlan(List.of(MethodSpec.of("a", "file:/m", null), MethodSpec.of("b", "file:/m", null),
        new MethodSpec("se", "file:/m", null, 4, 16, 0)), built.inputs(), built.items());
    double itemsCost = 0;
    double biggest = 0;
    for (EvalItem i : plan.items()) {
      itemsCost += (double) i.length() * i.length(); // the cost model: attention grows with length²
      biggest = Math.max(biggest, (double) i.length() * i.length());
    }
    double total = (1 + 1 + 2) * itemsCost;
    for (int slices : List.of(1, 3, 6, 10, 1000)) {
      List<EvalTask> tasks = plan.tasks(slices);
      Map<String, Integer> scored = new HashMap<>();
      for (EvalTask t : tasks) {
        for (EvalItem i : t.items()) {
          scored.merge(t.method().name() + " " + i, 1, Integer::sum);
        }
      }
      assertEquals(3 * plan.items().size(), scored.size(), "every (method, item) scored, slices " + slices);
      assertTrue(scored.values().stream().allMatch(n -> n == 1), "none twice, slices " + slices);
      for (EvalTask t : tasks) {
        assertTrue(t.cost() <= Math.max(total / slices, 0) + 2 * biggest + 1e-6,
            "slices " + slices + ": a task of " + t.method().name() + " costs " + t.cost() + ", above total / slices + one item");
      }
      for (int i = 1; i < tasks.size(); i++) {
        assertTrue(tasks.get(i - 1).cost() >= tasks.get(i).cost(), "costliest tasks first");
      }
    }
    assertEquals(3, plan.tasks(1).size(), "at least one task per method, never two methods in one");
    assertEquals(3 * plan.items().size(), plan.tasks(1000).size(), "never more tasks than (method, item) pairs");
    List<EvalTask> eight = plan.tasks(8);
    long se = eight.stream().filter(t -> t.method().name().equals("se")).count();
    long a = eight.stream().filter(t -> t.method().name().equals("a")).count();
    assertEquals(2 * a, se, "SelfExtend, twice the cost per item, is cut into twice the tasks: " + eight);
  }

  @Test
  void evaluationDataIsSeededApartFromTrainingData() {
    assertNotEquals(0L, EvalPlan.heldOutSeed(0));
    assertNotEquals(EvalPlan.heldOutSeed(1), EvalPlan.heldOutSeed(2));
  }
}
