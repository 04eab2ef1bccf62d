package org.longctx.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * What a memory layer keeps (Focused Transformer, docs/methods.md §4): the local context's keys
 * and values, as projected, and the memory, append-only, of every earlier local context. When
 * the local context ends ({@link #endLocalContext}: a memory window of a long input after its
 * own attention, or a full local context while generating) its keys and values move into the
 * memory unchanged: keys as projected are keys rotated at position 0, which is where memory keys
 * sit (LongLLaMA uses no rope scaling, so that rotation is the identity). Memory is never evicted
 * [CStanKonrad/long_llama {@code src/modeling_longllama.py}, {@code mem_apply_update}].
 */
public final class MemoryCache implements LayerCache {
  private final KvLayerCache local;
  private final KvLayerCache memory;

  public MemoryCache(Device device) {
    this.local = new KvLayerCache(device);
    this.memory = new KvLayerCache(device);
  }

  /** Appends new tokens' keys (as projected) and values to the local context; returns the whole local context. */
  @Override
  public KeysValues append(NDArray keys, NDArray values, NDManager step) {
    return local.append(keys, values, step);
  }

  /** The memory's keys and values, each {@code [batch, kvHeads, memoryLength, headDim]} in {@code step}, or null while empty. */
  public KeysValues memory(NDManager step) {
    return memory.held(step);
  }

  /** Tokens in memory. */
  public long memoryLength() {
    return memory.length();
  }

  /** Tokens in the local context. */
  @Override
  public long length() {
    return local.length();
  }

  @Override
  public void endLocalContext() {
    local.moveTo(memory);
  }

  /** Forgets the local context and the memory. */
  @Override
  public void clear() {
    local.clear();
    memory.clear();
  }

  @Override
  public void close() {
    local.close();
    memory.close();
  }
}
