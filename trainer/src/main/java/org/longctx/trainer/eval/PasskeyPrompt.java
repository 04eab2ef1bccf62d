package org.longctx.trainer.eval;

import java.io.Serializable;
import java.util.Arrays;
import org.longctx.data.synth.SynthSample;
import org.longctx.data.synth.SynthTasks;
import org.longctx.data.tokenizer.TextTokenizer;

/**
 * One passkey-retrieval prompt, tokenized: intro, filler, "The pass key is KEY ..." at
 * {@code depth}, more filler, "What is the pass key? The pass key is". The text comes from the
 * data module's {@link SynthTasks#passkey} generator, the same one that writes training data,
 * so the model is asked in the format it may have been trained on.
 *
 * @param length the target length in tokens (BOS included); {@code ids.length} is this, or
 *     slightly less when the tokenizer cannot hit it exactly
 * @param depth where the key sits in the filler: 0 = right after the intro, 1 = right before
 *     the question
 * @param trial which of the prompts of this length and depth (each has its own key)
 * @param key the pass key (decimal digits)
 * @param ids the prompt's token ids, ending right before the answer
 */
public record PasskeyPrompt(int length, double depth, int trial, String key, int[] ids) implements Serializable {

  /** Tokenizes text for prompts; {@link #bosId()} is -1 when no BOS is wanted. */
  public interface Encoder {
    int[] encode(String text);

    int bosId();

    /** A tokenizer's plain encoding, with {@code bosId} (-1: none) put in front of each prompt. */
    static Encoder of(TextTokenizer tokenizer, int bosId) {
      return new Encoder() {
        @Override
        public int[] encode(String text) {
          return tokenizer.encode(text);
        }

        @Override
        public int bosId() {
          return bosId;
        }
      };
    }
  }

  /**
   * Builds the prompt for (seed, length, depth, trial): the synth sample of that index, its
   * character length adjusted until the prompt has {@code length} tokens (exact in one step for
   * the byte-level tokenizer, a few steps otherwise; never more than {@code length}).
   *
   * @throws IllegalArgumentException when even a prompt without filler needs more than
   *     {@code length} tokens
   */
  public static PasskeyPrompt create(Encoder encoder, long seed, int length, double depth, int trial, int keyDigits) {
    long index = index(length, depth, trial);
    int bos = encoder.bosId() >= 0 ? 1 : 0;
    int answerChars = keyDigits + 2; // SynthTasks ends the text with " KEY."
    int chars = Math.max(1, length - bos) + answerChars;
    int[] best = null;
    String bestKey = null;
    int fixedTokens = -1;
    for (int attempt = 0; attempt < 8; attempt++) {
      SynthSample sample = SynthTasks.passkey(seed, index, chars, keyDigits, depth);
      int promptChars = ((Number) sample.meta().get("prompt_chars")).intValue();
      int[] ids = withBos(encoder, sample.text().substring(0, promptChars));
      if (ids.length <= length && (best == null || ids.length > best.length)) {
        best = ids;
        bestKey = (String) sample.meta().get("answer");
      }
      if (ids.length == length) {
        break;
      }
      if (sample.text().length() > chars && ids.length > length) {
        // the generator left out all filler and the fixed sentences alone are too long
        fixedTokens = ids.length;
        break;
      }
      double charsPerToken = promptChars / (double) Math.max(1, ids.length - bos);
      int step = (int) Math.round((length - ids.length) * charsPerToken);
      if (step == 0) {
        step = ids.length < length ? 1 : -1;
      }
      chars = Math.max(1, chars + step);
    }
    if (best == null) {
      throw new IllegalArgumentException("lengths: " + length + " tokens cannot hold a passkey prompt; its fixed sentences alone take "
          + (fixedTokens > 0 ? fixedTokens : "more") + " tokens with this tokenizer (use lengths of at least 300)");
    }
    return new PasskeyPrompt(length, depth, trial, bestKey, best);
  }

  private static int[] withBos(Encoder encoder, String text) {
    int[] ids = encoder.encode(text);
    if (encoder.bosId() < 0) {
      return ids;
    }
    int[] out = new int[ids.length + 1];
    out[0] = encoder.bosId();
    System.arraycopy(ids, 0, out, 1, ids.length);
    return out;
  }

  /**
   * The synth sample index of a grid cell: a function of (length, depth, trial) alone, so a cell
   * keeps its key when the grid around it changes.
   */
  static long index(int length, double depth, int trial) {
    return trial + 1000L * (Math.round(depth * 1000) + 1001L * length);
  }

  /** New tokens to generate for a key of {@code keyDigits} digits: " KEY." and one spare. */
  public static int maxNewTokens(int keyDigits) {
    return keyDigits + 3;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PasskeyPrompt p && p.length == length && p.depth == depth && p.trial == trial
        && p.key.equals(key) && Arrays.equals(p.ids, ids);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(ids) + key.hashCode();
  }

  @Override
  public String toString() {
    return "PasskeyPrompt[length=" + length + ", depth=" + depth + ", trial=" + trial + ", key=" + key + ", tokens=" + ids.length + "]";
  }
}
