package org.longctx.trainer;

import org.longctx.trainer.model.ModelWeights;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.checkpoints.Storage;
import org.longctx.checkpoints.safetensors.SafetensorsDtype;
import org.longctx.checkpoints.safetensors.SafetensorsReader;
import org.longctx.checkpoints.safetensors.SafetensorsWriter;
import org.longctx.checkpoints.safetensors.TensorEntry;
import org.longctx.checkpoints.training.CheckpointStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a Hugging Face model folder from a Hugging Face folder or a longctx checkpoint:
 * safetensors in the chosen dtype (sharded past a size limit), {@code config.json} with the rope
 * the model uses in both the transformers 4 and 5 forms, {@code generation_config.json}, and the
 * tokenizer files when the source (or {@code tokenizerFrom}) has them. Tensors stream through one
 * at a time, so a model of any size exports in little memory. The folder is assembled under a
 * temporary name and renamed into place when complete.
 */
public final class HfExport {
  private static final Logger LOG = LoggerFactory.getLogger(HfExport.class);

  /** Files transformers' tokenizers read, copied when present. */
  public static final List<String> TOKENIZER_FILES = List.of(
      "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
      "vocab.json", "merges.txt", "added_tokens.json", "chat_template.jinja", "chat_template.json");

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * What an export wrote.
   *
   * @param folder the model folder
   * @param files names written, weights first
   * @param config the model as exported
   * @param float16Overflows values that became ±infinity when narrowed to float16
   */
  public record Result(Path folder, List<String> files, LlamaConfig config, long float16Overflows) {}

  private HfExport() {}

  /** Maps {@code float32}, {@code float16} and {@code bfloat16} to the safetensors type. */
  public static SafetensorsDtype dtype(String name) {
    return switch (name) {
      case "float32" -> SafetensorsDtype.F32;
      case "float16" -> SafetensorsDtype.F16;
      case "bfloat16" -> SafetensorsDtype.BF16;
      default -> throw new IllegalArgumentException("dtype: '" + name + "' is not allowed; allowed: float32, float16, bfloat16");
    };
  }

  /**
   * Exports {@code from} (Hugging Face folder, step directory, or checkpoint root) into
   * {@code to}, which must not exist yet or be empty.
   *
   * @param dtype float32, float16 or bfloat16
   * @param tokenizerFrom a folder with tokenizer files, or null to take them from the source
   */
  public static Result export(Path from, Path to, String dtype, long maxShardBytes, Path tokenizerFrom, Configuration conf)
      throws IOException {
    return export(from, to, dtype, maxShardBytes, tokenizerFrom, conf, null, 0);
  }

  /**
   * {@link #export(Path, Path, String, long, Path, Configuration)} with {@code rope} in place of
   * the model's rope (e.g. LongRoPE's searched factors) and {@code max_position_embeddings} set
   * to {@code maxPositionEmbeddings}, the window the rope serves.
   *
   * @param rope null keeps the model's rope
   */
  public static Result export(Path from, Path to, String dtype, long maxShardBytes, Path tokenizerFrom, Configuration conf,
      org.longctx.positional.RopeConfig rope, int maxPositionEmbeddings) throws IOException {
    return export(from, to, dtype, maxShardBytes, tokenizerFrom, conf, rope, maxPositionEmbeddings, false);
  }

  /**
   * {@link #export(Path, Path, String, long, Path, Configuration, org.longctx.positional.RopeConfig, int)},
   * optionally as a plain Llama: a model with Focused Transformer memory layers (LongLLaMA's
   * format, which transformers loads only with LongLLaMA's own modeling code) is written as a
   * {@code LlamaForCausalLM} with the same weights. That folder loads in transformers as it is,
   * but loses the memory: it reads at most its window, as the model did before FoT training.
   *
   * @param plainLlama drop the memory layers from {@code config.json}
   */
  public static Result export(Path from, Path to, String dtype, long maxShardBytes, Path tokenizerFrom, Configuration conf,
      org.longctx.positional.RopeConfig rope, int maxPositionEmbeddings, boolean plainLlama) throws IOException {
    SafetensorsDtype target = dtype(dtype);
    Path source = CheckpointStore.modelFolder(from, conf);
    LlamaConfig config = ModelWeights.readConfig(source, conf);
    if (plainLlama) {
      config = config.withMemory(null);
    }
    if (rope != null) {
      config = config.withRope(rope.toRope(config.headDim(), config.rope().ropeTheta(), maxPositionEmbeddings));
    }
    FileSystem outFs = Storage.fileSystem(to, conf);
    if (outFs.exists(to) && (!outFs.getFileStatus(to).isDirectory() || outFs.listStatus(to).length > 0)) {
      throw new IOException(to + " already exists and is not an empty folder; export writes a new folder");
    }
    Path parent = to.getParent() == null ? to : to.getParent();
    outFs.mkdirs(parent);
    Path temp = new Path(parent, ".tmp-export-" + to.getName() + "-" + UUID.randomUUID());
    List<String> files = new ArrayList<>();
    AtomicLong overflows = new AtomicLong();
    try (SafetensorsReader reader = SafetensorsReader.open(source, "model", conf)) {
      reader.requireExactly("weights of " + config.architecture().className(), ModelWeights.huggingFaceShapes(config),
          ModelWeights.ignorable(config));
      List<TensorEntry> entries = new ArrayList<>();
      for (ModelWeights.Tensor t : ModelWeights.layout(config).values()) {
        entries.add(TensorEntry.copyOf(reader, t.huggingFace(), t.huggingFace(), target, overflows));
      }
      outFs.mkdirs(temp);
      files.addAll(SafetensorsWriter.writeSharded(temp, "model", entries, maxShardBytes, conf));
      Storage.writeNew(outFs, new Path(temp, "config.json"), JSON.writeValueAsBytes(config.toHuggingFace(dtype)));
      files.add("config.json");
      Storage.writeNew(outFs, new Path(temp, "generation_config.json"), JSON.writeValueAsBytes(config.generationConfig()));
      files.add("generation_config.json");
      Path tokenizerSource = tokenizerFrom == null ? source : tokenizerFrom;
      FileSystem tokFs = Storage.fileSystem(tokenizerSource, conf);
      for (String name : TOKENIZER_FILES) {
        Path file = new Path(tokenizerSource, name);
        if (tokFs.exists(file)) {
          copy(tokFs, file, outFs, new Path(temp, name));
          files.add(name);
        }
      }
      if (outFs.exists(to)) {
        outFs.delete(to, false); // the empty folder the caller made
      }
      if (!outFs.rename(temp, to)) {
        throw new IOException("cannot rename " + temp + " to " + to);
      }
    } catch (IOException | RuntimeException e) {
      outFs.delete(temp, true);
      throw e;
    }
    if (!files.contains("tokenizer.json") && !files.contains("tokenizer.model")) {
      LOG.warn("{} has no tokenizer files; the exported folder loads as a model but needs a tokenizer from elsewhere", source);
    }
    if (overflows.get() > 0) {
      LOG.warn("{} weight values exceed float16's range and were written as ±infinity", overflows.get());
    }
    return new Result(to, List.copyOf(files), config, overflows.get());
  }

  private static void copy(FileSystem inFs, Path in, FileSystem outFs, Path out) throws IOException {
    try (InputStream i = inFs.open(in); OutputStream o = outFs.create(out, false)) {
      i.transferTo(o);
    }
  }

  /** Parses a size such as {@code 5GB}, {@code 500MB}, {@code 2GiB} or a plain byte count. */
  public static long parseSize(String text) {
    String t = text.strip().toUpperCase(java.util.Locale.ROOT);
    long unit = 1;
    String[][] units = {{"KIB", "1024"}, {"MIB", "1048576"}, {"GIB", "1073741824"}, {"KB", "1000"}, {"MB", "1000000"}, {"GB", "1000000000"}, {"B", "1"}};
    for (String[] u : units) {
      if (t.endsWith(u[0])) {
        unit = Long.parseLong(u[1]);
        t = t.substring(0, t.length() - u[0].length()).strip();
        break;
      }
    }
    try {
      double v = Double.parseDouble(t);
      if (!(v > 0)) {
        throw new NumberFormatException();
      }
      return (long) (v * unit);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("size '" + text + "' is not understood; write e.g. 5GB, 500MB, 2GiB or a byte count");
    }
  }
}
