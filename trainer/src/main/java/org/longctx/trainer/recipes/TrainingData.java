package org.longctx.trainer.recipes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.longctx.data.DataConfig;
import org.longctx.data.reader.DataCursor;
import org.longctx.data.reader.PreparedDataset;
import org.longctx.data.reader.Sample;
import org.longctx.data.reader.TokenStream;
import org.longctx.data.synth.SynthSample;
import org.longctx.data.synth.SynthTasks;
import org.longctx.data.tokenizer.TextTokenizer;
import org.longctx.trainer.TrainConfig;

/**
 * The documents a run trains on, in a fixed order that a checkpoint can resume exactly: a
 * mixture of rows of the prepared dataset ({@code data.prepared}, read through
 * {@link TokenStream}) and documents made on the fly by the synthetic generators
 * ({@code train.synthetic}).
 *
 * <p>Document {@code i} is a pure function of {@code (train.seed, i)} and the prepared stream's
 * position: whether it is synthetic, which generator, its length and its pass-key depth all come
 * from {@link #random(long, long, long)} seeded by the index, and the prepared rows come from a
 * seeded shuffle. So the whole state is three numbers — the next document's index, the prepared
 * stream's {@link DataCursor}, and how many tokens of a partly packed document were used — and
 * {@link #cursor()} writes them as JSON for the checkpoint.
 *
 * <p>Synthetic documents use the generators' seed {@code mix(train.seed ^ "train")}, far from
 * the small seeds evaluations use, so training never sees an evaluation sample.
 *
 * <p>Data-parallel replicas shard the order by rank: replica {@code r} of {@code N} draws
 * documents {@code r, r + N, r + 2N, …} and, of the prepared stream, elements
 * {@code r, r + N, …} ({@link TokenStream}), so the replicas together see every document once,
 * with no overlap and no gap. Each replica's cursor is its own; the checkpoint keeps all of
 * them ({@link #combine}, {@link #forRank}).
 */
public final class TrainingData implements AutoCloseable {
  static final int CURSOR_FORMAT = 1;
  private static final long SYNTH_SALT = 0x747261696EL; // "train"
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One document.
   *
   * @param index its place in the run's document order
   * @param tokens its token ids (BOS/EOS included where the data config adds them)
   * @param source the generator ({@code synth_passkey}…) or the prepared row's source
   */
  public record Document(long index, int[] tokens, String source) {}

  private final TrainConfig.Synthetic synthetic;
  private final long seed;
  private final long synthSeed;
  private final DataConfig data;
  private final TextTokenizer tokenizer;
  private final PreparedDataset prepared;
  private final TokenStream stream;
  private final List<String> taskNames;
  private final double[] taskWeights;
  private final int worldSize;

  private long index;
  private int[] pending;
  private DataCursor preparedBeforePending;
  private int offset;

  private TrainingData(TrainConfig train, DataConfig data, TextTokenizer tokenizer, PreparedDataset prepared, DataCursor start,
      int rank, int worldSize) {
    this.synthetic = train.synthetic();
    this.seed = train.seed();
    this.synthSeed = mix(train.seed() ^ SYNTH_SALT);
    this.data = data;
    this.tokenizer = tokenizer;
    this.prepared = prepared;
    this.stream = prepared == null ? null : new TokenStream(prepared, rank, worldSize, start);
    this.worldSize = worldSize;
    this.index = rank;
    this.taskNames = List.copyOf(synthetic.tasks().keySet());
    this.taskWeights = new double[taskNames.size()];
    double total = synthetic.tasks().values().stream().mapToDouble(Double::doubleValue).sum();
    double cumulative = 0;
    for (int i = 0; i < taskNames.size(); i++) {
      cumulative += synthetic.tasks().get(taskNames.get(i)) / total;
      taskWeights[i] = cumulative;
    }
  }

  /**
   * Opens the document stream of a run.
   *
   * @param tokenizer encodes synthetic documents; may be null when {@code synthetic.fraction} is 0
   * @param cursor a {@link #cursor()} saved in a checkpoint, or null to start at document 0
   */
  public static TrainingData open(TrainConfig train, DataConfig data, TextTokenizer tokenizer, JsonNode cursor) throws IOException {
    return open(train, data, tokenizer, cursor, 0, 1);
  }

  /**
   * Opens replica {@code rank}'s shard of the document stream of a run of {@code worldSize}
   * replicas.
   *
   * @param cursor this replica's {@link #cursor()} ({@link #forRank} of the checkpoint's), or null to start
   */
  public static TrainingData open(TrainConfig train, DataConfig data, TextTokenizer tokenizer, JsonNode cursor, int rank, int worldSize)
      throws IOException {
    if (worldSize < 1 || rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException("need 0 <= rank < worldSize, got rank " + rank + " of " + worldSize);
    }
    double fraction = train.synthetic().fraction();
    if (fraction > 0 && tokenizer == null) {
      throw new IllegalArgumentException("train.synthetic.fraction is " + fraction + " but no tokenizer was given for the synthetic documents");
    }
    PreparedDataset prepared = null;
    DataCursor start = null;
    if (fraction < 1) {
      if (data.prepared().isEmpty()) {
        throw new IllegalArgumentException("data.prepared: the run reads prepared data (train.synthetic.fraction = " + fraction
            + " < 1) but no folder is given; run 'longctx prepare' first, or set train.synthetic.fraction: 1.0");
      }
      prepared = PreparedDataset.open(data.prepared());
      start = DataCursor.start(prepared, train.seed(), true);
      if (cursor != null && cursor.hasNonNull("prepared")) {
        JsonNode p = cursor.get("prepared");
        start = new DataCursor(p.path("dataset").asText(), p.path("rows").asLong(), p.path("seed").asLong(),
            p.path("shuffle").asBoolean(), p.path("position").asLong());
      }
    }
    TrainingData d;
    try {
      d = new TrainingData(train, data, tokenizer, prepared, start, rank, worldSize);
    } catch (RuntimeException e) {
      if (prepared != null) {
        prepared.close();
      }
      throw e;
    }
    if (cursor != null) {
      if (cursor.path("format").asInt(-1) != CURSOR_FORMAT) {
        d.close();
        throw new IllegalArgumentException("data cursor: format " + cursor.path("format") + " is not supported; expected " + CURSOR_FORMAT);
      }
      d.index = cursor.path("documents").asLong();
      if (Math.floorMod(d.index, worldSize) != rank) {
        d.close();
        throw new IllegalArgumentException("data cursor: document " + d.index + " is not in the shard of rank " + rank + " of "
            + worldSize + "; was the checkpoint written with another number of replicas?");
      }
      int used = cursor.path("pending_offset").asInt(0);
      if (used > 0) { // a partly used document: draw it again and skip what was used
        d.preparedBeforePending = d.stream == null ? null : d.stream.cursor();
        d.pending = d.draw().tokens();
        d.offset = used;
      }
    }
    return d;
  }

  /** The prepared dataset, or null when every document is synthetic. */
  public PreparedDataset prepared() {
    return prepared;
  }

  /** The next whole document (the rest of one that packing had started, if any). */
  public Document nextDocument() {
    if (pending != null) {
      int[] rest = java.util.Arrays.copyOfRange(pending, offset, pending.length);
      pending = null;
      return new Document(index - worldSize, rest, "rest");
    }
    return draw();
  }

  /** Draws the next document into {@code pending} when the previous one is used up. */
  private void ensurePending() {
    if (pending == null) {
      preparedBeforePending = stream == null ? null : stream.cursor();
      pending = draw().tokens();
      offset = 0;
    }
  }

  /**
   * The next {@code n} tokens of the documents laid end to end (packing): a document that does
   * not fit is continued at the start of the next call.
   */
  public int[] nextTokens(int n) {
    int[] out = new int[n];
    int filled = 0;
    while (filled < n) {
      ensurePending();
      int take = Math.min(n - filled, pending.length - offset);
      System.arraycopy(pending, offset, out, filled, take);
      offset += take;
      filled += take;
      if (offset == pending.length) {
        pending = null;
      }
    }
    return out;
  }

  /**
   * Up to {@code n} tokens of whole documents (packing without splitting): documents are added
   * while they fit; one that does not fit waits for the next row, which it starts. Only a
   * document longer than a whole row is split (into row-size pieces; a 1-token tail piece is
   * joined by the next document, split if need be, since one token predicts nothing). The row
   * may therefore be shorter than {@code n}; the batch pads it and masks the padding out of the
   * loss.
   */
  public int[] nextWholeDocuments(int n) {
    int[] out = new int[n];
    int filled = 0;
    while (filled < n) {
      ensurePending();
      int remaining = pending.length - offset;
      if (remaining <= n - filled) {
        System.arraycopy(pending, offset, out, filled, remaining);
        filled += remaining;
        pending = null;
      } else if (filled < 2) {
        // an empty row, or one holding only the 1-token tail of a split document (nothing to
        // predict on its own): this document fills it and is split at the row's end
        System.arraycopy(pending, offset, out, filled, n - filled);
        offset += n - filled;
        filled = n;
      } else {
        break; // the document starts the next row
      }
    }
    return filled == n ? out : java.util.Arrays.copyOf(out, filled);
  }

  /** The index after the last document begun (a partly packed one counts); with one replica, the documents begun. */
  public long documentsDrawn() {
    return index;
  }

  /** Where the stream stands, for a checkpoint's {@code data_cursor}. */
  public JsonNode cursor() {
    ObjectNode c = JSON.createObjectNode();
    c.put("format", CURSOR_FORMAT);
    c.put("documents", pending == null ? index : index - worldSize);
    c.put("pending_offset", pending == null ? 0 : offset);
    DataCursor p = pending == null ? (stream == null ? null : stream.cursor()) : preparedBeforePending;
    if (p != null) {
      ObjectNode n = c.putObject("prepared");
      n.put("dataset", p.dataset());
      n.put("rows", p.rows());
      n.put("seed", p.seed());
      n.put("shuffle", p.shuffle());
      n.put("position", p.position());
    }
    return c;
  }

  /**
   * A random source owned by document {@code index} and {@code salt} (0: the stream's own draws;
   * recipes pass their own salt, e.g. for PoSE positions). Independent of everything else.
   */
  public SplittableRandom random(long index, long salt) {
    return random(seed, index, salt);
  }

  static SplittableRandom random(long seed, long index, long salt) {
    return new SplittableRandom(mix(mix(seed) ^ mix(index * 0x9E3779B97F4A7C15L + salt)));
  }

  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * The checkpoint's {@code data_cursor} for the replicas' cursors, by rank: one replica's own
   * cursor (the single-process format), or {@code {"world_size": N, "ranks": [...]}}.
   */
  public static JsonNode combine(List<JsonNode> cursors) {
    if (cursors.size() == 1) {
      return cursors.get(0);
    }
    ObjectNode c = JSON.createObjectNode();
    c.put("world_size", cursors.size());
    ArrayNode ranks = c.putArray("ranks");
    cursors.forEach(ranks::add);
    return c;
  }

  /** Replica {@code rank}'s cursor in a checkpoint's {@code data_cursor} written by {@link #combine}; null stays null. */
  public static JsonNode forRank(JsonNode saved, int rank, int worldSize) {
    if (saved == null || saved.isNull() || saved.isMissingNode()) {
      return null;
    }
    int savedWorld = saved.has("ranks") ? saved.path("world_size").asInt(-1) : 1;
    if (savedWorld != worldSize) {
      throw new IllegalArgumentException("the checkpoint was trained by " + savedWorld + " replica(s) but this run has " + worldSize
          + " (distributed.workers): each replica's data shard depends on the number of replicas, so resume with distributed.workers: "
          + savedWorld);
    }
    return savedWorld == 1 ? saved : saved.get("ranks").get(rank);
  }

  private Document draw() {
    long i = index;
    index += worldSize;
    SplittableRandom r = random(i, 0);
    double fraction = synthetic.fraction();
    boolean synth = fraction >= 1 || (fraction > 0 && r.nextDouble() < fraction);
    if (!synth) {
      Sample s = stream.next();
      return new Document(i, s.tokens(), s.source().isEmpty() ? "prepared" : s.source());
    }
    double pick = r.nextDouble();
    int task = 0;
    while (task < taskWeights.length - 1 && pick >= taskWeights[task]) {
      task++;
    }
    int length = synthetic.minChars() + r.nextInt(synthetic.maxChars() - synthetic.minChars() + 1);
    SynthSample s = switch (taskNames.get(task)) {
      case "passkey" -> SynthTasks.passkey(synthSeed, i, length, synthetic.keyDigits(), r.nextDouble());
      case "multikey" -> SynthTasks.multikey(synthSeed, i, length, synthetic.keyDigits(), 1 + r.nextInt(4));
      case "dependent" -> SynthTasks.dependent(synthSeed, i, length, 0);
      case "copy" -> SynthTasks.copy(synthSeed, i, length);
      default -> throw new IllegalStateException(taskNames.get(task));
    };
    return new Document(i, tokenizer.encode(s.text(), data.addBos(), data.addEos()), s.source());
  }

  @Override
  public void close() throws IOException {
    if (prepared != null) {
      prepared.close();
    }
  }

  /** Generator names and their normalised weights (for the start-of-run log). */
  public Map<String, Double> taskShares() {
    Map<String, Double> m = new java.util.LinkedHashMap<>();
    double previous = 0;
    for (int i = 0; i < taskNames.size(); i++) {
      m.put(taskNames.get(i), taskWeights[i] - previous);
      previous = taskWeights[i];
    }
    return m;
  }
}
