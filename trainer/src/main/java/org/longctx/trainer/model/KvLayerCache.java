package org.longctx.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;

/** Keys and values of every token seen, concatenated along the sequence: the ordinary KV cache of one layer. */
public final class KvLayerCache implements LayerCache {
  private final NDManager manager;
  private NDArray keys; // [batch, kvHeads, length, headDim]
  private NDArray values; // [batch, kvHeads, length, headDim]

  public KvLayerCache(Device device) {
    this.manager = NDManager.newBaseManager(device);
  }

  @Override
  public KeysValues append(NDArray newKeys, NDArray newValues, NDManager step) {
    keys = appended(keys, newKeys);
    values = appended(values, newValues);
    return held(step);
  }

  private NDArray appended(NDArray old, NDArray fresh) {
    NDArray all = old == null ? fresh : old.concat(fresh, 2); // [batch, kvHeads, length + seq, headDim]
    all.attach(manager);
    if (old != null) {
      old.close();
    }
    return all;
  }

  /** The keys and values held, as arrays of {@code step}'s manager, or null while empty. */
  KeysValues held(NDManager step) {
    return keys == null ? null : new KeysValues(keys.get(step, new NDIndex("...")), values.get(step, new NDIndex("...")));
  }

  /** Appends everything this cache holds to {@code other} and forgets it here. */
  void moveTo(KvLayerCache other) {
    if (keys == null) {
      return;
    }
    boolean adopted = other.keys == null; // then these very arrays become the other cache's
    other.keys = other.appended(other.keys, keys);
    other.values = other.appended(other.values, values);
    if (!adopted) {
      keys.close();
      values.close();
    }
    keys = null;
    values = null;
  }

  @Override
  public long length() {
    return keys == null ? 0 : keys.getShape().get(2);
  }

  @Override
  public void clear() {
    if (keys != null) {
      keys.close();
      values.close();
      keys = null;
      values = null;
    }
  }

  @Override
  public void close() {
    clear();
    manager.close();
  }
}
