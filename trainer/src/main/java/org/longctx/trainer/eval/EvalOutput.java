package org.longctx.trainer.eval;

import java.io.Serializable;

/**
 * What a model produced for one {@link EvalItem}: the generated tokens of a passkey prompt, or
 * the summed negative log-likelihood of a document prefix. Scoring (decoding, exact match) is
 * left to the driver, which holds the tokenizer.
 *
 * @param method the method's name
 * @param item the work item
 * @param generated new tokens (passkey), empty for perplexity
 * @param nllSum Σ −log p(token | earlier tokens) over the predicted tokens (perplexity), 0 for passkey
 * @param predicted how many tokens {@code nllSum} covers ({@code length − 1}), 0 for passkey
 * @param seconds wall time of this item
 */
public record EvalOutput(String method, EvalItem item, int[] generated, double nllSum, int predicted, double seconds)
    implements Serializable {}
