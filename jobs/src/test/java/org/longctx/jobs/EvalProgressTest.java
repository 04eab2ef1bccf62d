package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintStream;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.longctx.trainer.eval.EvalItem;
import org.longctx.trainer.eval.EvalTask;
import org.longctx.trainer.eval.MethodSpec;

/** The eval stage's progress lines: counts, share of the work, time left, throttling. */
class EvalProgressTest {

  @Test
  void linesCountEachTaskOnceAndEstimateTheTimeLeftFromTheShareOfTheWorkDone() {
    MethodSpec plain = MethodSpec.of("a", "file:/m", null);
    MethodSpec selfExtend = new MethodSpec("se", "file:/m", null, 4, 16, 0);
    EvalItem prompt = new EvalItem(EvalItem.Kind.PASSKEY, 0, 100);
    EvalItem document = new EvalItem(EvalItem.Kind.PERPLEXITY, 0, 100);
    // costs: 2 × 100² = 20000; SelfExtend 2 × 100² = 20000; 100² = 10000; 50000 in all
    List<EvalTask> tasks = List.of(new EvalTask(plain, List.of(prompt, prompt)), new EvalTask(selfExtend, List.of(prompt)),
        new EvalTask(plain, List.of(document)));
    EvalJob.TaskProgress progress = new EvalJob.TaskProgress("g", tasks, new PrintStream(PrintStream.nullOutputStream()));

    String failed = progress.taskEnded(1, false, "0", 1.0);
    assertTrue(failed.contains("se") && failed.contains("FAILED"), failed);
    // 20000 of 50000 done in 20 s: 40 %, and at that pace 30 s more
    assertEquals("eval: 2/4 prompts and document prefixes, 40 % of the work, 20 s elapsed, about 30 s left",
        progress.taskEnded(0, true, "0", 20.0));
    assertNull(progress.taskEnded(0, true, "1", 21.0), "a second successful copy of a task counts once");
    assertNull(progress.taskEnded(1, true, "1", 25.0), "at most a line every " + EvalJob.TaskProgress.EVERY_SECONDS + " s");
    assertEquals("eval: 4/4 prompts and document prefixes, 100 % of the work, 1 min 26 s elapsed, done",
        progress.taskEnded(2, true, "0", 86.0), "the last task always prints");
    assertEquals(List.of("0", "1"), progress.executors());
  }
}
