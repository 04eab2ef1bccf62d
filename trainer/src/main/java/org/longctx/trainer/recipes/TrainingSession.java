package org.longctx.trainer.recipes;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.checkpoints.Storage;
import org.longctx.checkpoints.safetensors.SafetensorsDtype;
import org.longctx.checkpoints.safetensors.SafetensorsReader;
import org.longctx.checkpoints.safetensors.TensorEntry;
import org.longctx.checkpoints.training.CheckpointContents;
import org.longctx.checkpoints.training.CheckpointStore;
import org.longctx.checkpoints.training.LoadedCheckpoint;
import org.longctx.checkpoints.training.TrainingState;
import org.longctx.data.DataConfig;
import org.longctx.data.tokenizer.TokenizerSource;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.positional.Rope;
import org.longctx.positional.RopeConfig;
import org.longctx.positional.Ropes;
import org.longctx.trainer.HfExport;
import org.longctx.data.tokenizer.TextTokenizer;
import org.longctx.trainer.distributed.Collective;
import org.longctx.trainer.distributed.SingleProcess;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.model.Precision;
import org.longctx.trainer.ModelConfig;
import org.longctx.trainer.model.ModelWeights;
import org.longctx.trainer.TrainConfig;
import org.longctx.trainer.metrics.MetricsLog;
import org.longctx.trainer.optim.AdamW;
import org.longctx.trainer.optim.AdamWConfig;
import org.longctx.trainer.optim.LossScaler;
import org.longctx.trainer.optim.LossScalerState;
import org.longctx.trainer.optim.LrSchedule;
import org.longctx.trainer.optim.NamedParameter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every recipe trains with, opened once per run: the checkpoint store and the checkpoint to
 * resume, the tokenizer, the model (on its device, in its {@link Precision}), its trainable
 * parameters, AdamW, the loss scaler, the training data, and the {@link Collective} of
 * replicas. {@link TrainingLoop} runs the steps over it; the recipe only makes micro-batches.
 * Also home of the static helpers that resolve a run's model (architecture, rope, weights).
 *
 * <p>A checkpoint ({@link CheckpointStore}) holds:
 * <ul>
 *   <li>{@code model.safetensors}: the weights (float32, Hugging Face names) and
 *       {@code config.json} with the rope being trained, so a step directory is a model folder;</li>
 *   <li>{@code optimizer.safetensors}: AdamW's {@code exp_avg.<p>}, {@code exp_avg_sq.<p>}
 *       (and {@code master.<p>} for float16 parameters), plus one-element tensors
 *       {@value #ADAMW_STEP} (I64), {@value #SCALE} (F32, always a power of two),
 *       {@value #GROWTH_TRACKER} and {@value #SKIPPED} (I64) for the loss scaler;</li>
 *   <li>{@code state.json}: the step, {@code rng} = the seed (every random draw is derived from
 *       the seed and a document index, so no generator state needs saving) and
 *       {@code data_cursor} = {@link TrainingData#cursor()};</li>
 *   <li>{@code experiment.json}: the resolved experiment config.</li>
 * </ul>
 */
public final class TrainingSession implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TrainingSession.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  static final String ADAMW_STEP = "adamw.step";
  static final String SCALE = "loss_scaler.scale";
  static final String GROWTH_TRACKER = "loss_scaler.growth_tracker";
  static final String SKIPPED = "loss_scaler.skipped_steps";

  private final TrainingRun run;
  private final Recipe recipe;
  private final Collective collective;
  private final CheckpointStore store;
  private final TokenizerSpec tokenizerSpec;
  private final LlamaModel model;
  private final TextTokenizer tokenizer;
  private final TrainingData data;
  private final AdamW adamw;
  private final LossScaler scaler;
  private final NDManager manager;
  private final long startStep;
  private final Path resumedFrom;

  private TrainingSession(TrainingRun run, Recipe recipe, Collective collective, CheckpointStore store, TokenizerSpec tokenizerSpec,
      LlamaModel model, TextTokenizer tokenizer, TrainingData data, AdamW adamw, LossScaler scaler, NDManager manager, long startStep,
      Path resumedFrom) {
    this.run = run;
    this.recipe = recipe;
    this.collective = collective;
    this.store = store;
    this.tokenizerSpec = tokenizerSpec;
    this.model = model;
    this.tokenizer = tokenizer;
    this.data = data;
    this.adamw = adamw;
    this.scaler = scaler;
    this.manager = manager;
    this.startStep = startStep;
    this.resumedFrom = resumedFrom;
  }

  /**
   * Opens everything a run of {@code recipe} needs: the latest checkpoint with {@code --resume}
   * (an error without one; a fresh run into a folder that holds checkpoints is an error too),
   * else the recipe's fresh model.
   *
   * @param device where the model lives (a replica's own GPU; the engine's default device otherwise)
   */
  public static TrainingSession open(TrainingRun run, Recipe recipe, Collective collective, Device device) throws IOException {
    recipe.validate(run);
    Precision precision = precision(run.model(), device);
    CheckpointStore store = CheckpointStore.at(run.checkpointDir(), Storage.defaultConf());
    List<AutoCloseable> opened = new ArrayList<>();
    try (LoadedCheckpoint ckpt = checkpointToResume(run, store).orElse(null)) {
      Path modelFolder = run.model().path().isEmpty() ? null : modelFolder(run.model().path());
      long step = ckpt == null ? 0 : ckpt.state().step();
      checkSameStart(collective, step);
      // rank 0 writes the run's files; the other replicas only read
      TokenizerSpec tokenizerSpec = tokenizer(run.data(), modelFolder, collective.writes() ? run.tokenizerDir() : null);
      LlamaConfig config = recipe.modelConfig(run, tokenizerSpec);
      LlamaModel model = ckpt != null ? ModelWeights.load(config, ckpt.weights(), precision, device)
          : recipe.freshModel(run, config, precision, device);
      opened.add(model);
      model.setAttentionChunk(run.model().attentionChunk());
      TextTokenizer tokenizer = TextTokenizer.create(tokenizerSpec, run.data().splitSpecialTokens());
      opened.add(tokenizer);
      TrainingData data = TrainingData.open(run.train(), run.data(), tokenizer,
          TrainingData.forRank(ckpt == null ? null : ckpt.state().dataCursor(), collective.rank(), collective.worldSize()),
          collective.rank(), collective.worldSize());
      opened.add(data);
      checkTokenizer(data, tokenizerSpec);
      AdamW adamw = adamW(run.train(), trainableParameters(model));
      opened.add(adamw);
      LossScaler scaler = precision.lossScaling() ? LossScaler.dynamic() : LossScaler.disabled(); // the precision decides
      if (ckpt != null) {
        restore(ckpt, adamw, scaler);
      }
      NDManager manager = NDManager.newBaseManager(device);
      Path resumedFrom = ckpt == null ? null : new Path(run.checkpointDir(), ckpt.directory().getName());
      LOG.info("data: synthetic {} of documents {}, prepared {}", run.train().synthetic().fraction(), data.taskShares(),
          data.prepared() == null ? "none" : data.prepared().location() + " (" + data.prepared().rows() + " rows)");
      return new TrainingSession(run, recipe, collective, store, tokenizerSpec, model, tokenizer, data, adamw, scaler, manager, step,
          resumedFrom);
    } catch (IOException | RuntimeException e) {
      closeAll(opened, e);
      throw e;
    }
  }

  /**
   * Every replica must start from the same checkpoint (each reads the latest complete one
   * itself); a replica that saw another one — a checkpoint being written while they looked —
   * would train a different model, so the run stops instead.
   */
  private static void checkSameStart(Collective collective, long step) {
    List<String> steps = collective.allGather(Long.toString(step));
    if (steps.stream().distinct().count() != 1) {
      throw new IllegalStateException("the replicas found different latest checkpoints (steps " + steps + ", by rank) in the "
          + "same output folder; is another run writing there?");
    }
  }

  private static void closeAll(List<AutoCloseable> opened, Exception failure) {
    for (int i = opened.size() - 1; i >= 0; i--) {
      try {
        opened.get(i).close();
      } catch (Exception e) {
        failure.addSuppressed(e);
      }
    }
  }

  /** One process on the engine's default device: opens a session for {@code train.recipe}, trains, closes it. */
  public static TrainingResult trainAlone(TrainingRun run) throws IOException {
    try (TrainingSession session = open(run, Recipes.byName(run.train().recipe()), SingleProcess.INSTANCE,
        ai.djl.engine.Engine.getInstance().defaultDevice())) {
      return session.train();
    }
  }

  /** Runs the recipe's steps from the resumed step (0 when fresh) to {@code train.steps}. */
  public TrainingResult train() throws IOException {
    return TrainingLoop.run(this, recipe.start(this));
  }

  public TrainingRun run() {
    return run;
  }

  public Recipe recipe() {
    return recipe;
  }

  public Collective collective() {
    return collective;
  }

  public LlamaModel model() {
    return model;
  }

  public TokenizerSpec tokenizerSpec() {
    return tokenizerSpec;
  }

  public TrainingData data() {
    return data;
  }

  public AdamW optimizer() {
    return adamw;
  }

  public LossScaler scaler() {
    return scaler;
  }

  /** The long-lived manager micro-batch scopes are made under. */
  NDManager manager() {
    return manager;
  }

  /** The step the run continues from (0 when fresh). */
  public long startStep() {
    return startStep;
  }

  /** The checkpoint directory the run resumed from, or null. */
  Path resumedFrom() {
    return resumedFrom;
  }

  /**
   * Writes a checkpoint of {@code step} and prunes all but the newest {@code keep}; returns the step directory.
   *
   * @param dataCursor every replica's data cursor ({@link TrainingData#combine})
   */
  Path save(long step, JsonNode dataCursor) throws IOException {
    return save(run, store, step, model, adamw, scaler, dataCursor);
  }

  @Override
  public void close() {
    List<AutoCloseable> all = List.of(model, tokenizer, data, adamw, manager);
    RuntimeException failure = new RuntimeException("closing the training session failed");
    closeAll(new ArrayList<>(all), failure);
    if (failure.getSuppressed().length > 0) {
      throw failure;
    }
  }

  // ---- tokenizer ----

  /**
   * The tokenizer of the run: {@code data.tokenizer} when set, else the {@code tokenizer.json}
   * of the model folder, else the built-in byte-level tokenizer (ids 0–255 bytes, 256
   * {@code <s>}, 257 {@code </s>}, 258 {@code <pad>}). It is written to
   * {@code OUT/tokenizer/} so checkpoints and exports can name it.
   *
   * @param modelFolder the model's folder, or null when the model is created from scratch
   * @param writeTo where to write it, or null (replicas other than rank 0 write nothing)
   */
  public static TokenizerSpec tokenizer(DataConfig data, Path modelFolder, Path writeTo) throws IOException {
    TokenizerSource source = TokenizerSource.findOrBuiltIn(List.of(
        TokenizerSource.Place.named("data.tokenizer", data.tokenizer()),
        TokenizerSource.Place.ifPresent("the model folder", modelFolder == null ? "" : modelFolder.toString())),
        Storage.defaultConf());
    if (writeTo != null) {
      source.writeTo(writeTo, Storage.defaultConf());
    }
    return source.spec(data.bosToken(), data.eosToken());
  }

  /** Warns when the prepared data was tokenized with another tokenizer than the run's. */
  private static void checkTokenizer(TrainingData data, TokenizerSpec tokenizer) {
    if (data.prepared() != null && !data.prepared().tokenizerSha256().equals(tokenizer.sha256())) {
      LOG.warn("{} was prepared with tokenizer {} but this run uses {} ({}): synthetic and prepared documents may not agree",
          data.prepared().location(), data.prepared().tokenizerSha256(), tokenizer.sha256(), tokenizer.source());
    }
  }

  // ---- model ----

  /**
   * The parameters' type: float32, or float16 (mixed precision: float16 compute, float32 master
   * weights and loss, dynamic loss scaling — DJL has no bfloat16). Float16 is meant for GPUs;
   * on a CPU it runs, slowly, and is said so.
   */
  static Precision precision(ModelConfig model, Device device) {
    Precision precision = Precision.parse("model.dtype", model.dtype());
    if (precision != Precision.FLOAT32 && !device.isGpu()) {
      LOG.warn("model.dtype {} on a CPU: supported but slow (CPUs have no fast half-precision matrix units); use float32 here",
          precision.key());
    }
    return precision;
  }

  /**
   * The architecture of a model trained from scratch: {@code model.init} (its defaults when
   * absent) with the {@code rope:} section (default rope when absent); BOS/EOS ids default to
   * the tokenizer's.
   */
  public static LlamaConfig initConfig(ModelConfig.Init init, RopeConfig rope, TokenizerSpec tokenizer) {
    ModelConfig.Init i = init == null ? ModelConfig.Init.defaults() : init;
    Rope r = Ropes.create(rope, i.headDim(), i.ropeTheta(), i.maxPositionEmbeddings());
    Integer bos = i.bosTokenId() != null ? i.bosTokenId() : tokenizer.bosId() >= 0 ? Integer.valueOf(tokenizer.bosId()) : null;
    Integer eos = i.eosTokenId() != null ? i.eosTokenId() : tokenizer.eosId() >= 0 ? Integer.valueOf(tokenizer.eosId()) : null;
    if (tokenizer.vocabSize() > i.vocabSize()) {
      throw new IllegalArgumentException("model.init.vocab_size: the tokenizer " + tokenizer.source() + " has " + tokenizer.vocabSize()
          + " ids but the model only " + i.vocabSize());
    }
    return new LlamaConfig(LlamaConfig.Architecture.LLAMA, i.vocabSize(), i.hiddenSize(), i.intermediateSize(),
        i.numHiddenLayers(), i.numAttentionHeads(), i.numKeyValueHeads(), i.headDim(), i.rmsNormEps(),
        i.tieWordEmbeddings(), false, false, false, r, bos, eos == null ? List.of() : List.of(eos), i.padTokenId());
  }

  /**
   * The rope a run trains with, for a base model: the {@code rope:} section (or the model's own
   * rope) with {@code max_position_embeddings = window}. Variants that measure a ramp against
   * the original window (yarn, yarn_pose, longrope, llama3) get the base model's
   * {@code max_position_embeddings} as {@code original_max_position_embeddings} unless the
   * section sets it.
   */
  public static Rope ropeFor(LlamaConfig base, RopeConfig rope, int window) {
    RopeConfig r = rope == null ? base.rope().toConfig() : rope;
    if (r.originalMaxPositionEmbeddings() == null && List.of("yarn", "yarn_pose", "longrope", "llama3").contains(r.ropeType())) {
      r = new RopeConfig(r.ropeType(), r.ropeTheta(), r.factor(), base.maxPositionEmbeddings(), r.betaFast(), r.betaSlow(),
          r.mscale(), r.mscaleAllDim(), r.attentionFactor(), r.truncate(), r.shortFactor(), r.longFactor(), r.lowFreqFactor(),
          r.highFreqFactor(), r.startTokens());
    }
    return Ropes.create(r, base.headDim(), base.rope().ropeTheta(), Math.max(window, base.maxPositionEmbeddings()));
  }

  /** Reads the {@code config.json} of the model at {@code location} (folder, step directory or checkpoint root). */
  public static LlamaConfig readModelConfig(String location) throws IOException {
    Configuration conf = Storage.defaultConf();
    return ModelWeights.readConfig(CheckpointStore.modelFolder(Storage.path(location), conf), conf);
  }

  /** The model folder behind {@code location}. */
  public static Path modelFolder(String location) throws IOException {
    return CheckpointStore.modelFolder(Storage.path(location), Storage.defaultConf());
  }

  /** Loads the weights at {@code location} into a model of {@code config} (whose rope may differ from the folder's). */
  public static LlamaModel loadWeights(String location, LlamaConfig config, Precision dtype, Device device) throws IOException {
    Configuration conf = Storage.defaultConf();
    Path folder = CheckpointStore.modelFolder(Storage.path(location), conf);
    try (SafetensorsReader reader = SafetensorsReader.open(folder, "model", conf)) {
      return ModelWeights.load(config, reader, dtype, device);
    }
  }

  /** The model's parameters under their Hugging Face names, made trainable. */
  public static List<NamedParameter> trainableParameters(LlamaModel model) {
    model.setTrainable(true);
    List<NamedParameter> out = new ArrayList<>();
    Map<String, NDArray> params = model.parameters();
    for (ModelWeights.Tensor t : ModelWeights.layout(model.config()).values()) {
      out.add(new NamedParameter(t.huggingFace(), params.get(t.ours())));
    }
    return out;
  }

  public static long parameterCount(LlamaModel model) {
    long n = 0;
    for (NDArray p : model.parameters().values()) {
      n += p.getShape().size();
    }
    return n;
  }

  // ---- optimizer ----

  static AdamW adamW(TrainConfig train, List<NamedParameter> params) {
    return new AdamW(params, new AdamWConfig(train.adamBeta1(), train.adamBeta2(), train.adamEpsilon(), train.weightDecay()));
  }

  static LrSchedule schedule(TrainConfig train) {
    return new LrSchedule(LrSchedule.Kind.fromName(train.schedule()), train.lr(), train.warmupSteps(), train.steps(),
        train.minLrRatio());
  }

  // ---- checkpoints ----

  /**
   * The checkpoint to continue from: the latest one with {@code --resume} (an error when there
   * is none), nothing for a fresh run (an error when checkpoints or the metrics of an earlier
   * run exist, so a run is never mixed into another's folder by accident).
   */
  static Optional<LoadedCheckpoint> checkpointToResume(TrainingRun run, CheckpointStore store) throws IOException {
    Optional<Long> latest = store.latestStep();
    if (!run.resume()) {
      if (latest.isPresent()) {
        throw new IllegalArgumentException(Storage.display(run.checkpointDir()) + " already holds checkpoints (latest step " + latest.get()
            + "); pass --resume to continue them, or set output.dir to a new folder (output.overwrite: true replaces it)");
      }
      Path metrics = new Path(run.outputDir(), MetricsLog.METRICS_FILE);
      FileSystem fs = Storage.fileSystem(metrics, Storage.defaultConf());
      if (fs.exists(metrics) && fs.getFileStatus(metrics).getLen() > 0) {
        throw new IllegalArgumentException(Storage.display(metrics) + " already holds the metrics of an earlier run (stopped before its"
            + " first checkpoint, so there is nothing to resume); set output.dir to a new folder, or output.overwrite: true"
            + " (--set output.overwrite=true) to replace it");
      }
      return Optional.empty();
    }
    if (latest.isEmpty()) {
      throw new IllegalArgumentException("--resume: " + Storage.display(run.checkpointDir()) + " holds no complete checkpoint to continue from");
    }
    LoadedCheckpoint ckpt = store.load(latest.get());
    checkSameRun(run, ckpt.state());
    return Optional.of(ckpt);
  }

  /** A resumed run must draw the same data: same seed, same recipe, same shapes of work. */
  private static void checkSameRun(TrainingRun run, TrainingState state) {
    long seed = state.rng().path("seed").asLong(Long.MIN_VALUE);
    if (seed != run.train().seed()) {
      throw new IllegalArgumentException("train.seed: the checkpoint was trained with seed " + state.rng().path("seed")
          + " but the config says " + run.train().seed() + "; resume needs the same seed");
    }
    JsonNode saved = state.experiment().path("train");
    if (saved.isObject() && run.experiment() != null && run.experiment().path("train").isObject()) {
      List<String> changed = new ArrayList<>();
      Iterator<Map.Entry<String, JsonNode>> it = run.experiment().path("train").fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getValue().equals(saved.get(e.getKey()))) {
          changed.add(e.getKey() + " " + saved.get(e.getKey()) + " → " + e.getValue());
        }
      }
      if (!changed.isEmpty()) {
        LOG.warn("resuming with train settings that differ from the checkpoint's: {}", changed);
      }
    }
  }

  /**
   * Writes a checkpoint of step {@code step} and prunes all but the newest {@code keep}.
   *
   * @return the step directory
   */
  private static Path save(TrainingRun run, CheckpointStore store, long step, LlamaModel model, AdamW adamw, LossScaler scaler,
      JsonNode dataCursor) throws IOException {
    List<TensorEntry> weights = ModelWeights.huggingFaceTensors(model, SafetensorsDtype.F32);
    // Each state tensor is read from the device only when the writer reaches it, so the Java
    // heap holds at most one tensor's conversion (none for float32) whatever the model size: a
    // copy of the whole state on the heap killed a 941M-parameter float16 run at its final
    // checkpoint with -Xmx16g.
    List<TensorEntry> optimizer = new ArrayList<>();
    for (Map.Entry<String, NDArray> e : adamw.stateArrays().entrySet()) {
      optimizer.add(TensorEntry.of(e.getKey(), e.getValue(), SafetensorsDtype.F32));
    }
    LossScalerState s = scaler.state();
    if ((float) s.scale() != s.scale()) {
      throw new IllegalStateException("loss scale " + s.scale() + " is not exactly a float32; checkpoints store it as F32");
    }
    optimizer.add(longTensor(ADAMW_STEP, adamw.stepCount()));
    optimizer.add(TensorEntry.ofFloats(SCALE, new long[] {1}, new float[] {(float) s.scale()}, SafetensorsDtype.F32));
    optimizer.add(longTensor(GROWTH_TRACKER, s.growthTracker()));
    optimizer.add(longTensor(SKIPPED, s.skippedSteps()));
    ObjectNode rng = JSON.createObjectNode();
    rng.put("seed", run.train().seed());
    rng.put("scheme", "document i draws from SplittableRandom(mix(seed, i, salt)); nothing else is random");
    TrainingState trainingState = new TrainingState(step, rng, dataCursor, run.experiment());
    Path dir = store.save(new CheckpointContents(trainingState, model.config().toHuggingFace("float32"), weights, optimizer));
    store.prune(run.train().keepCheckpoints());
    return new Path(run.checkpointDir(), dir.getName());
  }

  private static TensorEntry longTensor(String name, long value) {
    byte[] bytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
    return TensorEntry.ofBytes(name, SafetensorsDtype.I64, new long[] {1}, bytes);
  }

  /** Restores AdamW and the loss scaler from a checkpoint's optimizer file. */
  private static void restore(LoadedCheckpoint ckpt, AdamW adamw, LossScaler scaler) throws IOException {
    SafetensorsReader r = ckpt.optimizer();
    Map<String, long[]> expected = new LinkedHashMap<>();
    adamw.stateArrays().forEach((name, array) -> expected.put(name, array.getShape().getShape()));
    r.requireExactly("optimizer state", expected, List.of(ADAMW_STEP, SCALE, GROWTH_TRACKER, SKIPPED));
    for (String name : expected.keySet()) {
      if (r.info(name).dtype() != SafetensorsDtype.F32) {
        throw new IOException(r.source() + ": optimizer tensor " + name + " is " + r.info(name).dtype() + ", expected F32");
      }
    }
    // tensor by tensor from the (memory-mapped) file to the device: no copy of the state on the heap
    adamw.loadState(readLong(r, ADAMW_STEP), (name, manager) -> r.read(manager, name, DataType.FLOAT32));
    float[] scale = floats(r, SCALE);
    scaler.restore(new LossScalerState(scale[0], Math.toIntExact(readLong(r, GROWTH_TRACKER)), readLong(r, SKIPPED)));
  }

  private static float[] floats(SafetensorsReader r, String name) throws IOException {
    if (r.info(name).dtype() != SafetensorsDtype.F32) {
      throw new IOException(r.source() + ": optimizer tensor " + name + " is " + r.info(name).dtype() + ", expected F32");
    }
    ByteBuffer b = r.bytes(name).duplicate().order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[b.remaining() / 4];
    b.asFloatBuffer().get(out);
    return out;
  }

  private static long readLong(SafetensorsReader r, String name) throws IOException {
    if (!r.contains(name)) {
      throw new IOException(r.source() + ": the optimizer state has no " + name + "; was it written by longctx train?");
    }
    return r.bytes(name).duplicate().order(ByteOrder.LITTLE_ENDIAN).getLong(0);
  }

  // ---- export ----

  /**
   * Writes {@code OUT/hf} from the checkpoint directory {@code stepDir}: the weights, a
   * {@code config.json} carrying the rope the run trained (both transformers forms) and the
   * tokenizer. A folder left by an earlier export of this run is replaced.
   */
  static Path export(TrainingRun run, Path stepDir) throws IOException {
    Path target = run.exportDir();
    Storage.deleteTree(target, Storage.defaultConf());
    HfExport.Result r = HfExport.export(stepDir, target, run.train().exportDtype(), HfExport.parseSize("5GB"), run.tokenizerDir(),
        Storage.defaultConf());
    LOG.info("exported {} ({}) with rope {}", Storage.display(target), String.join(", ", r.files()), r.config().rope().ropeType());
    return target;
  }
}
