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
import org.longctx.positional.RotaryEmbedding;
import org.longctx.positional.RotaryEmbedding.CosSin;

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
 * <p>Float16: weights and activations in float16, with RMSNorm's mean of squares in float32.
 * That path uses DJL casts, which autograd does not see, so it serves inference (scoring,
 * evaluation); training runs in float32.
 */
public final class LlamaModel implements AutoCloseable {

  /** Auto chunk size keeps one chunk's scores under this many elements (256 MB in float32). */
  public static final long SCORE_BUDGET_ELEMENTS = 1L << 26;

  private final LlamaConfig config;
  private final DataType dtype;
  private final NDManager manager;
  private final Map<String, NDArray> parameters;
  private final RotaryEmbedding rotary;
  private final NDArray embedding; // [vocab, hidden]
  private final List<Block> blocks;
  private final RmsNorm norm;
  private final NDArray output; // [vocab, hidden]; the embedding itself when tied
  private volatile int attentionChunk;

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
   * Logits for every position.
   *
   * @param inputIds {@code [batch, seq]} int64 token ids
   * @param positionIds {@code [batch, seq]} int64 rotary positions (any non-negative values, e.g.
   *     PoSE's skipped positions); null means {@code 0 … seq−1}. The causal mask follows the
   *     order of tokens in the sequence, not the position values.
   * @return {@code [batch, seq, vocab]} in the model's dtype, in {@code inputIds}' manager
   */
  public NDArray forward(NDArray inputIds, NDArray positionIds) {
    Shape shape = inputIds.getShape();
    if (shape.dimension() != 2 || !inputIds.getDataType().isInteger()) {
      throw new IllegalArgumentException("inputIds: must be [batch, seq] integers, got " + shape + " " + inputIds.getDataType());
    }
    NDManager m = inputIds.getManager();
    if (positionIds == null) {
      positionIds = m.arange(0L, shape.get(1), 1L, DataType.INT64).expandDims(0).repeat(0, shape.get(0));
    } else if (!positionIds.getShape().equals(shape)) {
      throw new IllegalArgumentException("positionIds: shape " + positionIds.getShape() + " must equal inputIds' " + shape);
    }
    NDArray h = embedding.get(m, new NDIndex("{}", inputIds.toType(DataType.INT64, false))); // [batch, seq, hidden]
    CosSin cs = rotary.cosSin(positionIds, dtype, h.getDevice()); // each [batch, 1, seq, headDim]
    for (Block block : blocks) {
      h = block.forward(h, cs, chunkFor(shape.get(0), shape.get(1)));
    }
    return linear(norm.forward(h), output, null); // [batch, seq, vocab]
  }

  private long chunkFor(long batch, long seq) {
    if (attentionChunk > 0) {
      return Math.min(attentionChunk, seq);
    }
    long perQuery = batch * config.numAttentionHeads() * seq;
    return Math.max(1, Math.min(seq, SCORE_BUDGET_ELEMENTS / Math.max(1, perQuery)));
  }

  /** {@code x·Wᵀ + b} with torch's own linear kernel. */
  private static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
    return (bias == null ? Linear.linear(x, weight) : Linear.linear(x, weight, bias)).singletonOrThrow();
  }

  @Override
  public void close() {
    rotary.close();
    manager.close();
  }

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
      NDArray x32 = type == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
      NDArray meanSquare = x32.square().mean(new int[] {-1}, true); // [..., 1]
      NDArray normed = x32.div(meanSquare.add(eps).sqrt());
      if (type != DataType.FLOAT32) {
        normed = normed.toType(type, false);
      }
      return normed.mul(weight);
    }
  }

  /**
   * Grouped-query causal self-attention with rotary positions. The scores and softmax of one
   * query chunk against its keys happen in {@link #attendChunk}: the seam where attention
   * variants (grouped positions for SelfExtend, memory keys for FoT, a KV cache) plug in.
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
     * @param cs rotary cos/sin, each {@code [batch, 1, seq, headDim]}
     * @param chunk queries per chunk
     * @return {@code [batch, seq, hidden]}
     */
    NDArray forward(NDArray x, CosSin cs, long chunk) {
      long batch = x.getShape().get(0);
      long seq = x.getShape().get(1);
      NDArray q = linear(x, wq, bq).reshape(batch, seq, heads, headDim).transpose(0, 2, 1, 3); // [batch, heads, seq, headDim]
      NDArray k = linear(x, wk, bk).reshape(batch, seq, kvHeads, headDim).transpose(0, 2, 1, 3); // [batch, kvHeads, seq, headDim]
      NDArray v = linear(x, wv, bv).reshape(batch, seq, kvHeads, headDim).transpose(0, 2, 1, 3);
      q = RotaryEmbedding.apply(q, cs);
      k = RotaryEmbedding.apply(k, cs);
      NDArray attended = causal(q, k, v, chunk); // [batch, heads, seq, headDim]
      NDArray merged = attended.transpose(0, 2, 1, 3).reshape(batch, seq, (long) heads * headDim);
      return linear(merged, wo, bo);
    }

    /**
     * Causal attention of every query over the keys at or before it, chunk by chunk. Query head
     * {@code h} reads key/value head {@code h / (heads / kvHeads)}, as transformers'
     * {@code repeat_kv} arranges them; the grouping is a reshape, so keys are never copied per head.
     *
     * @param q {@code [batch, heads, seq, headDim]} (rotated)
     * @param k {@code [batch, kvHeads, seq, headDim]} (rotated)
     * @param v {@code [batch, kvHeads, seq, headDim]}
     * @return {@code [batch, heads, seq, headDim]}
     */
    NDArray causal(NDArray q, NDArray k, NDArray v, long chunk) {
      long batch = q.getShape().get(0);
      long seq = q.getShape().get(2);
      int group = heads / kvHeads;
      NDManager m = q.getManager();
      NDArray grouped = q.reshape(batch, kvHeads, group, seq, headDim); // [batch, kvHeads, group, seq, headDim]
      NDArray keysT = k.expandDims(2).transpose(0, 1, 2, 4, 3); // [batch, kvHeads, 1, headDim, seq]
      NDArray values = v.expandDims(2); // [batch, kvHeads, 1, seq, headDim]
      NDList outputs = new NDList();
      for (long start = 0; start < seq; start += chunk) {
        long end = Math.min(seq, start + chunk);
        try (NDManager scratch = m.newSubManager()) {
          // queries [start, end) see keys [0, end): later keys are all masked, so leave them out
          NDArray qc = grouped.get(scratch, new NDIndex(":, :, :, {}:{}, :", start, end)); // [batch, kvHeads, group, c, headDim]
          NDArray kc = keysT.get(scratch, new NDIndex("..., :{}", end)); // [batch, kvHeads, 1, headDim, end]
          NDArray vc = values.get(scratch, new NDIndex(":, :, :, :{}, :", end)); // [batch, kvHeads, 1, end, headDim]
          NDArray out = attendChunk(qc, kc, vc, start); // [batch, kvHeads, group, c, headDim]
          out.attach(m);
          outputs.add(out);
        }
      }
      NDArray all = outputs.size() == 1 ? outputs.get(0) : NDArrays.concat(outputs, 3); // [batch, kvHeads, group, seq, headDim]
      return all.reshape(batch, heads, seq, headDim);
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
      NDArray scores = q.matMul(keysT).mul(scale); // [batch, kvHeads, group, c, n]
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

    NDArray forward(NDArray h, CosSin cs, long chunk) {
      NDArray afterAttention = h.add(attention.forward(attentionNorm.forward(h), cs, chunk));
      return afterAttention.add(mlp.forward(mlpNorm.forward(afterAttention)));
    }
  }
}
