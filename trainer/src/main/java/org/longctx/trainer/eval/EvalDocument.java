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

  /** The synthetic document kinds: {@code synth} is {@code synth:dependent}. */
  public static final List<String> SYNTH_TASKS = List.of("dependent", "copy", "passkey");

  /**
   * The synth tasks that {@code data} names, in order: {@code synth} = [dependent],
   * {@code synth:copy}, {@code synth:passkey}, {@code synth:dependent}, or several kinds joined
   * by {@code +} ({@code synth:copy+passkey}); null when it names a prepared output.
   *
   * @throws IllegalArgumentException for {@code synth:} with an unknown or repeated task
   */
  public static List<String> synthTasks(String data) {
    if (data.equals("synth")) {
      return List.of("dependent");
    }
    if (!data.startsWith("synth:")) {
      return null;
    }
    List<String> tasks = new ArrayList<>();
    for (String task : data.substring("synth:".length()).split("\\+", -1)) {
      if (!SYNTH_TASKS.contains(task) || tasks.contains(task)) {
        throw new IllegalArgumentException("'" + data + "' names no synthetic document kinds; allowed: synth, synth:"
            + String.join(", synth:", SYNTH_TASKS) + ", several different kinds joined by + (synth:copy+passkey),"
            + " or a prepared output's location");
      }
      tasks.add(task);
    }
    return List.copyOf(tasks);
  }

  /**
   * {@code count} documents of at least {@code minTokens} tokens: synthetic ones of the kinds
   * {@code data} names ({@link #synthTasks}; seeded by {@code seed}), else the first long enough
   * rows of the prepared output at {@code data}, cut to {@code maxTokens} (fewer when it has fewer).
   */
  public static List<EvalDocument> of(String data, PasskeyPrompt.Encoder encoder, long seed, int count, int minTokens, int maxTokens)
      throws IOException {
    List<String> tasks = synthTasks(data);
    return tasks == null ? prepared(data, count, minTokens, maxTokens) : synth(encoder, seed, count, minTokens, tasks);
  }

  /** {@link #synth(PasskeyPrompt.Encoder, long, int, int, String)} of the dependent kind. */
  public static List<EvalDocument> synth(PasskeyPrompt.Encoder encoder, long seed, int count, int minTokens) {
    return synth(encoder, seed, count, minTokens, "dependent");
  }

  /** {@link #synth(PasskeyPrompt.Encoder, long, int, int, List)} of one kind. */
  public static List<EvalDocument> synth(PasskeyPrompt.Encoder encoder, long seed, int count, int minTokens, String task) {
    return synth(encoder, seed, count, minTokens, List.of(task));
  }

  /**
   * {@code count} documents of at least {@code minTokens} tokens from the synth generator's
   * {@code tasks}, taken in turn (document i is of kind {@code tasks[i % n]} and that kind's
   * document i / n, so a mixed list holds the first documents each single kind would give):
   * {@code dependent} (records defined early and looked up later, so later tokens are
   * predictable only with the earlier ones in view), {@code copy} ("Say SPAN. Again: SPAN.", the
   * tiny base model's pretraining kind) or {@code passkey} (key at depth 0.5). Seeded apart from
   * training data, so never seen in training.
   */
  public static List<EvalDocument> synth(PasskeyPrompt.Encoder encoder, long seed, int count, int minTokens, List<String> tasks) {
    List<EvalDocument> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String task = tasks.get(i % tasks.size());
      int k = i / tasks.size();
      int chars = minTokens + 64;
      int[] ids;
      while (true) {
        ids = encode(encoder, switch (task) {
          case "dependent" -> SynthTasks.dependent(seed, k, chars, 0).text();
          case "copy" -> SynthTasks.copy(seed, k, chars).text();
          case "passkey" -> SynthTasks.passkey(seed, k, chars, 5, 0.5).text();
          default -> throw new IllegalArgumentException("task: '" + task + "' is not a synthetic document kind; allowed: "
              + String.join(", ", SYNTH_TASKS));
        });
        if (ids.length >= minTokens) {
          break;
        }
        // a tokenizer that merges characters needs more text; grow in proportion
        chars = (int) Math.min(Integer.MAX_VALUE / 2, Math.ceil(chars * 1.25 * minTokens / Math.max(1.0, ids.length)));
      }
      out.add(new EvalDocument(i, (task.equals("dependent") ? "synth:" : "synth-" + task + ":") + seed + ":" + k, ids));
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
