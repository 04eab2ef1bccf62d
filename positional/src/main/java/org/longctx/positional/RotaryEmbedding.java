package org.longctx.positional;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rotary position embedding on DJL arrays, as Hugging Face's {@code LlamaRotaryEmbedding} and
 * {@code apply_rotary_pos_emb} compute it: angles {@code p · inv_freq} in float32, tables
 * {@code cat(φ, φ)}, cos and sin each multiplied by the attention factor, cast to the compute
 * dtype, and applied with rotate-half.
 *
 * <p>Position ids may be any non-negative values (PoSE skips, SelfExtend's grouped positions).
 * Tables of cos/sin rows are cached per device, dtype and frequency set (longrope short/long,
 * dynamic up to {@code max_position_embeddings}) and grown to the next power of two when a
 * larger position arrives in a call that asks for at least 1/64 of the new table's rows (a
 * training or prefill batch). Everything else is computed directly for the requested positions:
 * a few far positions (a decode step past the table, a one-off check), dynamic frequencies
 * beyond {@code max_position_embeddings} (they change with every length) and tables beyond
 * {@link #MAX_TABLE_ELEMENTS}. Both paths run the same float32 operations, so they give
 * identical values. Thread-safe; {@link #close()} frees the tables.
 */
public final class RotaryEmbedding implements AutoCloseable {

  /** Largest cached table, in elements (positions × head_dim), per cos or sin: 128 MB in float32. */
  public static final long MAX_TABLE_ELEMENTS = 1L << 25;

  /** Smallest table length, so short runs do not rebuild the table for every few positions. */
  private static final long MIN_TABLE_LENGTH = 2048;

  /** A table is built or grown only for calls asking for at least 1/64 of its rows. */
  private static final long TABLE_FILL_RATIO = 64;

  /** At most this many tables are kept; the least recently used one is freed first. */
  private static final int MAX_TABLES = 8;

  private final Rope rope;
  private final Map<Device, NDManager> managers = new HashMap<>();
  private final LinkedHashMap<TableKey, CosSin> tables = new LinkedHashMap<>(16, 0.75f, true);
  private boolean closed;

  /** cos and sin rows, each {@code [batch, 1, seq, headDim]} (or {@code [length, headDim]} for a table). */
  public record CosSin(NDArray cos, NDArray sin) implements AutoCloseable {
    @Override
    public void close() {
      cos.close();
      sin.close();
    }
  }

  private record TableKey(Device device, DataType dtype, String frequencySet) {}

  public RotaryEmbedding(Rope rope) {
    if (rope == null) {
      throw new IllegalArgumentException("rope: must not be null");
    }
    this.rope = rope;
  }

  public Rope rope() {
    return rope;
  }

  /**
   * cos and sin for {@code positionIds}, with the frequency set chosen by
   * {@code seqLen = max(positionIds) + 1}.
   */
  public CosSin cosSin(NDArray positionIds, DataType dtype, Device device) {
    return cosSin(positionIds, maxPosition(positionIds) + 1, dtype, device);
  }

  /**
   * cos and sin for arbitrary position ids.
   *
   * @param positionIds {@code [batch, seq]} integer positions ≥ 0
   * @param seqLen the longest sequence length so far (the KV length when decoding), which picks
   *     dynamic NTK's scaling and longrope's short or long factors; a KV cache built before
   *     longrope switches to its long factors is invalid after the switch
   * @param dtype the compute dtype of q and k (float32 or float16)
   * @param device where q and k live
   * @return cos and sin, each {@code [batch, 1, seq, headDim]}, attention factor applied,
   *     attached to {@code positionIds}' manager; constants for autograd
   */
  public CosSin cosSin(NDArray positionIds, long seqLen, DataType dtype, Device device) {
    return cosSin(positionIds, maxPosition(positionIds), seqLen, dtype, device);
  }

  /**
   * {@link #cosSin(NDArray, long, DataType, Device)} for a caller that knows the largest position
   * id (or an upper bound of it, e.g. from the host array the ids were made of): nothing is read
   * back from the device, so the call does not wait for it.
   *
   * @param maxPosition ≥ every id in {@code positionIds}
   */
  public synchronized CosSin cosSin(NDArray positionIds, long maxPosition, long seqLen, DataType dtype, Device device) {
    if (closed) {
      throw new IllegalStateException("RotaryEmbedding is closed");
    }
    if (positionIds.getShape().dimension() != 2) {
      throw new IllegalArgumentException("positionIds: must be [batch, seq], got shape " + positionIds.getShape());
    }
    if (seqLen < 1) {
      throw new IllegalArgumentException("seqLen: must be ≥ 1, got " + seqLen);
    }
    if (maxPosition < 0) {
      throw new IllegalArgumentException("maxPosition: must be ≥ 0, got " + maxPosition);
    }
    NDManager target = positionIds.getManager();
    boolean cacheable = !(rope instanceof DynamicRope) || seqLen <= rope.maxPositionEmbeddings();
    long tableLength = Math.max(MIN_TABLE_LENGTH, Long.highestOneBit(Math.max(1, maxPosition)) << 1);
    NDManager work = manager(device);
    try (NDManager scratch = work.newSubManager(device)) {
      NDArray ids = onScratch(positionIds, scratch, device); // [batch, seq] int64 on device
      NDArray cos;
      NDArray sin;
      TableKey key = new TableKey(device, dtype, rope.frequencySet(seqLen));
      CosSin cached = tables.get(key);
      boolean covered = cached != null && cached.cos().getShape().get(0) > maxPosition;
      // build or grow a table only when this call fills a fair share of it: a handful of far
      // positions (one decode step, a one-off check) is cheaper to compute directly
      boolean worthBuilding = positionIds.getShape().size() * TABLE_FILL_RATIO >= tableLength;
      if (cacheable && (covered || (worthBuilding && tableLength * rope.headDim() <= MAX_TABLE_ELEMENTS))) {
        CosSin table = table(key, seqLen, maxPosition + 1, tableLength);
        cos = table.cos().get(scratch, new NDIndex("{}", ids)); // [batch, seq, headDim]
        sin = table.sin().get(scratch, new NDIndex("{}", ids));
      } else {
        CosSin direct = compute(scratch, ids.toType(DataType.FLOAT32, false), rope.frequencies(seqLen), dtype);
        cos = direct.cos();
        sin = direct.sin();
      }
      NDArray cos4 = cos.expandDims(1); // [batch, 1, seq, headDim]
      NDArray sin4 = sin.expandDims(1);
      cos4.attach(target);
      sin4.attach(target);
      return new CosSin(cos4, sin4);
    }
  }

  /**
   * HF's {@code q·cos + rotate_half(q)·sin}; differentiable in {@code x}.
   *
   * @param x {@code [batch, heads, seq, headDim]}
   */
  public static NDArray apply(NDArray x, CosSin cosSin) {
    return apply(x, cosSin.cos(), cosSin.sin());
  }

  /** {@code x·cos + rotate_half(x)·sin}; cos and sin broadcast against x ({@code [batch, 1, seq, headDim]}). */
  public static NDArray apply(NDArray x, NDArray cos, NDArray sin) {
    // The products are closed as soon as they are summed: autograd keeps what backward needs
    // (x, the rotated halves, cos, sin), and an array DJL still holds would otherwise live until
    // the step's manager closes (PyTorch frees such temporaries at once).
    try (NDArray rotated = rotateHalf(x); NDArray straight = x.mul(cos); NDArray turned = rotated.mul(sin)) {
      return straight.add(turned);
    }
  }

  /** {@code [x1, x2] → [−x2, x1]} over the halves of the last axis (not interleaved pairs). */
  public static NDArray rotateHalf(NDArray x) {
    long last = x.getShape().get(x.getShape().dimension() - 1);
    if (last % 2 != 0) {
      throw new IllegalArgumentException("x: last axis must be even to rotate halves, got shape " + x.getShape());
    }
    long half = last / 2;
    try (NDArray x1 = x.get("..., :" + half); NDArray x2 = x.get("..., " + half + ":"); NDArray minusX2 = x2.neg()) {
      return NDArrays.concat(new NDList(minusX2, x1), -1);
    }
  }

  /** The cached table for {@code key}, rebuilt longer when {@code needed} rows exceed it. */
  private CosSin table(TableKey key, long seqLen, long needed, long length) {
    CosSin table = tables.get(key);
    if (table != null && table.cos().getShape().get(0) >= needed) {
      return table;
    }
    if (table != null) {
      tables.remove(key);
      table.close();
    }
    NDManager m = manager(key.device());
    CosSin built;
    try (NDManager scratch = m.newSubManager(key.device())) {
      NDArray positions = scratch.arange(0f, (float) length, 1f, DataType.FLOAT32); // [length], exact below 2^24
      CosSin rows = compute(scratch, positions, rope.frequencies(seqLen), key.dtype());
      rows.cos().attach(m);
      rows.sin().attach(m);
      built = rows;
    }
    tables.put(key, built);
    if (tables.size() > MAX_TABLES) {
      Iterator<Map.Entry<TableKey, CosSin>> eldest = tables.entrySet().iterator();
      eldest.next().getValue().close();
      eldest.remove();
    }
    return built;
  }

  /**
   * cos and sin rows for float32 {@code positions} of any shape {@code [...]}:
   * {@code [..., headDim]} in {@code dtype}, all arrays in {@code m}.
   */
  private CosSin compute(NDManager m, NDArray positions, RopeFrequencies f, DataType dtype) {
    CosSin scaled = rows(m, positions, f);
    NDArray cos = scaled.cos();
    NDArray sin = scaled.sin();
    if (rope.startTokens() > 0 && rope instanceof LongRope longRope) {
      // LongRoPE's n̂: the first positions keep the original rotation, without attention factor
      CosSin original = rows(m, positions, longRope.startTokenFrequencies());
      NDArray early = positions.lt(rope.startTokens()).expandDims(-1).broadcast(cos.getShape()); // [..., d]
      cos = NDArrays.where(early, original.cos(), cos);
      sin = NDArrays.where(early, original.sin(), sin);
    }
    if (dtype != DataType.FLOAT32) {
      cos = cos.toType(dtype, false);
      sin = sin.toType(dtype, false);
    }
    return new CosSin(cos, sin);
  }

  /** {@code cat(φ, φ)} with {@code φ = p · inv_freq}, cos and sin times the attention factor, float32. */
  static CosSin rows(NDManager m, NDArray positions, RopeFrequencies f) {
    NDArray inv = m.create(f.invFreq()); // [d/2] float32
    NDArray angles = positions.expandDims(-1).mul(inv); // [..., d/2], one float32 product as HF's matmul
    NDArray emb = angles.concat(angles, -1); // [..., d]
    NDArray cos = emb.cos();
    NDArray sin = emb.sin();
    if (f.attentionFactor() != 1.0) {
      NDArray factor = m.create((float) f.attentionFactor()); // torch multiplies by the float32-cast scalar
      cos = cos.mul(factor);
      sin = sin.mul(factor);
    }
    return new CosSin(cos, sin);
  }

  /** An int64 copy of {@code ids} on {@code device}, owned by {@code scratch} (the caller's array is left alone). */
  private static NDArray onScratch(NDArray ids, NDManager scratch, Device device) {
    NDArray copy = scratch.create(ids.getShape(), DataType.INT64, device);
    try (NDArray asLong = ids.toType(DataType.INT64, true)) {
      asLong.copyTo(copy);
    }
    return copy;
  }

  private static long maxPosition(NDArray positionIds) {
    if (positionIds.getShape().size() == 0) {
      throw new IllegalArgumentException("positionIds: must not be empty");
    }
    if (!positionIds.getDataType().isInteger()) {
      throw new IllegalArgumentException("positionIds: must be integers, got " + positionIds.getDataType());
    }
    try (NDArray minRaw = positionIds.min();
        NDArray maxRaw = positionIds.max();
        NDArray min = minRaw.toType(DataType.INT64, true);
        NDArray max = maxRaw.toType(DataType.INT64, true)) {
      long lowest = HostReads.longs(min)[0];
      if (lowest < 0) {
        throw new IllegalArgumentException("positionIds: must be ≥ 0, got " + lowest);
      }
      return HostReads.longs(max)[0];
    }
  }

  /** Rows of every cached table, for tests: one entry per (device, dtype, frequency set). */
  synchronized List<Long> cachedTableLengths() {
    List<Long> lengths = new ArrayList<>();
    tables.values().forEach(t -> lengths.add(t.cos().getShape().get(0)));
    return lengths;
  }

  private NDManager manager(Device device) {
    return managers.computeIfAbsent(device, NDManager::newBaseManager);
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    tables.values().forEach(CosSin::close);
    tables.clear();
    managers.values().forEach(NDManager::close);
    managers.clear();
  }
}
