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
import org.apache.hadoop.fs.Path;
import org.longctx.checkpoints.Storage;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.model.Precision;
import org.longctx.trainer.model.ModelWeights;

/**
 * Prints the logits a model gives for a list of token ids: one row per input position, the
 * full vocabulary, float32 — the form transformers' {@code model(input_ids).logits[0]} has.
 *
 * <pre>Usage: longctx score --model DIR --input-ids 1,5,9 [--out FILE]</pre>
 */
public final class ScoreJob {
  static final String USAGE = """
      Usage: longctx score --model DIR --input-ids 1,5,9 [--position-ids 0,1,2] [--out FILE]
                           [--dtype float32|float16] [--attention-chunk N]

      Runs the model on one sequence and prints {"logits": [[...], ...]}: one row per input
      position, the full vocabulary, float32.

      --model            a Hugging Face folder (LlamaForCausalLM, MistralForCausalLM,
                         Qwen2ForCausalLM), a longctx step directory, or a checkpoint root (its
                         latest step); local path or any Hadoop URI
      --input-ids        comma-separated token ids
      --position-ids     comma-separated rotary positions, one per id (default 0, 1, 2, ...)
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
    float[] logits;
    int vocab;
    try (LlamaModel model = ModelWeights.load(modelPath, dtype); NDManager m = NDManager.newBaseManager()) {
      vocab = model.config().vocabSize();
      for (long id : ids) {
        if (id >= vocab) {
          throw new UsageException("--input-ids: id " + id + " is outside the vocabulary (0.." + (vocab - 1) + ")");
        }
      }
      model.setAttentionChunk(chunk);
      NDArray input = m.create(ids, new Shape(1, ids.length));
      NDArray pos = positions == null ? null : m.create(positions, new Shape(1, positions.length));
      logits = model.forward(input, pos).toType(DataType.FLOAT32, false).toFloatArray(); // [1, seq, vocab]
    }
    if (args.value("--out").isPresent()) {
      Path out = Storage.path(args.required("--out"));
      try (OutputStream o = Storage.fileSystem(out, Storage.defaultConf()).create(out, true)) {
        write(o, logits, ids.length, vocab);
      }
    } else {
      write(System.out, logits, ids.length, vocab);
      System.out.println();
    }
    return 0;
  }

  /** {"logits": [[row 0], [row 1], ...]}, floats in their shortest exact decimal form. */
  private static void write(OutputStream out, float[] logits, int rows, int vocab) throws IOException {
    try (JsonGenerator g = new JsonFactory().createGenerator(out, JsonEncoding.UTF8)) {
      g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
      g.writeStartObject();
      g.writeArrayFieldStart("logits");
      for (int r = 0; r < rows; r++) {
        g.writeStartArray();
        for (int v = 0; v < vocab; v++) {
          g.writeNumber(logits[r * vocab + v]);
        }
        g.writeEndArray();
      }
      g.writeEndArray();
      g.writeEndObject();
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
