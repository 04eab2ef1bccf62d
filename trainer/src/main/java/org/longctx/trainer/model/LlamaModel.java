package org.longctx.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.checkpoints.MemoryLayers;
import org.longctx.kernels.NativeKernels;
import org.longctx.positional.Rope;
import org.longctx.positional.RopeConfig;
import org.longctx.positional.RotaryEmbedding;
import org.longctx.trainer.InferenceSettings;
import org.longctx.positional.SelfExtend;

/**
 * A Llama-family decoder (Llama, Mistral, Qwen2) on DJL arrays: token embedding,
 * {@code numHiddenLayers} {@link Block}s of RMSNorm → grouped-query attention with rotary
 * positions → residual → RMSNorm → SwiGLU MLP → residual, a final RMSNorm and the output head
 * (tied to the embedding or separate). It computes what transformers' {@code LlamaForCausalLM}
 * computes with eager attention; parity with it is tested on fixtures transformers wrote.
 *
 * <p>The forward pass reads top to bottom in the private {@code hiddenStates(inputIds, positions, cache, ropeLength)}:
 * embed → every block (its layer's {@link AttentionMode} started once per call) → norm; then
 * {@link #logits}. Attention itself is {@link Attention}: projections → mode → {@link AttentionKernel}
 * → output projection.
 *
 * <p>Parameters live in the model's own long-lived manager, on the device and in the
 * {@link Precision} it was created with. A forward puts every intermediate array, and the
 * logits, in the manager of its {@code inputIds}: give each step a sub-manager and close it
 * afterwards. Built only from DJL array operations (and, where installed, differentiable casts
 * and kernels of the native extension), so autograd trains it once {@link #setTrainable}
 * attached gradients. The training forward reads nothing back from the device when the caller
 * passes host-known {@link Positions}.
 *
 * <p>Inference-time extension: {@link #withRope}, {@link #withSelfExtend}, {@link #withMemory}
 * and {@link #with} return views that share these weights but use another rope or attention
 * mode. A {@link KvCache} from {@link #newCache} makes generation incremental. A model with
 * Focused Transformer memory layers ({@code config.json}'s {@code mem_layers}) reads inputs of
 * any length through memory ({@link MemoryMode}, docs/fot.md); {@link #withCrossBatch} is its
 * training view.
 */
public final class LlamaModel implements AutoCloseable {

  /** Auto chunk size keeps one chunk's scores under this many elements (256 MB in float32). */
  public static final long SCORE_BUDGET_ELEMENTS = 1L << 26;

  /**
   * The auto chunk budget for inference on a CPU (nothing recorded): 16 MB of float32 scores.
   * Why: glibc serves an allocation above its largest mmap threshold (32 MiB on 64-bit, a
   * ceiling {@code MALLOC_MMAP_THRESHOLD_} cannot raise) with a fresh mapping, so a larger score
   * table is mapped, page-faulted in and unmapped again for every chunk and every layer.
   * Measured on the tiny model (4 heads) with one 2048-token document, one chunk of 2048
   * queries: 4.5 CPU-seconds and 877k page faults; chunks of 512: 0.4 s, the same
   * log-likelihoods to the last bit (docs/eval.md). Training keeps {@link #SCORE_BUDGET_ELEMENTS}:
   * its chunking, and with it the trained weights to the last bit, stay as they were.
   */
  public static final long CPU_INFERENCE_SCORE_BUDGET_ELEMENTS = 1L << 22;

  /** New tokens per pass when a long input is fed through a {@link KvCache} (see {@link #setPrefillSegment}). */
  public static final int DEFAULT_PREFILL_SEGMENT = 2048;

  private final LlamaConfig config;
  private final Precision precision;
  private final NDManager manager;
  private final Map<String, NDArray> parameters;
  private final RotaryEmbedding rotary;
  private final NDArray embedding; // [vocab, hidden]
  private final List<Block> blocks;
  private final RmsNorm norm;
  private final NDArray output; // [vocab, hidden]; the embedding itself when tied
  private final List<AttentionMode> modes; // one per layer
  private final SelfExtend selfExtend; // null: plain attention
  private final CrossBatch crossBatch; // null: memory layers (if any) attend to no other batch entry
  private final boolean ownsWeights; // false for a view made by withRope / withSelfExtend
  private volatile AttentionKernel kernel = EagerKernel.INSTANCE;
  private volatile boolean nativeLayerOps;
  private volatile int attentionChunk;
  private volatile int prefillSegment = DEFAULT_PREFILL_SEGMENT;

  private LlamaModel(LlamaConfig config, Precision precision, NDManager manager, Map<String, NDArray> parameters) {
    this.config = config;
    this.precision = precision;
    this.manager = manager;
    this.parameters = Collections.unmodifiableMap(parameters);
    this.rotary = new RotaryEmbedding(config.rope());
    this.embedding = parameters.get("embedding.weight");
    List<Block> list = new ArrayList<>();
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      list.add(new Block(config, parameters, "blocks." + i + "."));
    }
    this.blocks = List.copyOf(list);
    this.norm = new RmsNorm(parameters.get("norm.weight"), config.rmsNormEps());
    this.output = config.tieWordEmbeddings() ? embedding : parameters.get("output.weight");
    this.modes = modesFor(config, null, null);
    this.selfExtend = null;
    this.crossBatch = null;
    this.ownsWeights = true;
  }

  /** A view of {@code base}'s weights with another rope, attention mode and memory layers. */
  private LlamaModel(LlamaModel base, Rope rope, SelfExtend selfExtend, MemoryLayers memory, CrossBatch crossBatch) {
    if (rope.headDim() != base.config.headDim()) {
      throw new IllegalArgumentException("rope: built for head_dim " + rope.headDim() + " but the model's head_dim is "
          + base.config.headDim());
    }
    this.config = base.config.withMemory(null).withRope(rope).withMemory(memory);
    this.precision = base.precision;
    this.manager = base.manager;
    this.parameters = base.parameters;
    this.rotary = new RotaryEmbedding(rope);
    this.embedding = base.embedding;
    this.blocks = base.blocks; // blocks hold weights and shapes only, nothing rope-specific
    this.norm = base.norm;
    this.output = base.output;
    this.modes = modesFor(config, selfExtend, crossBatch);
    this.selfExtend = selfExtend;
    this.crossBatch = crossBatch;
    this.ownsWeights = false;
    this.kernel = base.kernel;
    this.nativeLayerOps = base.nativeLayerOps;
    this.attentionChunk = base.attentionChunk;
    this.prefillSegment = base.prefillSegment;
  }

  /**
   * Each layer's attention mode: {@link MemoryMode} in the memory layers (config.json's
   * {@code mem_layers}), SelfExtend or plain attention in the others.
   */
  private static List<AttentionMode> modesFor(LlamaConfig config, SelfExtend selfExtend, CrossBatch crossBatch) {
    MemoryLayers memory = config.memory();
    if (memory != null && selfExtend != null) {
      throw new IllegalArgumentException("self_extend: cannot be combined with memory layers (mem_layers " + memory.layers() + ")");
    }
    if (memory == null && crossBatch != null) {
      throw new IllegalArgumentException("cross_batch_range: cross-batch training needs memory layers (fot.mem_layers)");
    }
    AttentionMode other = selfExtend == null ? PlainMode.INSTANCE : new SelfExtendMode(selfExtend);
    if (memory == null) {
      return Collections.nCopies(config.numHiddenLayers(), other);
    }
    AttentionMode remembering = new MemoryMode(crossBatch, memory.queriesPerChunk(config.numAttentionHeads()));
    List<AttentionMode> modes = new ArrayList<>();
    for (int i = 0; i < config.numHiddenLayers(); i++) {
      modes.add(memory.isMemoryLayer(i) ? remembering : other);
    }
    return List.copyOf(modes);
  }

  /**
   * Builds a model on {@code device} whose every tensor comes from {@code source} (a checkpoint
   * reader, an initializer), checking each shape and converting it to {@code precision}.
   */
  public static LlamaModel create(LlamaConfig config, Precision precision, Device device, ModelWeights.Source source)
      throws IOException {
    boolean fused = NativeSupport.enable(device);
    if (!precision.available()) {
      throw new IllegalArgumentException("dtype: " + precision.key() + " is not available here; allowed: " + Precision.allowed());
    }
    NDManager manager = NDManager.newBaseManager(device);
    try {
      Map<String, NDArray> params = new LinkedHashMap<>();
      for (ModelWeights.Tensor t : ModelWeights.layout(config).values()) {
        NDArray a = source.make(t, manager);
        if (!a.getShape().equals(t.djlShape())) {
          throw new IllegalArgumentException(t.huggingFace() + ": shape " + a.getShape() + " but the config needs " + t.djlShape());
        }
        if (!a.getDevice().equals(device) || a.getDataType() != precision.dataType()) {
          NDArray moved = Casts.to(a.toDevice(device, false), precision.dataType(), false);
          if (moved != a) {
            a.close();
          }
          a = moved;
        }
        a.attach(manager);
        params.put(t.ours(), a);
      }
      LlamaModel model = new LlamaModel(config, precision, manager, params);
      if (fused) {
        model.setKernel(FusedKernel.INSTANCE);
        model.setNativeLayerOps(true);
      }
      return model;
    } catch (IOException | RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /** {@link #create(LlamaConfig, Precision, Device, ModelWeights.Source)} on the engine's default device. */
  public static LlamaModel create(LlamaConfig config, Precision precision, ModelWeights.Source source) throws IOException {
    return create(config, precision, ai.djl.engine.Engine.getInstance().defaultDevice(), source);
  }

  /**
   * A randomly initialised model, as transformers initialises one: linear and embedding weights
   * normal(0, {@code std}) (transformers' {@code initializer_range}, 0.02), norms 1, biases 0.
   * Drawn in Java from {@code seed}, so it is the same on every machine.
   */
  public static LlamaModel random(LlamaConfig config, Precision precision, Device device, long seed, double std) {
    SplittableRandom rng = new SplittableRandom(seed);
    try {
      return create(config, precision, device, (t, m) -> {
        int n = Math.toIntExact(Arrays.stream(t.shape()).reduce(1, Math::multiplyExact));
        float[] v = new float[n];
        boolean norm = t.ours().endsWith("norm.weight");
        boolean bias = t.ours().endsWith(".bias");
        for (int i = 0; i < n; i++) {
          v[i] = norm ? 1f : bias ? 0f : (float) (rng.nextGaussian() * std);
        }
        return m.create(v, t.djlShape());
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@link #random(LlamaConfig, Precision, Device, long, double)} on the engine's default device. */
  public static LlamaModel random(LlamaConfig config, Precision precision, long seed, double std) {
    return random(config, precision, ai.djl.engine.Engine.getInstance().defaultDevice(), seed, std);
  }

  /** The model's shape and the rope it runs with (a view's override included). */
  public LlamaConfig config() {
    return config;
  }

  public Precision precision() {
    return precision;
  }

  /** The type of parameters and activations ({@link Precision#dataType()}). */
  public DataType dtype() {
    return precision.dataType();
  }

  public Device device() {
    return manager.getDevice();
  }

  /** Every parameter by our name (see {@link ModelWeights} for the Hugging Face names). */
  public Map<String, NDArray> parameters() {
    return parameters;
  }

  /** Attaches (or drops) gradients on every parameter, for training. */
  public void setTrainable(boolean trainable) {
    for (NDArray p : parameters.values()) {
      p.setRequiresGradient(trainable);
    }
  }

  /** What computes attention: the {@link FusedKernel} on a GPU with the native library, else the {@link EagerKernel}. */
  public AttentionKernel kernel() {
    return kernel;
  }

  public void setKernel(AttentionKernel kernel) {
    if (kernel == null) {
      throw new IllegalArgumentException("kernel: must not be null");
    }
    this.kernel = kernel;
  }

  /**
   * Whether RMSNorm, the rotary embedding and SwiGLU's gate run as one native call each
   * ({@code NativeKernels.rmsNorm / rope / swiGlu}) instead of several DJL operations: on by
   * default with the fused kernel (a GPU and the native library), where DJL's per-operation
   * host cost shows in short steps (docs/gpu.md). The same values either way up to rounding:
   * the native RMSNorm is PyTorch's fused kernel (rounded once, after the weight), SwiGLU's
   * {@code silu} one kernel, and the rope's backward is written out instead of recorded.
   */
  public boolean nativeLayerOps() {
    return nativeLayerOps;
  }

  public void setNativeLayerOps(boolean on) {
    if (on) {
      NativeKernels.load(); // throws saying why when the library is not there
    }
    this.nativeLayerOps = on;
  }

  /**
   * Queries per attention chunk; 0 = chosen per input so one chunk's scores stay under
   * {@link #SCORE_BUDGET_ELEMENTS} ({@link #CPU_INFERENCE_SCORE_BUDGET_ELEMENTS} for inference on a CPU).
   */
  public int attentionChunk() {
    return attentionChunk;
  }

  public void setAttentionChunk(int queries) {
    if (queries < 0) {
      throw new IllegalArgumentException("attention_chunk: must be ≥ 0 (0 = automatic), got " + queries);
    }
    this.attentionChunk = queries;
  }

  /**
   * New tokens per pass when more than this many go through {@link #forward(NDArray, NDArray,
   * KvCache)} at once (a long prompt, a cache rebuild): each pass appends to the cache, so the
   * MLP's {@code [batch, segment, intermediate]} activations stay bounded. 0 = one pass. The
   * rope's frequencies are chosen for the whole input, so the result is that of one pass up to
   * float rounding.
   */
  public int prefillSegment() {
    return prefillSegment;
  }

  public void setPrefillSegment(int tokens) {
    if (tokens < 0) {
      throw new IllegalArgumentException("prefill_segment: must be ≥ 0 (0 = one pass), got " + tokens);
    }
    this.prefillSegment = tokens;
  }

  // ---- inference-time extension: views sharing these weights ----

  /**
   * The same weights with another rope (what context extension changes): a view that shares the
   * parameters, so it is cheap. Close the view when done (it frees only its rope tables), and
   * this model after its views.
   */
  public LlamaModel withRope(Rope rope) {
    if (rope == null) {
      throw new IllegalArgumentException("rope: must not be null");
    }
    return new LlamaModel(this, rope, selfExtend, config.memory(), crossBatch);
  }

  /**
   * {@link #withRope(Rope)} for a {@code rope:} section, resolved against this model: its
   * head_dim, its rope_theta (unless the section sets one) and its max_position_embeddings
   * (yarn and longrope take {@code original_max_position_embeddings} from the section when set,
   * else that). {@code rope_type: default} means no scaling.
   */
  public LlamaModel withRope(RopeConfig rope) {
    return withRope(resolve(rope));
  }

  /** The same weights and rope with SelfExtend attention ({@code null}: plain attention); a view, as {@link #withRope(Rope)}. */
  public LlamaModel withSelfExtend(SelfExtend settings) {
    return new LlamaModel(this, config.rope(), settings, config.memory(), crossBatch);
  }

  /**
   * The same weights with Focused Transformer memory layers ({@code null}: none, plain attention
   * everywhere); a view, as {@link #withRope(Rope)}. A model with memory layers reads inputs
   * longer than its window through memory (see {@link #hiddenStates(NDArray, NDArray, KvCache)}).
   */
  public LlamaModel withMemory(MemoryLayers memory) {
    return new LlamaModel(this, config.rope(), selfExtend, memory, memory == null ? null : crossBatch);
  }

  /** For training: memory layers that attend across batch entries ({@link CrossBatch}); a view, as {@link #withRope(Rope)}. */
  public LlamaModel withCrossBatch(CrossBatch crossBatch) {
    return new LlamaModel(this, config.rope(), selfExtend, config.memory(), crossBatch);
  }

  /** Both at once: the settings' rope (when set), attention mode and memory layers (when set); a view, as {@link #withRope(Rope)}. */
  public LlamaModel with(InferenceSettings settings) {
    Rope rope = settings.rope() == null ? config.rope() : resolve(settings.rope());
    MemoryLayers memory = settings.memory() == null ? config.memory() : settings.memory().memoryFor(config);
    return new LlamaModel(this, rope, settings.selfExtend(), memory, crossBatch);
  }

  /** SelfExtend's settings, or null for plain causal attention. */
  public SelfExtend selfExtend() {
    return selfExtend;
  }

  private Rope resolve(RopeConfig rope) {
    if (rope == null) {
      throw new IllegalArgumentException("rope: must not be null");
    }
    return rope.toRope(config.headDim(), config.rope().ropeTheta(), config.maxPositionEmbeddings());
  }

  // ---- forward ----

  /**
   * Logits for every position.
   *
   * @param inputIds {@code [batch, seq]} int64 token ids
   * @param positions rotary positions (any non-negative values, e.g. PoSE's skipped positions);
   *     the causal mask follows the order of tokens in the sequence, not the position values
   * @return {@code [batch, seq, vocab]} in the model's dtype, in {@code inputIds}' manager
   */
  public NDArray forwardAt(NDArray inputIds, Positions positions) {
    return logits(hiddenStates(inputIds, positions, null, positions.max() + 1));
  }

  /**
   * {@link #forwardAt(NDArray, Positions)} with positions as an array: {@code 0 … seq−1} when null
   * (nothing read from the device), else read back once for their largest value.
   */
  public NDArray forward(NDArray inputIds, NDArray positionIds) {
    return forward(inputIds, positionIds, null);
  }

  /**
   * Logits of new tokens that follow the ones in {@code cache}, which they are appended to.
   *
   * @param inputIds {@code [batch, seq]} the new tokens
   * @param positionIds {@code [batch, seq]} their positions, or null to continue after the
   *     cached ones ({@code 0 …} for an empty cache)
   * @param cache from this model's {@link #newCache}; null = no cache
   * @return {@code [batch, seq, vocab]}, what a forward over the cached and new tokens gives for
   *     the new ones
   */
  public NDArray forward(NDArray inputIds, NDArray positionIds, KvCache cache) {
    return logits(hiddenStates(inputIds, positionIds, cache));
  }

  /**
   * The final-normed hidden states {@link #forward} feeds the output head: {@code [batch, seq,
   * hidden]}. With {@link #logits} on a few rows of it, long inputs never build a
   * {@code [seq, vocab]} table.
   */
  public NDArray hiddenStates(NDArray inputIds, NDArray positionIds, KvCache cache) {
    Shape shape = checkIds(inputIds);
    if (positionIds != null && !positionIds.getShape().equals(shape)) {
      throw new IllegalArgumentException("positionIds: shape " + positionIds.getShape() + " must equal inputIds' " + shape);
    }
    if (config.memory() != null) {
      if (positionIds != null) {
        throw new IllegalArgumentException("positionIds: a model with memory layers numbers tokens itself (from the start of "
            + "its local context); pass null");
      }
      if (cache == null) {
        try (KvCache temporary = newCache()) {
          return remembered(inputIds, ForwardPass.rows(inputIds), temporary);
        }
      }
      cache.check(this, shape.get(0));
      return remembered(inputIds, ForwardPass.rows(inputIds), cache);
    }
    if (cache != null) {
      cache.check(this, shape.get(0));
      long[][] positions = positionIds == null ? cache.nextPositions((int) shape.get(0), (int) shape.get(1))
          : ForwardPass.rows(positionIds);
      return cached(inputIds, ForwardPass.rows(inputIds), positions, cache);
    }
    Positions positions = positionIds == null ? Positions.sequential(inputIds.getManager(), shape.get(0), shape.get(1))
        : Positions.read(positionIds);
    return hiddenStates(inputIds, positions, null, positions.max() + 1);
  }

  /**
   * The forward pass: embed → blocks → norm.
   *
   * @param cache null, or the cache the new tokens are appended to (whose cached positions
   *     {@code positions} continue)
   * @param ropeLength the length the rope chooses its frequencies for
   */
  private NDArray hiddenStates(NDArray inputIds, Positions positions, KvCache cache, long ropeLength) {
    checkIds(inputIds);
    if (!positions.ids().getShape().equals(inputIds.getShape())) {
      throw new IllegalArgumentException("positions: shape " + positions.ids().getShape() + " must equal inputIds' "
          + inputIds.getShape());
    }
    long offset = cache == null ? 0 : cache.length();
    long maxPosition = cache == null ? positions.max() : Math.max(cache.maxPosition, positions.max());
    ForwardPass pass = new ForwardPass(inputIds.getManager(), rotary, precision, (float) (1.0 / Math.sqrt(config.headDim())),
        positions.ids().toDevice(device(), false), positions.host(), cache == null ? null : cache.cachedPositions(), maxPosition,
        ropeLength, offset, kernel, nativeLayerOps, attentionChunk, config.numAttentionHeads(), embedding.hasGradient());
    Map<AttentionMode, AttentionMode.Step> started = new IdentityHashMap<>(); // each distinct mode starts once per call
    NDArray h = embed(inputIds); // [batch, seq, hidden]
    for (int i = 0; i < blocks.size(); i++) {
      AttentionMode.Step mode = started.computeIfAbsent(modes.get(i), m -> m.begin(pass));
      try (NDArray input = h) { // a layer's input is closed after it (autograd keeps what backward needs)
        h = blocks.get(i).forward(input, mode, cache == null ? null : cache.layer(i), pass);
      }
    }
    try (NDArray last = h) {
      return norm.forward(last, pass);
    }
  }

  /** The output head: {@code [batch, seq, hidden]} final-normed hidden states → {@code [batch, seq, vocab]} logits. */
  public NDArray logits(NDArray hidden) {
    return Linear.apply(hidden, output, null);
  }

  /** Tokens through the cache: split into prefill segments, rebuilt when the rope changes, or one pass. */
  private NDArray cached(NDArray inputIds, long[][] ids, long[][] positions, KvCache cache) {
    NDManager m = inputIds.getManager();
    int batch = ids.length;
    int seq = ids[0].length;
    long seqLen = Math.max(cache.ropeLength, Math.max(cache.maxPosition, ForwardPass.maxOf(positions)) + 1);
    int segment = prefillSegment;
    if (segment > 0 && seq > segment) {
      // one pass would choose the rope's frequencies for the whole input: make every segment do so
      cache.ropeLength = Math.max(cache.ropeLength, seqLen);
      NDList parts = new NDList();
      for (int start = 0; start < seq; start += segment) {
        int end = Math.min(seq, start + segment);
        long[][] partIds = ForwardPass.slice(ids, start, end);
        parts.add(cached(m.create(ForwardPass.flatten(partIds), new Shape(batch, end - start)), partIds,
            ForwardPass.slice(positions, start, end), cache));
      }
      return NDArrays.concat(parts, 1);
    }
    String frequencySet = config.rope().frequencySet(seqLen);
    if (cache.length() > 0 && !frequencySet.equals(cache.frequencySet) && cache.onRopeChange() == KvCache.OnRopeChange.REBUILD) {
      // every cached hidden state was computed with the old frequencies: run the whole sequence again
      int cachedLength = cache.length();
      long[][] allIds = cache.withTokens(ids);
      long[][] allPositions = cache.withPositions(positions);
      cache.clear();
      cache.rebuilds++;
      NDArray all = cached(m.create(ForwardPass.flatten(allIds), new Shape(batch, allIds[0].length)), allIds, allPositions, cache);
      return all.get(new NDIndex(":, {}:, :", cachedLength)); // [batch, seq, hidden]
    }
    Positions p = new Positions(m.create(ForwardPass.flatten(positions), new Shape(batch, seq)), positions,
        ForwardPass.maxOf(positions));
    NDArray hidden = hiddenStates(inputIds, p, cache, seqLen);
    cache.appendTokens(ids, positions, frequencySet);
    return hidden;
  }

  /**
   * Tokens through a model with memory layers, as LongLLaMA feeds a long input
   * (docs/methods.md §4; CStanKonrad/long_llama {@code src/modeling_longllama.py:_handle_long_input}):
   * all but the last {@code last_context_length} tokens go in windows of
   * {@code max_position_embeddings}; a window met with an empty local context runs alone (its
   * memory layers also attend to the memory) and then moves into memory; the rest joins the
   * local context. Whenever the local context would outgrow the window, it moves into memory
   * first (memory layers keep it, other layers forget it). Positions count from the start of the
   * local context.
   */
  private NDArray remembered(NDArray inputIds, long[][] ids, KvCache cache) {
    NDManager m = inputIds.getManager();
    int window = config.maxPositionEmbeddings();
    int batch = ids.length;
    int seq = ids[0].length;
    List<int[]> pieces = config.memory().inputPieces(seq, window);
    NDList parts = new NDList();
    for (int piece = 0; piece < pieces.size(); piece++) {
      int start = pieces.get(piece)[0];
      int end = pieces.get(piece)[1];
      boolean memoryWindow = piece < pieces.size() - 1 && cache.length() == 0;
      if (cache.length() > 0 && cache.length() + (end - start) > window) {
        cache.endLocalContext();
      }
      long[][] partIds = ForwardPass.slice(ids, start, end);
      long[][] positions = cache.nextPositions(batch, end - start);
      Positions p = new Positions(m.create(ForwardPass.flatten(positions), new Shape(batch, end - start)), positions,
          ForwardPass.maxOf(positions));
      NDArray part = start == 0 && end == seq ? inputIds
          : m.create(ForwardPass.flatten(partIds), new Shape(batch, end - start));
      parts.add(hiddenStates(part, p, cache, Math.max(cache.maxPosition, p.max()) + 1));
      cache.appendTokens(partIds, positions, config.rope().frequencySet(window));
      if (memoryWindow) {
        cache.endLocalContext();
      }
    }
    return parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 1);
  }

  private NDArray embed(NDArray inputIds) {
    return embedding.get(inputIds.getManager(), new NDIndex("{}", inputIds.toType(DataType.INT64, false))); // [batch, seq, hidden]
  }

  private static Shape checkIds(NDArray inputIds) {
    Shape shape = inputIds.getShape();
    if (shape.dimension() != 2 || !inputIds.getDataType().isInteger() || shape.get(1) < 1) {
      throw new IllegalArgumentException("inputIds: must be [batch, seq] integers with seq ≥ 1, got " + shape + " "
          + inputIds.getDataType());
    }
    return shape;
  }

  // ---- caches ----

  /** An empty cache for incremental decoding with this model (view), rebuilt when the rope's frequencies change. */
  public KvCache newCache() {
    return newCache(KvCache.OnRopeChange.REBUILD, 0);
  }

  /**
   * An empty cache: one {@link LayerCache} per layer, made by the layer's mode.
   *
   * @param onRopeChange what happens when the rope's frequencies change with the length
   * @param ropeLength choose the rope's frequencies for at least this length (pass the whole
   *     input's length when feeding it in pieces, so each piece sees the frequencies one pass
   *     over the input would); 0 = the length reached so far
   */
  public KvCache newCache(KvCache.OnRopeChange onRopeChange, long ropeLength) {
    List<LayerCache> layers = new ArrayList<>();
    for (AttentionMode mode : modes) {
      layers.add(mode.newCache(device()));
    }
    return new KvCache(this, layers, modes.stream().allMatch(AttentionMode::cachesRotatedKeys), onRopeChange, ropeLength);
  }

  /**
   * Frees the rope tables, and the weights unless this is a view ({@link #withRope},
   * {@link #withSelfExtend}); views must be closed before, or not used after, the model they
   * came from.
   */
  @Override
  public void close() {
    rotary.close();
    if (ownsWeights) {
      manager.close();
    }
  }
}
