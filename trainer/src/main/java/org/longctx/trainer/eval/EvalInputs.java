package org.longctx.trainer.eval;

import java.io.Serializable;
import java.util.List;

/**
 * Everything the evaluation tasks read besides the models, built once on the driver and
 * shared by every task (a Spark broadcast): all prompts and documents, so every method sees
 * exactly the same inputs.
 *
 * @param prompts passkey prompts, indexed by {@link EvalItem#index()}
 * @param documents perplexity documents, indexed by {@link EvalItem#index()}
 * @param keyDigits digits of every key (decides how many tokens to generate)
 * @param stopIds tokens that end a generation (the tokenizer's EOS), possibly none
 * @param dtype compute precision: float32 or float16
 * @param attentionChunk queries per attention chunk (0 = automatic)
 */
public record EvalInputs(
    List<PasskeyPrompt> prompts, List<EvalDocument> documents, int keyDigits, int[] stopIds, String dtype, int attentionChunk)
    implements Serializable {

  public EvalInputs {
    prompts = List.copyOf(prompts);
    documents = List.copyOf(documents);
    stopIds = stopIds.clone();
  }
}
