package org.longctx.trainer.eval;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.longctx.trainer.Generator;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.model.Precision;
import org.longctx.trainer.Perplexity;

/**
 * Runs the work items of one method: views its model with the method's extension (rope
 * override, SelfExtend), answers each passkey prompt greedily (with a KV cache) and scores each
 * document prefix. The model comes from a {@link ModelScorer#shared} lease, so the tasks of
 * several methods on the same model that run side by side in one JVM (an executor's cores)
 * read its weights once. Independent of Spark: an evaluation task calls
 * {@link #run(MethodSpec, List, EvalInputs)}; a test may call
 * {@link #run(LlamaModel, String, List, EvalInputs)} with a model it built.
 */
public final class EvalRunner {
  private EvalRunner() {}

  /** Runs {@code items} with the method's extension on its model, read once per JVM for all tasks that hold it at the same time. */
  public static List<EvalOutput> run(MethodSpec method, List<EvalItem> items, EvalInputs inputs) throws IOException {
    try (ModelScorer scorer = ModelScorer.shared(method.model(), Precision.parse("eval.dtype", inputs.dtype()))) {
      return run(scorer, method, items, inputs);
    }
  }

  /** Runs {@code items} on {@code scorer}'s model viewed with the method's extension. */
  public static List<EvalOutput> run(ModelScorer scorer, MethodSpec method, List<EvalItem> items, EvalInputs inputs) {
    return scorer.apply(method.settings(), model -> run(model, method.name(), items, inputs));
  }

  /** Runs {@code items} on a model (view) that already carries the method's extension. */
  public static List<EvalOutput> run(LlamaModel model, String method, List<EvalItem> items, EvalInputs inputs) {
    model.setAttentionChunk(inputs.attentionChunk());
    int vocab = model.config().vocabSize();
    List<EvalOutput> out = new ArrayList<>(items.size());
    for (EvalItem item : items) {
      long start = System.nanoTime();
      if (item.kind() == EvalItem.Kind.PASSKEY) {
        PasskeyPrompt prompt = inputs.prompts().get(item.index());
        checkVocabulary(prompt.ids(), vocab, method);
        int[] generated = Generator.greedy(model, prompt.ids(), PasskeyPrompt.maxNewTokens(inputs.keyDigits()), inputs.stopIds());
        out.add(new EvalOutput(method, item, generated, 0, 0, seconds(start)));
      } else {
        EvalDocument doc = inputs.documents().get(item.index());
        if (doc.ids().length < item.length()) {
          throw new IllegalArgumentException("document " + doc.source() + " has " + doc.ids().length
              + " tokens, fewer than the length " + item.length() + " it is scored at");
        }
        // the model reads exactly `length` tokens (rope scaling that depends on the length sees this one)
        int[] ids = Arrays.copyOf(doc.ids(), item.length());
        checkVocabulary(ids, vocab, method);
        double nllSum = Arrays.stream(Perplexity.of(model, ids).nll()).sum();
        out.add(new EvalOutput(method, item, new int[0], nllSum, ids.length - 1, seconds(start)));
      }
    }
    return out;
  }

  private static void checkVocabulary(int[] ids, int vocab, String method) {
    for (int id : ids) {
      if (id < 0 || id >= vocab) {
        throw new IllegalArgumentException("method " + method + ": token id " + id + " is outside the model's vocabulary (0.."
            + (vocab - 1) + "); the evaluation's tokenizer does not fit this model (set eval.tokenizer)");
      }
    }
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }
}
