package org.longctx.trainer.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
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
import org.longctx.trainer.HfExport;

/**
 * The one table mapping {@link LlamaModel}'s parameter names to Hugging Face's, with the shape
 * each has for a given {@link LlamaConfig}; and loading a model from a Hugging Face folder (or a
 * longctx checkpoint) and turning it back into Hugging Face tensors.
 */
public final class ModelWeights {

  /**
   * One kind of tensor. {@code {i}} stands for the layer index.
   *
   * @param ours the name inside {@link LlamaModel}
   * @param huggingFace the name in a transformers checkpoint
   * @param shape its shape for a config
   * @param present whether a model of that config has it (biases, untied head)
   */
  record Row(String ours, String huggingFace, Function<LlamaConfig, long[]> shape, Predicate<LlamaConfig> present) {
    boolean perLayer() {
      return ours.contains("{i}");
    }
  }

  private static Row row(String ours, String hf, Function<LlamaConfig, long[]> shape) {
    return new Row(ours, hf, shape, c -> true);
  }

  private static Row row(String ours, String hf, Function<LlamaConfig, long[]> shape, Predicate<LlamaConfig> present) {
    return new Row(ours, hf, shape, present);
  }

  private static long[] s(long... dims) {
    return dims;
  }

  /** Ours ↔ Hugging Face, in the order transformers stores a layer. */
  static final List<Row> TABLE = List.of(
      row("embedding.weight", "model.embed_tokens.weight", c -> s(c.vocabSize(), c.hiddenSize())),
      row("blocks.{i}.attention_norm.weight", "model.layers.{i}.input_layernorm.weight", c -> s(c.hiddenSize())),
      row("blocks.{i}.attention.q.weight", "model.layers.{i}.self_attn.q_proj.weight", c -> s((long) c.numAttentionHeads() * c.headDim(), c.hiddenSize())),
      row("blocks.{i}.attention.q.bias", "model.layers.{i}.self_attn.q_proj.bias", c -> s((long) c.numAttentionHeads() * c.headDim()), LlamaConfig::qkvBias),
      row("blocks.{i}.attention.k.weight", "model.layers.{i}.self_attn.k_proj.weight", c -> s((long) c.numKeyValueHeads() * c.headDim(), c.hiddenSize())),
      row("blocks.{i}.attention.k.bias", "model.layers.{i}.self_attn.k_proj.bias", c -> s((long) c.numKeyValueHeads() * c.headDim()), LlamaConfig::qkvBias),
      row("blocks.{i}.attention.v.weight", "model.layers.{i}.self_attn.v_proj.weight", c -> s((long) c.numKeyValueHeads() * c.headDim(), c.hiddenSize())),
      row("blocks.{i}.attention.v.bias", "model.layers.{i}.self_attn.v_proj.bias", c -> s((long) c.numKeyValueHeads() * c.headDim()), LlamaConfig::qkvBias),
      row("blocks.{i}.attention.o.weight", "model.layers.{i}.self_attn.o_proj.weight", c -> s(c.hiddenSize(), (long) c.numAttentionHeads() * c.headDim())),
      row("blocks.{i}.attention.o.bias", "model.layers.{i}.self_attn.o_proj.bias", c -> s(c.hiddenSize()), LlamaConfig::outputBias),
      row("blocks.{i}.mlp_norm.weight", "model.layers.{i}.post_attention_layernorm.weight", c -> s(c.hiddenSize())),
      row("blocks.{i}.mlp.gate.weight", "model.layers.{i}.mlp.gate_proj.weight", c -> s(c.intermediateSize(), c.hiddenSize())),
      row("blocks.{i}.mlp.gate.bias", "model.layers.{i}.mlp.gate_proj.bias", c -> s(c.intermediateSize()), LlamaConfig::mlpBias),
      row("blocks.{i}.mlp.up.weight", "model.layers.{i}.mlp.up_proj.weight", c -> s(c.intermediateSize(), c.hiddenSize())),
      row("blocks.{i}.mlp.up.bias", "model.layers.{i}.mlp.up_proj.bias", c -> s(c.intermediateSize()), LlamaConfig::mlpBias),
      row("blocks.{i}.mlp.down.weight", "model.layers.{i}.mlp.down_proj.weight", c -> s(c.hiddenSize(), c.intermediateSize())),
      row("blocks.{i}.mlp.down.bias", "model.layers.{i}.mlp.down_proj.bias", c -> s(c.hiddenSize()), LlamaConfig::mlpBias),
      row("norm.weight", "model.norm.weight", c -> s(c.hiddenSize())),
      row("output.weight", "lm_head.weight", c -> s(c.vocabSize(), c.hiddenSize()), c -> !c.tieWordEmbeddings()));

  /**
   * Stored tensors a loader skips: rotary caches older transformers saved, and a copy of the
   * embedding as {@code lm_head.weight} in a tied checkpoint.
   */
  public static List<String> ignorable(LlamaConfig config) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      names.add("model.layers." + i + ".self_attn.rotary_emb.inv_freq");
    }
    if (config.tieWordEmbeddings()) {
      names.add("lm_head.weight");
    }
    return names;
  }

  /**
   * A tensor of a model: its name in {@link LlamaModel}, in Hugging Face, and its shape.
   *
   * @param ours the model's name
   * @param huggingFace the transformers name
   * @param shape dimensions
   */
  public record Tensor(String ours, String huggingFace, long[] shape) {
    public Shape djlShape() {
      return new Shape(shape);
    }
  }

  private ModelWeights() {}

  /** Every tensor a model of {@code config} has, keyed by our name, in storage order. */
  public static Map<String, Tensor> layout(LlamaConfig config) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Row r : TABLE) {
      if (!r.present().test(config)) {
        continue;
      }
      if (!r.perLayer()) {
        out.put(r.ours(), new Tensor(r.ours(), r.huggingFace(), r.shape().apply(config)));
      }
    }
    // per-layer rows, layer by layer (transformers' order), then the final norm and head
    Map<String, Tensor> layered = new LinkedHashMap<>();
    layered.put("embedding.weight", out.remove("embedding.weight"));
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      for (Row r : TABLE) {
        if (r.perLayer() && r.present().test(config)) {
          String ours = r.ours().replace("{i}", Integer.toString(i));
          layered.put(ours, new Tensor(ours, r.huggingFace().replace("{i}", Integer.toString(i)), r.shape().apply(config)));
        }
      }
    }
    layered.putAll(out);
    return Collections.unmodifiableMap(layered);
  }

  /** Hugging Face name → shape, as {@link SafetensorsReader#requireExactly} wants it. */
  public static Map<String, long[]> huggingFaceShapes(LlamaConfig config) {
    Map<String, long[]> m = new LinkedHashMap<>();
    for (Tensor t : layout(config).values()) {
      m.put(t.huggingFace(), t.shape());
    }
    return m;
  }

  // ---- loading ----

  /** Reads {@code config.json} of a model folder. */
  public static LlamaConfig readConfig(Path folder, Configuration conf) throws IOException {
    FileSystem fs = Storage.fileSystem(folder, conf);
    Path file = new Path(folder, "config.json");
    JsonNode json;
    try {
      json = new ObjectMapper().readTree(Storage.readAll(fs, file));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
    }
    try {
      return LlamaConfig.fromHuggingFace(json);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Loads a model from a Hugging Face folder, a longctx step directory, or a checkpoint root
   * (its latest step), on any Hadoop file system, onto the engine's default device.
   *
   * @param precision the model's precision (bfloat16 weights in the files are converted in Java)
   */
  public static LlamaModel load(String location, Precision precision) throws IOException {
    return load(Storage.path(location), precision, Storage.defaultConf());
  }

  public static LlamaModel load(Path location, Precision precision, Configuration conf) throws IOException {
    Path folder = CheckpointStore.modelFolder(location, conf);
    LlamaConfig config = readConfig(folder, conf);
    try (SafetensorsReader reader = SafetensorsReader.open(folder, "model", conf)) {
      return load(config, reader, precision, Engine.getInstance().defaultDevice());
    }
  }

  /**
   * Builds a model of {@code config} on {@code device} from the tensors of {@code reader}, after
   * checking that it holds exactly the expected names and shapes.
   */
  public static LlamaModel load(LlamaConfig config, SafetensorsReader reader, Precision precision, Device device) throws IOException {
    reader.requireExactly("weights of " + config.architecture().className(), huggingFaceShapes(config), ignorable(config));
    // DJL cannot make bfloat16 arrays itself: read float32, and let create() cast with the native extension
    DataType read = precision == Precision.BFLOAT16 ? DataType.FLOAT32 : precision.dataType();
    return LlamaModel.create(config, precision, device, (tensor, manager) -> reader.read(manager, tensor.huggingFace(), read));
  }

  // ---- saving ----

  /**
   * The model's tensors under Hugging Face names, to be written lazily one by one.
   *
   * @param dtype F32, F16 or BF16 (BF16 is rounded to nearest even in Java)
   */
  public static List<TensorEntry> huggingFaceTensors(LlamaModel model, SafetensorsDtype dtype) {
    if (!dtype.isFloat()) {
      throw new IllegalArgumentException("dtype: " + dtype + " is not allowed for weights; allowed: F32, F16, BF16");
    }
    List<TensorEntry> entries = new ArrayList<>();
    Map<String, NDArray> params = model.parameters();
    for (Tensor t : layout(model.config()).values()) {
      NDArray array = params.get(t.ours());
      entries.add(Casts.typeOf(array) == DataType.BFLOAT16 ? bfloat16Entry(t.huggingFace(), array, dtype)
          : TensorEntry.of(t.huggingFace(), array, dtype));
    }
    return entries;
  }

  /**
   * A bfloat16 parameter written as {@code dtype}: DJL cannot read bfloat16 arrays, so each is
   * cast to float32 (exactly) only when the writer reaches it, and the copy freed at once.
   */
  private static TensorEntry bfloat16Entry(String name, NDArray array, SafetensorsDtype dtype) {
    return new TensorEntry(name, dtype, array.getShape().getShape(), () -> {
      try (NDArray detached = array.stopGradient(); NDArray wide = Casts.to(detached, DataType.FLOAT32, false)) {
        return TensorEntry.of(name, wide, dtype).data().get();
      }
    });
  }

  /**
   * Writes an in-memory model as a Hugging Face folder (weights, config.json with both rope
   * forms, generation_config.json) into {@code folder}, which must not hold these files yet.
   *
   * @param dtype float32, float16 or bfloat16
   * @return the file names written
   */
  public static List<String> saveHuggingFace(LlamaModel model, Path folder, String dtype, long maxShardBytes, Configuration conf)
      throws IOException {
    SafetensorsDtype target = HfExport.dtype(dtype);
    List<String> files = new ArrayList<>(SafetensorsWriter.writeSharded(folder, "model", huggingFaceTensors(model, target), maxShardBytes, conf));
    FileSystem fs = Storage.fileSystem(folder, conf);
    ObjectMapper json = new ObjectMapper().enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT);
    Storage.writeNew(fs, new Path(folder, "config.json"), json.writeValueAsBytes(model.config().toHuggingFace(dtype)));
    Storage.writeNew(fs, new Path(folder, "generation_config.json"), json.writeValueAsBytes(model.config().generationConfig()));
    files.add("config.json");
    files.add("generation_config.json");
    return files;
  }

  /** Creates arrays for every tensor of a model; used by {@link LlamaModel#create}. */
  @FunctionalInterface
  public interface Source {
    /** The array for {@code tensor}, in {@code manager}, with exactly {@code tensor.shape()}. */
    NDArray make(Tensor tensor, NDManager manager) throws IOException;
  }
}
