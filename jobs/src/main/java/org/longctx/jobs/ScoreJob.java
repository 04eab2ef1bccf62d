package org.longctx.jobs;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.hadoop.fs.Path;
import org.longctx.checkpoints.Storage;
import org.longctx.trainer.model.KvCache;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.model.ModelWeights;
import org.longctx.trainer.model.Precision;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prints the logits a model gives for a list of token ids: one row per input position, the
 * full vocabulary, float32 — the form transformers' {@code model(input_ids).logits[0]} has.
 *
 * <pre>Usage: longctx score --model DIR --input-ids 1,5,9 [--out FILE]</pre>
 */
public final class ScoreJob {
  private static final Logger LOG = LoggerFactory.getLogger(ScoreJob.class);

  static final String USAGE = """
      Usage: longctx score --model DIR --input-ids 1,5,9 [--position-ids 0,1,2] [--out FILE]
                           [--dtype float32|float16] [--attention-chunk N]

      Runs the model on one sequence and prints {"logits": [[...], ...]}: one row per input
      position, the full vocabulary, float32. Inputs over 4096 tokens are run in segments of
      2048 through a KV cache, with an estimate of memory and time first and progress on stderr.
      A LongLLaMA model (memory layers) reads any input as memory windows and a last local
      context (last_context_length), as LongLLaMA does.

      --model            a Hugging Face folder (LlamaForCausalLM, MistralForCausalLM,
                         Qwen2ForCausalLM, LongLlamaForCausalLM), a longctx step directory,
                         or a checkpoint root (its latest step); local path or any Hadoop URI
      --input-ids        comma-separated token ids
      --position-ids     comma-separated rotary positions, one per id (default 0, 1, 2, ...),
                         below 2^24 (float32 represents them exactly)
      --out              write the JSON to FILE instead of stdout
      --dtype            compute precision (default float32; float16 for GPU inference)
      --attention-chunk  queries per attention chunk (default 0: chosen so the scores of one
                         chunk stay under 2^26 values)
      """;

  public static final Subcommand COMMAND = new Subcommand(
      "score", USAGE,
      Set.of(), Set.of("--model", "--input-ids", "--position-ids", "--out", "--dtype", "--attention-chunk"), ScoreJob::run);

  private ScoreJob() {}

  public static void main(String[] args) {
    Subcommand.main(COMMAND, args);
  }

  static int run(Args args) throws IOException {
    args.noPositionals();
    String modelPath = args.required("--model");
    long[] ids = parseIds("--input-ids", args.required("--input-ids"));
    long[] positions = args.value("--position-ids").map(p -> parseIds("--position-ids", p)).orElse(null);
    if (positions != null && positions.length != ids.length) {
      throw new UsageException("--position-ids has " + positions.length + " values but --input-ids has " + ids.length + "; give one position per id");
    }
    Precision dtype;
    try {
      dtype = Precision.parse("--dtype", args.value("--dtype").orElse("float32"));
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
    int chunk = args.intValue("--attention-chunk", 0);
    if (chunk < 0) {
      throw new UsageException("--attention-chunk must be ≥ 0, got " + chunk);
    }
    long maxPosition = positions == null ? ids.length - 1 : Arrays.stream(positions).max().orElse(0);
    if (maxPosition >= MAX_EXACT_POSITION) {
      // rotary angles are position × inv_freq in float32 (as in transformers): beyond 2^24
      // neighbouring positions round to the same float and the rotation is meaningless
      throw new UsageException((positions == null ? "--input-ids: " + ids.length + " ids put positions" : "--position-ids: "
          + maxPosition + " is") + " beyond what rotary positions represent exactly (float32: below " + MAX_EXACT_POSITION + ")");
    }
    try (LlamaModel model = ModelWeights.load(modelPath, dtype)) {
      int vocab = model.config().vocabSize();
      for (long id : ids) {
        if (id >= vocab) {
          throw new UsageException("--input-ids: id " + id + " is outside the vocabulary (0.." + (vocab - 1) + ")");
        }
      }
      model.setAttentionChunk(chunk);
      if (model.config().memory() != null && positions != null) {
        throw new UsageException("--position-ids: a model with memory layers (LongLLaMA) numbers tokens itself; leave it out");
      }
      if (maxPosition >= model.config().maxPositionEmbeddings()) {
        LOG.warn("score: positions reach {}, beyond the model's window (max_position_embeddings {}); logits there are"
            + " those of a model used past its window", maxPosition, model.config().maxPositionEmbeddings());
      }
      if (args.value("--out").isPresent()) {
        Path out = Storage.path(args.required("--out"));
        try (OutputStream o = Storage.fileSystem(out, Storage.defaultConf()).create(out, true)) {
          score(model, ids, positions, LONG_INPUT, SEGMENT, o, LOG::info);
        }
      } else {
        score(model, ids, positions, LONG_INPUT, SEGMENT, System.out, LOG::info);
        System.out.println();
      }
    }
    return 0;
  }

  /** Positions are exact in float32 below this (2^24). */
  static final long MAX_EXACT_POSITION = 1L << 24;
  /** Inputs longer than this are scored in segments, with an estimate up front and progress. */
  static final int LONG_INPUT = 4096;
  /** Tokens per segment of a long input. */
  static final int SEGMENT = LlamaModel.DEFAULT_PREFILL_SEGMENT;

  /**
   * Writes {"logits": [[row 0], [row 1], ...]}, floats in their shortest exact decimal form.
   * Up to {@code longInput} tokens: one forward. Longer: {@code segment} tokens at a time
   * through a KV cache (the rope's frequencies chosen for the whole input, as one forward
   * would), each segment's rows written as soon as they exist — so neither the logits nor the
   * MLP activations of the whole input are ever held — with an estimate of memory and time
   * before the first segment and a progress line after each.
   */
  static void score(LlamaModel model, long[] ids, long[] positions, int longInput, int segment, OutputStream out,
      Consumer<String> progress) throws IOException {
    int n = ids.length;
    try (JsonGenerator g = new JsonFactory().createGenerator(out, JsonEncoding.UTF8)) {
      g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
      g.writeStartObject();
      g.writeArrayFieldStart("logits");
      if (n <= longInput || model.config().memory() != null) { // memory layers split a long input themselves
        try (NDManager m = NDManager.newBaseManager(model.device())) {
          NDArray pos = positions == null ? null : m.create(positions, new Shape(1, n));
          writeRows(g, model.forward(m.create(ids, new Shape(1, n)), pos), n, model.config().vocabSize());
        }
      } else {
        long maxPosition = positions == null ? n - 1 : Arrays.stream(positions).max().orElse(0);
        ScoreEstimate estimate = ScoreEstimate.of(model, n, segment);
        progress.accept(estimate.describe(model.device()));
        long start = System.nanoTime();
        try (KvCache cache = model.newCache(KvCache.OnRopeChange.REBUILD, maxPosition + 1)) {
          for (int from = 0; from < n; from += segment) {
            int to = Math.min(n, from + segment);
            try (NDManager m = NDManager.newBaseManager(model.device())) {
              NDArray part = m.create(Arrays.copyOfRange(ids, from, to), new Shape(1, to - from));
              NDArray pos = m.create(positions == null ? range(from, to) : Arrays.copyOfRange(positions, from, to),
                  new Shape(1, to - from));
              writeRows(g, model.forward(part, pos, cache), to - from, model.config().vocabSize());
            }
            progress.accept(estimate.progress(to, (System.nanoTime() - start) / 1e9));
          }
        }
      }
      g.writeEndArray();
      g.writeEndObject();
    }
  }

  private static long[] range(int from, int to) {
    long[] r = new long[to - from];
    for (int i = 0; i < r.length; i++) {
      r[i] = from + i;
    }
    return r;
  }

  private static void writeRows(JsonGenerator g, NDArray logits, int rows, int vocab) throws IOException {
    float[] values = logits.toType(DataType.FLOAT32, false).toFloatArray(); // [1, rows, vocab]
    for (int r = 0; r < rows; r++) {
      g.writeStartArray();
      for (int v = 0; v < vocab; v++) {
        g.writeNumber(values[r * vocab + v]);
      }
      g.writeEndArray();
    }
  }

  static long[] parseIds(String option, String text) {
    try {
      long[] ids = Arrays.stream(text.split(",")).map(String::strip).mapToLong(Long::parseLong).toArray();
      for (long id : ids) {
        if (id < 0) {
          throw new UsageException(option + ": values must be ≥ 0, got " + id);
        }
      }
      if (ids.length == 0) {
        throw new UsageException(option + ": give at least one value");
      }
      return ids;
    } catch (NumberFormatException e) {
      throw new UsageException(option + " must be comma-separated integers like 1,5,9; got '" + text + "'");
    }
  }
}
