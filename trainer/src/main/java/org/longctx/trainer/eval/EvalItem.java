package org.longctx.trainer.eval;

import java.io.Serializable;

/**
 * One unit of evaluation work for one method: a passkey prompt to answer, or a document to
 * score at a length.
 *
 * @param kind passkey or perplexity
 * @param index the prompt's index in {@link EvalInputs#prompts()}, or the document's in
 *     {@link EvalInputs#documents()}
 * @param length tokens read: the prompt's target length, or the document prefix scored
 */
public record EvalItem(Kind kind, int index, int length) implements Serializable {

  /** What an item measures. */
  public enum Kind {
    PASSKEY,
    PERPLEXITY
  }

  public EvalItem {
    if (kind == null || index < 0 || length < 1) {
      throw new IllegalArgumentException("item: needs a kind, index >= 0 and length >= 1, got " + kind + ", " + index + ", " + length);
    }
  }

  /** Relative cost, for spreading items evenly: the attention work grows with length². */
  public double cost() {
    return (double) length * length;
  }
}
