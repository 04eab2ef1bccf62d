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
    return part(eval, tokenizer, tasks, ppl, List.of(new PasskeyPrompt(300, 0.5, 0, "12345", new int[300])));
  }

  /** The same with {@code prompts}, one item each, answered with nothing. */
  static EvalJob.Outputs part(EvalConfig eval, TokenizerSpec tokenizer, int tasks, double ppl, List<PasskeyPrompt> prompts) {
    String name = eval.methods().get(0).name();
    ExperimentConfig config = DemoJob.withEval(ConfigLoader.parse("name: parts\n", "test", List.of()), eval);
    MethodSpec method = MethodSpec.of(name, "file:/m", null);
    EvalInputs inputs = new EvalInputs(prompts, List.of(new EvalDocument(0, "doc", new int[] {1, 2, 3, 4})), 5, new int[0], "float32", 0);
    List<EvalItem> items = new java.util.ArrayList<>();
    List<EvalOutput> outputs = new java.util.ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      EvalItem prompt = new EvalItem(EvalItem.Kind.PASSKEY, i, prompts.get(i).length());
      items.add(prompt);
      outputs.add(new EvalOutput(name, prompt, new int[0], 0, 0, 1.0));
    }
    items.add(DOCUMENT);
    outputs.add(new EvalOutput(name, DOCUMENT, new int[0], 3 * Math.log(ppl), 3, 1.0));
    EvalPlan plan = new EvalPlan(List.of(method), inputs, items);
    EvalJob.Prepared prepared = new EvalJob.Prepared(config, List.of(method),
        List.of(new EvalResults.MethodInfo(name, "/m", Map.of(), null, 512)), tokenizer, plan);
    return new EvalJob.Outputs(prepared, outputs, tasks, List.of("exec-" + name), 10.0);
  }

  @Test
  void partsWithDifferentPasskeyLengthsScoreEachAnswerAgainstItsOwnPartsPrompts() throws Exception {
    TokenizerSpec tokenizer = EvalJob.readTokenizer("eval.tokenizer", "../models/tiny-base/tokenizer.json", "", "", Storage.defaultConf());
    PasskeyPrompt shortPrompt = new PasskeyPrompt(300, 0.5, 0, "12345", new int[300]);
    PasskeyPrompt longPrompt = new PasskeyPrompt(600, 0.5, 0, "67890", new int[600]);
    // the later part is also evaluated at 600 tokens: its prompt list is longer, and its item 1 is the 600-token prompt
    EvalResults r = EvalJob.assemble("local[2]", List.of(part(eval(1, "early"), tokenizer, 1, 2.0),
        part(eval(1, "later").withLengths(List.of(300, 600)), tokenizer, 1, 5.0, List.of(shortPrompt, longPrompt))), Map.of());
    assertEquals(List.of(300, 600), r.passkeyLengths());
    assertEquals(List.of(300), r.passkeyLengths("early"));
    assertEquals(List.of(300, 600), r.passkeyLengths("later"));
    assertEquals(List.of("early/300/12345", "later/300/12345", "later/600/67890"),
        r.passkey().stream().map(p -> p.method() + "/" + p.length() + "/" + p.key()).toList());
    assertEquals(List.of(4), r.perplexityLengths(), "perplexity stays at the shared lengths");
    assertEquals(5.0, r.perplexity("later", 4), 1e-9);

    EvalConfig otherPerplexity = new EvalConfig(List.of(300, 600), 1, List.of(0.5), 1, 5, List.of(3), 1, "synth", true, "",
        List.of(EvalConfig.Method.plain("later")));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EvalJob.assemble("local[2]",
        List.of(part(eval(1, "early"), tokenizer, 1, 2.0), part(otherPerplexity, tokenizer, 1, 5.0)), Map.of()));
    assertTrue(e.getMessage().startsWith("parts: "), "only the passkey lengths may differ: " + e.getMessage());
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
