package org.longctx.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import org.longctx.positional.RotaryEmbedding.CosSin;

/**
 * A Focused Transformer memory layer (docs/methods.md §4; CStanKonrad/long_llama
 * {@code src/modeling_longllama.py}): queries attend with one softmax over
 * {@code [memory keys; local keys]}. Local queries and keys are rotated at their positions, which
 * count from the start of the local context; memory keys sit at position 0, i.e. as projected
 * (no rope scaling: the rotation at position 0 is the identity). The local part is causal, the
 * memory part fully visible, so the mask is causal with the memory counted as earlier tokens.
 *
 * <ul>
 *   <li>With a {@link MemoryCache} (inference): memory = the cache's memory, local = its local
 *       context plus the new tokens.</li>
 *   <li>Without a cache and with {@link CrossBatch} (training): the memory of entry {@code b} is
 *       the keys and values of entries {@code b − 1 … b − range} ({@link CrossBatchMask}).</li>
 *   <li>Otherwise: no memory, which is plain attention.</li>
 * </ul>
 *
 * <p>Local keys are cached as projected and rotated afresh every call, so that a local context
 * that ends moves into memory unchanged ({@link MemoryCache#endLocalContext}).
 */
public final class MemoryMode implements AttentionMode {
  private final CrossBatch crossBatch;
  private final int queriesPerChunk;

  /**
   * @param crossBatch cross-batch training, or null
   * @param queriesPerChunk at most this many queries per attention chunk
   *     ({@code mem_attention_grouping}), 0 = as the model chooses
   */
  public MemoryMode(CrossBatch crossBatch, int queriesPerChunk) {
    if (queriesPerChunk < 0) {
      throw new IllegalArgumentException("queriesPerChunk: must be ≥ 0, got " + queriesPerChunk);
    }
    this.crossBatch = crossBatch;
    this.queriesPerChunk = queriesPerChunk;
  }

  public CrossBatch crossBatch() {
    return crossBatch;
  }

  @Override
  public LayerCache newCache(Device device) {
    return new MemoryCache(device);
  }

  @Override
  public Step begin(ForwardPass pass) {
    NDManager m = pass.manager();
    CosSin queries = pass.cosSin(pass.positions()); // [batch, 1, seq, headDim]
    CosSin localKeys = pass.cachedPositions() == null ? queries // no cached tokens: the keys are the queries' tokens
        : pass.cosSin(m.create(ForwardPass.flatten(pass.keyPositions()), new Shape(pass.keyPositions().length,
            pass.keyPositions()[0].length)));
    return (q, k, v, cache) -> {
      AttentionInputs inputs;
      NDArray rq = pass.rotate(q, queries);
      if (cache != null) {
        MemoryCache memoryCache = (MemoryCache) cache;
        LayerCache.KeysValues local = memoryCache.append(k, v, m); // [batch, kvHeads, offset + seq, headDim], as projected
        NDArray keys = pass.rotate(local.keys(), localKeys);
        NDArray values = local.values();
        LayerCache.KeysValues memory = memoryCache.memory(m);
        long memoryLength = 0;
        if (memory != null) {
          memoryLength = memory.keys().getShape().get(2);
          keys = memory.keys().concat(keys, 2); // [batch, kvHeads, memory + offset + seq, headDim]
          values = memory.values().concat(values, 2);
        }
        inputs = new AttentionInputs(rq, keys, values, pass.scale(), new CausalMask(memoryLength + pass.offset()));
      } else if (crossBatch != null && crossBatch.range() > 0) {
        inputs = crossBatchInputs(rq, pass.rotate(k, queries), k, v, pass);
      } else {
        inputs = new AttentionInputs(rq, pass.rotate(k, queries), v, pass.scale(), new CausalMask(pass.offset()));
      }
      return inputs.withMaxQueriesPerChunk(queriesPerChunk);
    };
  }

  /**
   * Entry {@code b}'s keys: entries {@code b − range … b − 1} as projected (position 0), then its
   * own rotated keys; values likewise. An entry before the first is taken as entry 0 and hidden
   * by the mask, as the reference's wrapped index is.
   */
  private AttentionInputs crossBatchInputs(NDArray q, NDArray rotatedKeys, NDArray k, NDArray v, ForwardPass pass) {
    NDManager m = pass.manager();
    int batch = (int) k.getShape().get(0);
    long length = k.getShape().get(2);
    int range = crossBatch.range();
    NDList keys = new NDList();
    NDList values = new NDList();
    for (int back = range; back >= 1; back--) {
      long[] source = new long[batch];
      for (int b = 0; b < batch; b++) {
        source[b] = Math.max(b - back, 0);
      }
      NDIndex entries = new NDIndex("{}", m.create(source));
      keys.add(k.get(m, entries)); // [batch, kvHeads, length, headDim]: entry b − back's keys, for entry b
      values.add(v.get(m, entries));
    }
    keys.add(rotatedKeys);
    values.add(v);
    NDArray allKeys = ai.djl.ndarray.NDArrays.concat(keys, 2); // [batch, kvHeads, (range + 1) · length, headDim]
    NDArray allValues = ai.djl.ndarray.NDArrays.concat(values, 2);
    return new AttentionInputs(q, allKeys, allValues, pass.scale(),
        new CrossBatchMask(length, range, crossBatch.allowedContexts(batch)));
  }

  @Override
  public boolean cachesRotatedKeys() {
    return false;
  }

  @Override
  public String toString() {
    return "memory" + (crossBatch == null ? "" : "(" + crossBatch + ")");
  }
}
