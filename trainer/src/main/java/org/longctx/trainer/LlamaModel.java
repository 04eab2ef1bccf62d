package org.longctx.trainer;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.positional.Rope;
import org.longctx.positional.RopeConfig;
import org.longctx.positional.RotaryEmbedding;
import org.longctx.positional.RotaryEmbedding.CosSin;
import org.longctx.positional.SelfExtend;

/**
 * A Llama-family decoder (Llama, Mistral, Qwen2) on DJL arrays, in one file: token embedding,
 * {@code numHiddenLayers} blocks of RMSNorm → grouped-query attention with rotary positions →
 * residual → RMSNorm → SwiGLU MLP → residual, a final RMSNorm and the output head (tied to the
 * embedding or separate). It computes what transformers' {@code LlamaForCausalLM} computes with
 * eager attention; parity with it is tested on fixtures transformers wrote.
 *
 * <p>Parameters live in the model's own long-lived manager. {@link #forward} puts every
 * intermediate array, and the logits, in the manager of its {@code inputIds}: give each step a
 * sub-manager and close it afterwards. Built only from DJL array operations, so autograd trains
 * it once {@link #setTrainable} attached gradients.
 *
 * <p>Attention processes queries in chunks of {@link #attentionChunk()} rows, so the score
 * matrix never holds {@code L × L} entries for all heads at once; each chunk's scores and
 * probabilities are freed as soon as its output exists (autograd keeps what backward needs).
 *
 * <p>Inference-time extension: {@link #withRope} and {@link #withSelfExtend} (or {@link #with})
 * return views that share these weights but use another rope, or SelfExtend attention
 * (methods.md §5: neighbour and group logits merged before one float32 softmax). A
 * {@link KvCache} from {@link #newCache} makes generation incremental: {@link #forward(NDArray,
 * NDArray, KvCache)} runs only the new tokens against the cached keys and values.
 *
 * <p>Float16: weights and activations in float16. For inference RMSNorm takes its mean of
 * squares in float32 (as transformers does) through DJL casts; when the weights are being
 * trained (they carry gradients) it uses a cast-free form instead, because autograd does not
 * see DJL's casts (see {@code RmsNorm#forwardTrainableHalf}). Attention's softmax runs in the
 * scores' type (PyTorch accumulates half-precision softmax in float32).
 */
public final class LlamaModel implements AutoCloseable {

  /** Auto chunk size keeps one chunk's scores under this many elements (256 MB in float32). */
  public static final long SCORE_BUDGET_ELEMENTS = 1L << 26;

  /** New tokens per pass when a long input is fed through a {@link KvCache} (see {@link #setPrefillSegment}). */
  public static final int DEFAULT_PREFILL_SEGMENT = 2048;

  private final LlamaConfig config;
  private final DataType dtype;
  private final NDManager manager;
  private final Map<String, NDArray> parameters;
  private final RotaryEmbedding rotary;
  private final NDArray embedding; // [vocab, hidden]
  private final List<Block> blocks;
  private final RmsNorm norm;
  private final NDArray output; // [vocab, hidden]; the embedding itself when tied
  private final SelfExtend selfExtend; // null: plain causal attention
  private final boolean ownsWeights; // false for a view made by withRope / withSelfExtend
  private volatile int attentionChunk;
  private volatile int prefillSegment = DEFAULT_PREFILL_SEGMENT;

  private LlamaModel(LlamaConfig config, DataType dtype, NDManager manager, Map<String, NDArray> parameters) {
    this.config = config;
    this.dtype = dtype;
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
    this.selfExtend = null;
    this.ownsWeights = true;
  }

  /** A view of {@code base}'s weights with another rope and attention mode. */
  private LlamaModel(LlamaModel base, Rope rope, SelfExtend selfExtend) {
    if (rope.headDim() != base.config.headDim()) {
      throw new IllegalArgumentException("rope: built for head_dim " + rope.headDim() + " but the model's head_dim is "
          + base.config.headDim());
    }
    this.config = base.config.withRope(rope);
    this.dtype = base.dtype;
    this.manager = base.manager;
    this.parameters = base.parameters;
    this.rotary = new RotaryEmbedding(rope);
    this.embedding = base.embedding;
    this.blocks = base.blocks; // blocks hold weights and shapes only, nothing rope-specific
    this.norm = base.norm;
    this.output = base.output;
    this.selfExtend = selfExtend;
    this.ownsWeights = false;
    this.attentionChunk = base.attentionChunk;
    this.prefillSegment = base.prefillSegment;
  }

  /**
   * Builds a model whose every tensor comes from {@code source} (a checkpoint reader, an
   * initializer), checking each shape.
   *
   * @param dtype FLOAT32 or FLOAT16
   */
  public static LlamaModel create(LlamaConfig config, DataType dtype, ModelWeights.Source source) throws IOException {
    if (dtype != DataType.FLOAT32 && dtype != DataType.FLOAT16) {
      throw new IllegalArgumentException("dtype: " + dtype + " is not allowed; allowed: float32, float16");
    }
    NDManager manager = NDManager.newBaseManager();
    try {
      Map<String, NDArray> params = new LinkedHashMap<>();
      for (ModelWeights.Tensor t : ModelWeights.layout(config).values()) {
        NDArray a = source.make(t, manager);
        if (!a.getShape().equals(t.djlShape())) {
          throw new IllegalArgumentException(t.huggingFace() + ": shape " + a.getShape() + " but the config needs " + t.djlShape());
        }
        if (a.getDataType() != dtype) {
          NDArray cast = a.toType(dtype, false);
          a.close();
          a = cast;
        }
        a.attach(manager);
        params.put(t.ours(), a);
      }
      return new LlamaModel(config, dtype, manager, params);
    } catch (IOException | RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /**
   * A randomly initialised model, as transformers initialises one: linear and embedding weights
   * normal(0, {@code std}) (transformers' {@code initializer_range}, 0.02), norms 1, biases 0.
   * Drawn in Java from {@code seed}, so it is the same on every machine.
   */
  public static LlamaModel random(LlamaConfig config, DataType dtype, long seed, double std) {
    SplittableRandom rng = new SplittableRandom(seed);
    try {
      return create(config, dtype, (t, m) -> {
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

  /** The model's shape and the rope it runs with (a view's override included). */
  public LlamaConfig config() {
    return config;
  }

  public DataType dtype() {
    return dtype;
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

  /** Queries per attention chunk; 0 = chosen per input so one chunk's scores stay under {@link #SCORE_BUDGET_ELEMENTS}. */
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
    return new LlamaModel(this, rope, selfExtend);
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
    return new LlamaModel(this, config.rope(), settings);
  }

  /** Both at once: the settings' rope (when set) and attention mode; a view, as {@link #withRope(Rope)}. */
  public LlamaModel with(InferenceSettings settings) {
    Rope rope = settings.rope() == null ? config.rope() : resolve(settings.rope());
    return new LlamaModel(this, rope, settings.selfExtend());
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
   * @param positionIds {@code [batch, seq]} int64 rotary positions (any non-negative values, e.g.
   *     PoSE's skipped positions); null means {@code 0 … seq−1}. The causal mask follows the
   *     order of tokens in the sequence, not the position values.
   * @return {@code [batch, seq, vocab]} in the model's dtype, in {@code inputIds}' manager
   */
  public NDArray forward(NDArray inputIds, NDArray positionIds) {
    return logits(hiddenStates(inputIds, positionIds, null));
  }

  /**
   * Logits of new tokens that follow the ones in {@code cache}, which they are appended to.
   *
   * @param inputIds {@code [batch, seq]} the new tokens
   * @param positionIds {@code [batch, seq]} their positions, or null to continue after the
   *     cached ones ({@code 0 …} for an empty cache)
   * @param cache from this model's {@link #newCache}; null = no cache ({@link #forward(NDArray, NDArray)})
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
    Shape shape = inputIds.getShape();
    if (shape.dimension() != 2 || !inputIds.getDataType().isInteger() || shape.get(1) < 1) {
      throw new IllegalArgumentException("inputIds: must be [batch, seq] integers with seq ≥ 1, got " + shape + " "
          + inputIds.getDataType());
    }
    if (positionIds != null && !positionIds.getShape().equals(shape)) {
      throw new IllegalArgumentException("positionIds: shape " + positionIds.getShape() + " must equal inputIds' " + shape);
    }
    if (cache != null) {
      cache.check(this, shape.get(0));
      long[][] positions = positionIds == null ? cache.nextPositions((int) shape.get(0), (int) shape.get(1)) : rows(positionIds);
      return cached(inputIds, rows(inputIds), positions, cache);
    }
    NDManager m = inputIds.getManager();
    long batch = shape.get(0);
    long seq = shape.get(1);
    if (positionIds == null) {
      positionIds = m.arange(0L, seq, 1L, DataType.INT64).expandDims(0).repeat(0, batch);
    }
    NDArray h = embed(inputIds); // [batch, seq, hidden]
    Step step;
    if (selfExtend == null) {
      CosSin cs = rotary.cosSin(positionIds, dtype, h.getDevice()); // each [batch, 1, seq, headDim]
      step = new Step(cs, null, chunkFor(batch, seq, seq), 0);
    } else {
      long[][] positions = rows(positionIds);
      step = selfExtendStep(m, positions, positions, maxOf(positions) + 1, batch, 0);
    }
    for (int i = 0; i < blocks.size(); i++) {
      h = blocks.get(i).forward(h, step, null, i);
    }
    return norm.forward(h);
  }

  /** The output head: {@code [batch, seq, hidden]} final-normed hidden states → {@code [batch, seq, vocab]} logits. */
  public NDArray logits(NDArray hidden) {
    return linear(hidden, output, null);
  }

  /** Tokens through the cache: split into prefill segments, rebuilt when the rope changes, or one pass. */
  private NDArray cached(NDArray inputIds, long[][] ids, long[][] positions, KvCache cache) {
    NDManager m = inputIds.getManager();
    int batch = ids.length;
    int seq = ids[0].length;
    long seqLen = Math.max(cache.ropeLength, Math.max(cache.maxPosition, maxOf(positions)) + 1);
    int segment = prefillSegment;
    if (segment > 0 && seq > segment) {
      // one pass would choose the rope's frequencies for the whole input: make every segment do so
      cache.ropeLength = Math.max(cache.ropeLength, seqLen);
      NDList parts = new NDList();
      for (int start = 0; start < seq; start += segment) {
        int end = Math.min(seq, start + segment);
        long[][] partIds = slice(ids, start, end);
        parts.add(cached(m.create(flatten(partIds), new Shape(batch, end - start)), partIds, slice(positions, start, end), cache));
      }
      return NDArrays.concat(parts, 1);
    }
    String frequencySet = config.rope().frequencySet(seqLen);
    if (cache.length > 0 && !frequencySet.equals(cache.frequencySet) && cache.onRopeChange == KvCache.OnRopeChange.REBUILD) {
      // every cached hidden state was computed with the old frequencies: run the whole sequence again
      int cachedLength = cache.length;
      long[][] allIds = cache.withTokens(ids);
      long[][] allPositions = cache.withPositions(positions);
      cache.clear();
      cache.rebuilds++;
      NDArray all = cached(m.create(flatten(allIds), new Shape(batch, allIds[0].length)), allIds, allPositions, cache);
      return all.get(new NDIndex(":, {}:, :", cachedLength)); // [batch, seq, hidden]
    }
    long offset = cache.length;
    NDArray h = embed(inputIds); // [batch, seq, hidden]
    Step step;
    if (selfExtend == null) {
      NDArray positionIds = m.create(flatten(positions), new Shape(batch, seq));
      CosSin cs = rotary.cosSin(positionIds, seqLen, dtype, h.getDevice()); // [batch, 1, seq, headDim]
      step = new Step(cs, null, chunkFor(batch, seq, offset + seq), offset);
    } else {
      step = selfExtendStep(m, positions, cache.withPositions(positions), seqLen, batch, offset);
    }
    for (int i = 0; i < blocks.size(); i++) {
      h = blocks.get(i).forward(h, step, cache, i);
    }
    cache.appendTokens(ids, positions, frequencySet);
    return norm.forward(h);
  }

  /**
   * Rotary tables and positions for SelfExtend: true and group positions of the queries (the
   * new tokens) and of every key (cached + new). Keys are rotated afresh each call, so the cache
   * keeps them un-rotated.
   */
  private Step selfExtendStep(NDManager m, long[][] queryPositions, long[][] keyPositions, long seqLen, long batch,
      long offset) {
    int queries = queryPositions[0].length;
    int keys = keyPositions[0].length;
    Device device = embedding.getDevice();
    NDArray queryIds = m.create(flatten(queryPositions), new Shape(batch, queries)); // [batch, queries]
    NDArray keyIds = m.create(flatten(keyPositions), new Shape(batch, keys)); // [batch, keys]
    long[][] groupQueries = new long[queryPositions.length][queries];
    long[][] groupKeys = new long[keyPositions.length][keys];
    float[] scales = selfExtend.scalesQueries() ? new float[(int) batch * queries] : null;
    for (int b = 0; b < batch; b++) {
      for (int i = 0; i < queries; i++) {
        groupQueries[b][i] = selfExtend.groupQueryPosition(queryPositions[b][i]);
        if (scales != null) {
          scales[b * queries + i] = (float) org.longctx.positional.SelfExtend.queryScale(queryPositions[b][i],
              selfExtend.scaleBase());
        }
      }
      for (int j = 0; j < keys; j++) {
        groupKeys[b][j] = selfExtend.groupKeyPosition(keyPositions[b][j]);
      }
    }
    // the rope's frequency set follows the true length, not the grouped positions
    CosSin queryTrue = rotary.cosSin(queryIds, seqLen, dtype, device);
    CosSin queryGroup = rotary.cosSin(m.create(flatten(groupQueries), new Shape(batch, queries)), seqLen, dtype, device);
    CosSin keyTrue = rotary.cosSin(keyIds, seqLen, dtype, device);
    CosSin keyGroup = rotary.cosSin(m.create(flatten(groupKeys), new Shape(batch, keys)), seqLen, dtype, device);
    NDArray queryScale = null;
    if (scales != null) {
      queryScale = m.create(scales, new Shape(batch, 1, queries, 1));
      if (dtype != DataType.FLOAT32) {
        queryScale = queryScale.toType(dtype, false);
      }
    }
    SelfExtendStep se = new SelfExtendStep(queryTrue, queryGroup, keyTrue, keyGroup, queryIds, keyIds, queryScale,
        selfExtend.windowSize());
    // three [chunk × keys] score tables per head (neighbour, group, merged) instead of one
    return new Step(null, se, chunkFor(batch, queries, keys, 3), offset);
  }

  private NDArray embed(NDArray inputIds) {
    return embedding.get(inputIds.getManager(), new NDIndex("{}", inputIds.toType(DataType.INT64, false))); // [batch, seq, hidden]
  }

  private long chunkFor(long batch, long queries, long keys) {
    return chunkFor(batch, queries, keys, 1);
  }

  private long chunkFor(long batch, long queries, long keys, int tablesPerQuery) {
    if (attentionChunk > 0) {
      return Math.min(attentionChunk, queries);
    }
    long perQuery = batch * config.numAttentionHeads() * keys * tablesPerQuery;
    return Math.max(1, Math.min(queries, SCORE_BUDGET_ELEMENTS / Math.max(1, perQuery)));
  }

  /** {@code x·Wᵀ + b} with torch's own linear kernel. */
  private static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
    return (bias == null ? Linear.linear(x, weight) : Linear.linear(x, weight, bias)).singletonOrThrow();
  }

  /** A [batch, seq] integer array as Java rows. */
  private static long[][] rows(NDArray a) {
    int batch = (int) a.getShape().get(0);
    int seq = (int) a.getShape().get(1);
    long[] flat;
    try (NDArray asLong = a.toType(DataType.INT64, true)) {
      flat = asLong.toLongArray();
    }
    long[][] out = new long[batch][];
    for (int b = 0; b < batch; b++) {
      out[b] = Arrays.copyOfRange(flat, b * seq, (b + 1) * seq);
    }
    return out;
  }

  private static long[] flatten(long[][] rows) {
    int seq = rows[0].length;
    long[] flat = new long[rows.length * seq];
    for (int b = 0; b < rows.length; b++) {
      System.arraycopy(rows[b], 0, flat, b * seq, seq);
    }
    return flat;
  }

  private static long[][] slice(long[][] rows, int start, int end) {
    long[][] out = new long[rows.length][];
    for (int b = 0; b < rows.length; b++) {
      out[b] = Arrays.copyOfRange(rows[b], start, end);
    }
    return out;
  }

  private static long maxOf(long[][] rows) {
    long max = Long.MIN_VALUE;
    for (long[] row : rows) {
      for (long p : row) {
        if (p < 0) {
          throw new IllegalArgumentException("positionIds: must be ≥ 0, got " + p);
        }
        max = Math.max(max, p);
      }
    }
    return max;
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

  // ---- KV cache ----

  /** An empty cache for incremental decoding with this model (view), rebuilt when the rope's frequencies change. */
  public KvCache newCache() {
    return newCache(KvCache.OnRopeChange.REBUILD, 0);
  }

  /**
   * An empty cache.
   *
   * @param onRopeChange what happens when the rope's frequencies change with the length
   * @param ropeLength choose the rope's frequencies for at least this length (pass the whole
   *     input's length when feeding it in pieces, so each piece sees the frequencies one pass
   *     over the input would); 0 = the length reached so far
   */
  public KvCache newCache(KvCache.OnRopeChange onRopeChange, long ropeLength) {
    return new KvCache(this, onRopeChange, ropeLength);
  }

  /**
   * Per-layer keys and values of the tokens seen so far, with their token ids and positions,
   * for one batch of sequences generated together. Keys are stored rotated for plain attention
   * and un-rotated for SelfExtend (which rotates every key with two position sets at each step).
   * The token ids are kept so the whole sequence can be re-run: dynamic NTK (beyond
   * {@code max_position_embeddings}) and longrope (past {@code original_max_position_embeddings})
   * change their frequencies with the length, which changes every cached hidden state.
   * Not thread-safe; close it to free its arrays.
   */
  public static final class KvCache implements AutoCloseable {

    /** What to do when the rope's frequency set changes as the sequence grows. */
    public enum OnRopeChange {
      /**
       * Re-run the whole sequence with the new frequencies, so every step equals a forward over
       * all tokens (Phi-3's generate drops its cache at the longrope switch the same way). Dynamic
       * NTK beyond max_position_embeddings changes at every step, so each step re-runs everything.
       */
      REBUILD,
      /**
       * Keep the cached keys and values as they are and use the new frequencies for new tokens
       * only: what transformers' LlamaForCausalLM generate does with dynamic NTK or longrope;
       * cheaper, but no longer equal to a forward over all tokens.
       */
      KEEP
    }

    private final LlamaModel model;
    private final NDManager manager;
    private final OnRopeChange onRopeChange;
    private final NDArray[] keys; // per layer [batch, kvHeads, length, headDim]
    private final NDArray[] values; // per layer [batch, kvHeads, length, headDim]
    private long ropeLength;
    private long[][] tokens; // [batch][length]
    private long[][] positions; // [batch][length]
    private int length;
    private long maxPosition = -1;
    private String frequencySet;
    private int rebuilds;
    private boolean closed;

    private KvCache(LlamaModel model, OnRopeChange onRopeChange, long ropeLength) {
      if (onRopeChange == null) {
        throw new IllegalArgumentException("onRopeChange: must be REBUILD or KEEP, got null");
      }
      if (ropeLength < 0) {
        throw new IllegalArgumentException("ropeLength: must be ≥ 0, got " + ropeLength);
      }
      this.model = model;
      this.onRopeChange = onRopeChange;
      this.ropeLength = ropeLength;
      this.manager = NDManager.newBaseManager(model.device());
      this.keys = new NDArray[model.blocks.size()];
      this.values = new NDArray[model.blocks.size()];
    }

    /** Tokens cached per sequence. */
    public int length() {
      return length;
    }

    /** Sequences in the batch (0 while empty). */
    public int batchSize() {
      return tokens == null ? 0 : tokens.length;
    }

    /** Token ids of sequence {@code row}, in order. */
    public long[] tokens(int row) {
      return tokens == null ? new long[0] : tokens[row].clone();
    }

    /** Positions of sequence {@code row}, in order. */
    public long[] positions(int row) {
      return positions == null ? new long[0] : positions[row].clone();
    }

    /** How often the whole sequence was re-run because the rope's frequencies changed. */
    public int rebuilds() {
      return rebuilds;
    }

    public OnRopeChange onRopeChange() {
      return onRopeChange;
    }

    /** Whether cached keys are stored rotated (plain attention) or not (SelfExtend). */
    public boolean keysRotated() {
      return model.selfExtend == null;
    }

    private void check(LlamaModel caller, long batch) {
      if (closed) {
        throw new IllegalStateException("KvCache is closed");
      }
      if (caller != model) {
        throw new IllegalArgumentException("cache: made by another model or view (its rope or attention mode may differ); "
            + "use this model's newCache()");
      }
      if (tokens != null && batch != tokens.length) {
        throw new IllegalArgumentException("inputIds: batch " + batch + " but the cache holds " + tokens.length + " sequences");
      }
    }

    /** Positions continuing each cached sequence: last + 1, last + 2, … ({@code 0 …} when empty). */
    private long[][] nextPositions(int batch, int count) {
      long[][] out = new long[batch][count];
      for (int b = 0; b < batch; b++) {
        long next = positions == null || length == 0 ? 0 : positions[b][length - 1] + 1;
        for (int i = 0; i < count; i++) {
          out[b][i] = next + i;
        }
      }
      return out;
    }

    /**
     * Appends a layer's new keys ({@code [batch, kvHeads, seq, headDim]}) to the cache and
     * returns all of them as an array of {@code step}'s manager, so arrays derived from it
     * during the step are freed with the step.
     */
    private NDArray appendKeys(int layer, NDArray fresh, NDManager step) {
      return append(keys, layer, fresh, step);
    }

    private NDArray appendValues(int layer, NDArray fresh, NDManager step) {
      return append(values, layer, fresh, step);
    }

    private NDArray append(NDArray[] store, int layer, NDArray fresh, NDManager step) {
      NDArray old = store[layer];
      NDArray all = old == null ? fresh : old.concat(fresh, 2); // [batch, kvHeads, length + seq, headDim]
      all.attach(manager);
      if (old != null) {
        old.close();
      }
      store[layer] = all;
      return all.get(step, new NDIndex("..."));
    }

    private void appendTokens(long[][] ids, long[][] newPositions, String set) {
      tokens = withTokens(ids);
      positions = withPositions(newPositions);
      length = tokens[0].length;
      maxPosition = Math.max(maxPosition, maxOf(newPositions));
      frequencySet = set;
    }

    private long[][] withTokens(long[][] ids) {
      return joined(tokens, ids);
    }

    private long[][] withPositions(long[][] more) {
      return joined(positions, more);
    }

    private static long[][] joined(long[][] cached, long[][] more) {
      if (cached == null) {
        return more;
      }
      long[][] out = new long[cached.length][];
      for (int b = 0; b < cached.length; b++) {
        out[b] = Arrays.copyOf(cached[b], cached[b].length + more[b].length);
        System.arraycopy(more[b], 0, out[b], cached[b].length, more[b].length);
      }
      return out;
    }

    /** Forgets every token (the rope length floor stays). */
    public void clear() {
      for (int i = 0; i < keys.length; i++) {
        if (keys[i] != null) {
          keys[i].close();
          keys[i] = null;
        }
        if (values[i] != null) {
          values[i].close();
          values[i] = null;
        }
      }
      tokens = null;
      positions = null;
      length = 0;
      maxPosition = -1;
      frequencySet = null;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        clear();
        manager.close();
      }
    }
  }

  /**
   * What every layer of one forward call shares.
   *
   * @param rotary plain attention: cos/sin of the new tokens, each {@code [batch, 1, seq, headDim]}
   * @param selfExtend SelfExtend's tables and positions, or null for plain attention
   * @param chunk queries per attention chunk
   * @param offset sequence index of the first new token (tokens already cached)
   */
  private record Step(CosSin rotary, SelfExtendStep selfExtend, long chunk, long offset) {}

  /**
   * SelfExtend's per-call inputs.
   *
   * @param queryTrue cos/sin at the queries' true positions, {@code [batch, 1, queries, headDim]}
   * @param queryGroup at their group positions
   * @param keyTrue at every key's true position, {@code [batch, 1, keys, headDim]}
   * @param keyGroup at every key's group position
   * @param queryPositions true positions {@code [batch, queries]} int64
   * @param keyPositions true positions {@code [batch, keys]} int64
   * @param queryScale {@code [batch, 1, queries, 1]} log scaling of queries, or null
   * @param window W
   */
  private record SelfExtendStep(CosSin queryTrue, CosSin queryGroup, CosSin keyTrue, CosSin keyGroup,
      NDArray queryPositions, NDArray keyPositions, NDArray queryScale, int window) {}

  /** Root-mean-square norm: {@code weight · x / sqrt(mean(x²) + eps)}, the mean taken in float32. */
  static final class RmsNorm {
    private final NDArray weight; // [hidden]
    private final float eps;

    RmsNorm(NDArray weight, double eps) {
      this.weight = weight;
      this.eps = (float) eps;
    }

    NDArray forward(NDArray x) {
      DataType type = x.getDataType();
      if (type == DataType.FLOAT16 && weight.hasGradient()) {
        return forwardTrainableHalf(x);
      }
      NDArray x32 = type == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
      NDArray meanSquare = x32.square().mean(new int[] {-1}, true); // [..., 1]
      NDArray normed = x32.div(meanSquare.add(eps).sqrt());
      if (type != DataType.FLOAT32) {
        normed = normed.toType(type, false);
      }
      return normed.mul(weight);
    }

    /**
     * Float16 training: the same norm with no cast, since DJL's casts are invisible to autograd
     * (a cast here would cut the gradient of everything below the norm). {@code sqrt(mean(x²) +
     * eps)} is computed as the 2-norm of {@code [x/√d, √eps]}: PyTorch reduces a norm in float32
     * internally, so x² never exists in float16 (it overflows for |x| > 256, which large
     * models' residual streams reach), and eps enters exactly, not rounded away next to x².
     */
    NDArray forwardTrainableHalf(NDArray x) {
      Shape shape = x.getShape();
      long d = shape.get(shape.dimension() - 1);
      NDArray scaled = x.div(Scalars.of(x.getManager(), (float) Math.sqrt(d)));
      NDArray epsColumn = x.getManager().full(shape.slice(0, shape.dimension() - 1).add(1), (float) Math.sqrt(eps), x.getDataType(),
          x.getDevice());
      NDArray rms = NDArrays.concat(new NDList(scaled, epsColumn), -1).norm(2, new int[] {-1}, true); // [..., 1]
      return x.div(rms).mul(weight);
    }
  }

  /**
   * Grouped-query causal self-attention with rotary positions. The scores and softmax of one
   * query chunk against its keys happen in {@link #attendChunk} (plain) or
   * {@link #attendChunkSelfExtend}: the seam where attention variants plug in. With a
   * {@link KvCache} the new tokens' keys and values are appended and queries attend to all.
   */
  static final class Attention {
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final float scale;
    private final NDArray wq;
    private final NDArray wk;
    private final NDArray wv;
    private final NDArray wo;
    private final NDArray bq;
    private final NDArray bk;
    private final NDArray bv;
    private final NDArray bo;

    Attention(LlamaConfig c, Map<String, NDArray> p, String prefix) {
      heads = c.numAttentionHeads();
      kvHeads = c.numKeyValueHeads();
      headDim = c.headDim();
      scale = (float) (1.0 / Math.sqrt(headDim));
      wq = p.get(prefix + "q.weight");
      wk = p.get(prefix + "k.weight");
      wv = p.get(prefix + "v.weight");
      wo = p.get(prefix + "o.weight");
      bq = p.get(prefix + "q.bias");
      bk = p.get(prefix + "k.bias");
      bv = p.get(prefix + "v.bias");
      bo = p.get(prefix + "o.bias");
    }

    /**
     * @param x {@code [batch, seq, hidden]}
     * @param step rotary tables, positions, chunk size and the number of cached tokens
     * @param cache keys and values of earlier tokens, appended to here; null for none
     * @param layer this block's index (its slot in the cache)
     * @return {@code [batch, seq, hidden]}
     */
    NDArray forward(NDArray x, Step step, KvCache cache, int layer) {
      long batch = x.getShape().get(0);
      long seq = x.getShape().get(1);
      NDManager m = x.getManager();
      NDArray q = linear(x, wq, bq).reshape(batch, seq, heads, headDim).transpose(0, 2, 1, 3); // [batch, heads, seq, headDim]
      NDArray k = linear(x, wk, bk).reshape(batch, seq, kvHeads, headDim).transpose(0, 2, 1, 3); // [batch, kvHeads, seq, headDim]
      NDArray v = linear(x, wv, bv).reshape(batch, seq, kvHeads, headDim).transpose(0, 2, 1, 3);
      NDArray attended; // [batch, heads, seq, headDim]
      if (step.selfExtend() == null) {
        q = RotaryEmbedding.apply(q, step.rotary());
        k = RotaryEmbedding.apply(k, step.rotary());
        if (cache != null) { // cached keys were rotated when they arrived
          k = cache.appendKeys(layer, k, m); // [batch, kvHeads, offset + seq, headDim]
          v = cache.appendValues(layer, v, m);
        }
        attended = causal(q, k, v, step.chunk(), step.offset());
      } else {
        if (cache != null) { // un-rotated: every step rotates all keys with true and group positions
          k = cache.appendKeys(layer, k, m);
          v = cache.appendValues(layer, v, m);
        }
        attended = selfExtended(q, k, v, step);
      }
      NDArray merged = attended.transpose(0, 2, 1, 3).reshape(batch, seq, (long) heads * headDim);
      return linear(merged, wo, bo);
    }

    /**
     * Causal attention of every query over the keys at or before it, chunk by chunk. Query head
     * {@code h} reads key/value head {@code h / (heads / kvHeads)}, as transformers'
     * {@code repeat_kv} arranges them; the grouping is a reshape, so keys are never copied per head.
     *
     * @param q {@code [batch, heads, seq, headDim]} (rotated), at sequence indices {@code offset …}
     * @param k {@code [batch, kvHeads, offset + seq, headDim]} (rotated)
     * @param v {@code [batch, kvHeads, offset + seq, headDim]}
     * @param offset keys before the first query (cached tokens)
     * @return {@code [batch, heads, seq, headDim]}
     */
    NDArray causal(NDArray q, NDArray k, NDArray v, long chunk, long offset) {
      long batch = q.getShape().get(0);
      long seq = q.getShape().get(2);
      int group = heads / kvHeads;
      NDManager m = q.getManager();
      NDArray grouped = q.reshape(batch, kvHeads, group, seq, headDim); // [batch, kvHeads, group, seq, headDim]
      NDArray keysT = k.expandDims(2).transpose(0, 1, 2, 4, 3); // [batch, kvHeads, 1, headDim, keys]
      NDArray values = v.expandDims(2); // [batch, kvHeads, 1, keys, headDim]
      NDList outputs = new NDList();
      for (long start = 0; start < seq; start += chunk) {
        long end = Math.min(seq, start + chunk);
        try (NDManager scratch = m.newSubManager()) {
          // queries [start, end) see keys [0, offset + end): later keys are all masked, so leave them out
          NDArray qc = grouped.get(scratch, new NDIndex(":, :, :, {}:{}, :", start, end)); // [batch, kvHeads, group, c, headDim]
          NDArray kc = keysT.get(scratch, new NDIndex("..., :{}", offset + end)); // [batch, kvHeads, 1, headDim, n]
          NDArray vc = values.get(scratch, new NDIndex(":, :, :, :{}, :", offset + end)); // [batch, kvHeads, 1, n, headDim]
          NDArray out = attendChunk(qc, kc, vc, offset + start); // [batch, kvHeads, group, c, headDim]
          out.attach(m);
          outputs.add(out);
        }
      }
      NDArray all = outputs.size() == 1 ? outputs.get(0) : NDArrays.concat(outputs, 3); // [batch, kvHeads, group, seq, headDim]
      return all.reshape(batch, heads, seq, headDim);
    }

    /**
     * SelfExtend attention (methods.md §5), chunk by chunk: every query and key is rotated twice,
     * at true positions (neighbour logits) and at group positions (group logits); a pair uses the
     * neighbour logit when {@code 0 ≤ q − k < W} in true positions, the group logit otherwise;
     * then causal mask and one float32 softmax.
     *
     * @param q {@code [batch, heads, seq, headDim]} un-rotated
     * @param k {@code [batch, kvHeads, offset + seq, headDim]} un-rotated
     * @param v {@code [batch, kvHeads, offset + seq, headDim]}
     * @return {@code [batch, heads, seq, headDim]}
     */
    NDArray selfExtended(NDArray q, NDArray k, NDArray v, Step step) {
      SelfExtendStep se = step.selfExtend();
      long batch = q.getShape().get(0);
      long seq = q.getShape().get(2);
      long offset = step.offset();
      int group = heads / kvHeads;
      NDManager m = q.getManager();
      if (se.queryScale() != null) {
        q = q.mul(se.queryScale()); // before rotation, as the reference scales
      }
      NDArray neighbourQ = RotaryEmbedding.apply(q, se.queryTrue()).reshape(batch, kvHeads, group, seq, headDim);
      NDArray groupQ = RotaryEmbedding.apply(q, se.queryGroup()).reshape(batch, kvHeads, group, seq, headDim);
      NDArray neighbourKT = RotaryEmbedding.apply(k, se.keyTrue()).expandDims(2).transpose(0, 1, 2, 4, 3); // [batch, kvHeads, 1, headDim, keys]
      NDArray groupKT = RotaryEmbedding.apply(k, se.keyGroup()).expandDims(2).transpose(0, 1, 2, 4, 3);
      NDArray values = v.expandDims(2); // [batch, kvHeads, 1, keys, headDim]
      NDList outputs = new NDList();
      for (long start = 0; start < seq; start += step.chunk()) {
        long end = Math.min(seq, start + step.chunk());
        try (NDManager scratch = m.newSubManager()) {
          NDArray nq = neighbourQ.get(scratch, new NDIndex(":, :, :, {}:{}, :", start, end)); // [batch, kvHeads, group, c, headDim]
          NDArray gq = groupQ.get(scratch, new NDIndex(":, :, :, {}:{}, :", start, end));
          NDArray nk = neighbourKT.get(scratch, new NDIndex("..., :{}", offset + end)); // [batch, kvHeads, 1, headDim, n]
          NDArray gk = groupKT.get(scratch, new NDIndex("..., :{}", offset + end));
          NDArray vc = values.get(scratch, new NDIndex(":, :, :, :{}, :", offset + end)); // [batch, kvHeads, 1, n, headDim]
          NDArray queryPositions = se.queryPositions().get(scratch, new NDIndex(":, {}:{}", start, end)).expandDims(2); // [batch, c, 1]
          NDArray keyPositions = se.keyPositions().get(scratch, new NDIndex(":, :{}", offset + end)).expandDims(1); // [batch, 1, n]
          NDArray distance = queryPositions.sub(keyPositions); // [batch, c, n]
          NDArray neighbour = distance.gte(0).logicalAnd(distance.lt(se.window())).expandDims(1).expandDims(1); // [batch, 1, 1, c, n]
          NDArray out = attendChunkSelfExtend(nq, gq, nk, gk, vc, neighbour, offset + start);
          out.attach(m);
          outputs.add(out);
        }
      }
      NDArray all = outputs.size() == 1 ? outputs.get(0) : NDArrays.concat(outputs, 3); // [batch, kvHeads, group, seq, headDim]
      return all.reshape(batch, heads, seq, headDim);
    }

    /**
     * One SelfExtend query chunk: neighbour and group scores merged by {@code neighbour}, scaled,
     * causally masked by sequence index, one float32 softmax, then {@code ·v}. With every pair a
     * neighbour this is exactly {@link #attendChunk} in float32.
     *
     * @param neighbourQ {@code [batch, kvHeads, group, c, headDim]} rotated at true positions
     * @param groupQ the same queries rotated at group positions
     * @param neighbourKT {@code [batch, kvHeads, 1, headDim, n]} keys rotated at true positions
     * @param groupKT keys rotated at group positions
     * @param values {@code [batch, kvHeads, 1, n, headDim]}
     * @param neighbour {@code [batch, 1, 1, c, n]} true where the neighbour logit is used
     * @return {@code [batch, kvHeads, group, c, headDim]}
     */
    NDArray attendChunkSelfExtend(NDArray neighbourQ, NDArray groupQ, NDArray neighbourKT, NDArray groupKT, NDArray values,
        NDArray neighbour, long queryStart) {
      NDManager m = neighbourQ.getManager();
      long c = neighbourQ.getShape().get(3);
      long n = neighbourKT.getShape().get(4);
      NDArray neighbourScores = neighbourQ.matMul(neighbourKT); // [batch, kvHeads, group, c, n]
      NDArray groupScores = groupQ.matMul(groupKT);
      NDArray scores = NDArrays.where(neighbour.broadcast(neighbourScores.getShape()), neighbourScores, groupScores);
      if (scores.getDataType() != DataType.FLOAT32) {
        scores = scores.toType(DataType.FLOAT32, false);
      }
      scores = scores.mul(Scalars.of(m, scale));
      if (n > queryStart + 1) {
        NDArray queryIndex = m.arange(queryStart, queryStart + c, 1L, DataType.INT64).expandDims(1); // [c, 1]
        NDArray keyIndex = m.arange(0L, n, 1L, DataType.INT64).expandDims(0); // [1, n]
        NDArray future = keyIndex.gt(queryIndex); // [c, n]
        scores = scores.add(future.toType(DataType.FLOAT32, false).mul(-Float.MAX_VALUE));
      }
      NDArray probabilities = scores.softmax(-1);
      if (values.getDataType() != DataType.FLOAT32) {
        probabilities = probabilities.toType(values.getDataType(), false);
      }
      return probabilities.matMul(values);
    }

    /**
     * One query chunk against a key block: {@code softmax(q·kᵀ/√d + causal mask)·v}. Every
     * array made here belongs to {@code q}'s manager.
     *
     * @param q {@code [batch, kvHeads, group, c, headDim]}, queries at sequence indices
     *     {@code queryStart … queryStart + c − 1}
     * @param keysT {@code [batch, kvHeads, 1, headDim, n]}, keys at sequence indices {@code 0 … n − 1}
     * @param values {@code [batch, kvHeads, 1, n, headDim]}
     * @return {@code [batch, kvHeads, group, c, headDim]}
     */
    NDArray attendChunk(NDArray q, NDArray keysT, NDArray values, long queryStart) {
      NDManager m = q.getManager();
      long c = q.getShape().get(3);
      long n = keysT.getShape().get(4);
      NDArray scores = q.matMul(keysT).mul(Scalars.of(m, scale)); // [batch, kvHeads, group, c, n]
      if (n > queryStart + 1) { // some key lies after some query of this chunk
        NDArray queryIndex = m.arange(queryStart, queryStart + c, 1L, DataType.INT64).expandDims(1); // [c, 1]
        NDArray keyIndex = m.arange(0L, n, 1L, DataType.INT64).expandDims(0); // [1, n]
        NDArray future = keyIndex.gt(queryIndex); // [c, n]: the key comes after the query
        // as transformers: add the dtype's lowest value where the key is in the future
        float lowest = scores.getDataType() == DataType.FLOAT16 ? -65504f : -Float.MAX_VALUE;
        scores = scores.add(future.toType(scores.getDataType(), false).mul(lowest)); // mask broadcasts over [batch, kvHeads, group]
      }
      NDArray probabilities = scores.softmax(-1);
      return probabilities.matMul(values);
    }
  }

  /** SwiGLU: {@code down(silu(gate(x)) · up(x))}. */
  static final class FeedForward {
    private final NDArray gate;
    private final NDArray up;
    private final NDArray down;
    private final NDArray gateBias;
    private final NDArray upBias;
    private final NDArray downBias;

    FeedForward(Map<String, NDArray> p, String prefix) {
      gate = p.get(prefix + "gate.weight");
      up = p.get(prefix + "up.weight");
      down = p.get(prefix + "down.weight");
      gateBias = p.get(prefix + "gate.bias");
      upBias = p.get(prefix + "up.bias");
      downBias = p.get(prefix + "down.bias");
    }

    NDArray forward(NDArray x) {
      NDArray g = linear(x, gate, gateBias); // [batch, seq, intermediate]
      NDArray silu = g.mul(Activation.sigmoid(g));
      return linear(silu.mul(linear(x, up, upBias)), down, downBias); // [batch, seq, hidden]
    }
  }

  /** One decoder layer: pre-norm attention and pre-norm MLP, each with a residual. */
  static final class Block {
    private final RmsNorm attentionNorm;
    private final Attention attention;
    private final RmsNorm mlpNorm;
    private final FeedForward mlp;

    Block(LlamaConfig c, Map<String, NDArray> p, String prefix) {
      attentionNorm = new RmsNorm(p.get(prefix + "attention_norm.weight"), c.rmsNormEps());
      attention = new Attention(c, p, prefix + "attention.");
      mlpNorm = new RmsNorm(p.get(prefix + "mlp_norm.weight"), c.rmsNormEps());
      mlp = new FeedForward(p, prefix + "mlp.");
    }

    NDArray forward(NDArray h, Step step, KvCache cache, int layer) {
      NDArray afterAttention = h.add(attention.forward(attentionNorm.forward(h), step, cache, layer));
      return afterAttention.add(mlp.forward(mlpNorm.forward(afterAttention)));
    }
  }
}
