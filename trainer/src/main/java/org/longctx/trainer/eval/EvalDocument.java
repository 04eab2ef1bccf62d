package org.longctx.trainer.eval;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.longctx.data.reader.PreparedDataset;
import org.longctx.data.synth.SynthTasks;

/**
 * A held-out document for perplexity by length, tokenized. Perplexity at length L reads its
 * first L tokens.
 *
 * @param index position in the evaluation's document list
 * @param source where it came from ({@code synth:SEED:INDEX} or {@code PREPARED#ROW})
 * @param ids its token ids (BOS included when the evaluation adds one)
 */
public record EvalDocument(int index, String source, int[] ids) implements Serializable {

  /**
   * {@code count} documents of at least {@code minTokens} tokens from the synth generator's
   * dependent task (records defined early and looked up later, so later tokens are predictable
   * only with the earlier ones in view). Seeded apart from training data, so never seen in
   * training.
   */
  public static List<EvalDocument> synth(PasskeyPrompt.Encoder encoder, long seed, int count, int minTokens) {
    List<EvalDocument> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int chars = minTokens + 64;
      int[] ids;
      while (true) {
        ids = encode(encoder, SynthTasks.dependent(seed, i, chars, 0).text());
        if (ids.length >= minTokens) {
          break;
        }
        // a tokenizer that merges characters needs more text; grow in proportion
        chars = (int) Math.min(Integer.MAX_VALUE / 2, Math.ceil(chars * 1.25 * minTokens / Math.max(1.0, ids.length)));
      }
      out.add(new EvalDocument(i, "synth:" + seed + ":" + i, ids));
    }
    return out;
  }

  /**
   * Up to {@code count} documents from a prepared output, in row order, each the first row
   * holding at least {@code minTokens} tokens and cut to {@code maxTokens}. Rows are used as
   * prepared (BOS/EOS as the prepare job wrote them). Fewer come back when the data has fewer
   * long enough rows.
   */
  public static List<EvalDocument> prepared(String location, int count, int minTokens, int maxTokens) throws IOException {
    List<EvalDocument> out = new ArrayList<>();
    try (PreparedDataset data = PreparedDataset.open(location)) {
      for (long row = 0; row < data.rows() && out.size() < count; row++) {
        int[] tokens = data.row(row).tokens();
        if (tokens.length >= minTokens) {
          out.add(new EvalDocument(out.size(), location + "#" + row, Arrays.copyOf(tokens, Math.min(tokens.length, maxTokens))));
        }
      }
    }
    return out;
  }

  private static int[] encode(PasskeyPrompt.Encoder encoder, String text) {
    int[] ids = encoder.encode(text);
    if (encoder.bosId() < 0) {
      return ids;
    }
    int[] out = new int[ids.length + 1];
    out[0] = encoder.bosId();
    System.arraycopy(ids, 0, out, 1, ids.length);
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EvalDocument d && d.index == index && d.source.equals(source) && Arrays.equals(d.ids, ids);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(ids);
  }

  @Override
  public String toString() {
    return "EvalDocument[" + index + ", " + source + ", " + ids.length + " tokens]";
  }
}
