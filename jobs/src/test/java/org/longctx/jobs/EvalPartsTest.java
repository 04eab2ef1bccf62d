package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.longctx.checkpoints.Storage;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.jobs.config.ConfigLoader;
import org.longctx.jobs.config.ExperimentConfig;
import org.longctx.trainer.EvalConfig;
import org.longctx.trainer.eval.EvalDocument;
import org.longctx.trainer.eval.EvalInputs;
import org.longctx.trainer.eval.EvalItem;
import org.longctx.trainer.eval.EvalOutput;
import org.longctx.trainer.eval.EvalPlan;
import org.longctx.trainer.eval.EvalResults;
import org.longctx.trainer.eval.MethodSpec;
import org.longctx.trainer.eval.PasskeyPrompt;

/** An evaluation run in parts (the demo: methods on the base model beside PoSE, the PoSE model after) scores as one. */
class EvalPartsTest {
  private static final EvalItem PROMPT = new EvalItem(EvalItem.Kind.PASSKEY, 0, 300);
  private static final EvalItem DOCUMENT = new EvalItem(EvalItem.Kind.PERPLEXITY, 0, 4);

  static EvalConfig eval(long seed, String method) {
    return new EvalConfig(List.of(300), seed, List.of(0.5), 1, 5, List.of(4), 1, "synth", true, "",
        List.of(EvalConfig.Method.plain(method)));
  }

  /** One method's part: its answer to the one prompt and its log-likelihood of the one document (3 tokens at perplexity {@code ppl}). */
  static EvalJob.Outputs part(EvalConfig eval, TokenizerSpec tokenizer, int tasks, double ppl) {
    String name = eval.methods().get(0).name();
    ExperimentConfig config = DemoJob.withEval(ConfigLoader.parse("name: parts\n", "test", List.of()), eval);
    MethodSpec method = MethodSpec.of(name, "file:/m", null);
    EvalInputs inputs = new EvalInputs(List.of(new PasskeyPrompt(300, 0.5, 0, "12345", new int[300])),
        List.of(new EvalDocument(0, "doc", new int[] {1, 2, 3, 4})), 5, new int[0], "float32", 0);
    EvalPlan plan = new EvalPlan(List.of(method), inputs, List.of(PROMPT, DOCUMENT));
    EvalJob.Prepared prepared = new EvalJob.Prepared(config, List.of(method),
        List.of(new EvalResults.MethodInfo(name, "/m", Map.of(), null, 512)), tokenizer, plan);
    List<EvalOutput> outputs = List.of(new EvalOutput(name, PROMPT, new int[0], 0, 0, 1.0),
        new EvalOutput(name, DOCUMENT, new int[0], 3 * Math.log(ppl), 3, 1.0));
    return new EvalJob.Outputs(prepared, outputs, tasks, List.of("exec-" + name), 10.0);
  }

  @Test
  void partsWithTheSameSettingsScoreAsOneEvaluationInTheirOrder() throws Exception {
    TokenizerSpec tokenizer = EvalJob.readTokenizer("eval.tokenizer", "../models/tiny-base/tokenizer.json", "", "", Storage.defaultConf());
    EvalResults r = EvalJob.assemble("local[2]", List.of(part(eval(1, "early"), tokenizer, 3, 2.0), part(eval(1, "later"), tokenizer, 4, 5.0)),
        Map.of("commit", "abc"));
    assertEquals(List.of("early", "later"), r.methodNames());
    assertEquals(2.0, r.perplexity("early", 4), 1e-9);
    assertEquals(5.0, r.perplexity("later", 4), 1e-9);
    assertEquals(2, r.passkey().size(), "every answer kept");
    assertEquals(7, r.run().get("tasks"));
    assertEquals(List.of("exec-early", "exec-later"), r.run().get("executors"));
    assertEquals(20.0, r.run().get("seconds"));
    assertEquals("local[2]", r.run().get("master"));
    assertEquals("abc", r.run().get("commit"));

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> EvalJob.assemble("local[2]", List.of(part(eval(1, "early"), tokenizer, 1, 2.0), part(eval(2, "later"), tokenizer, 1, 5.0)),
            Map.of()));
    assertTrue(e.getMessage().startsWith("parts: "), e.getMessage());
  }
}
