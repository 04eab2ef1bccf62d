package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/**
 * Causal attention by sequence index: query {@code i} (the {@code i}-th new token) is the token
 * at index {@code offset + i} and sees keys {@code 0 … offset + i}. The order of tokens decides,
 * not their position ids (PoSE's skipped positions keep the sequence order).
 *
 * @param offset keys before the first query (cached tokens)
 */
public record CausalMask(long offset) implements AttentionMask {

  public CausalMask {
    if (offset < 0) {
      throw new IllegalArgumentException("offset: must be ≥ 0, got " + offset);
    }
  }

  @Override
  public long keyLimit(long queryEnd) {
    return offset + queryEnd;
  }

  @Override
  public NDArray hidden(NDManager m, long queryStart, long queryEnd, long keys) {
    long first = offset + queryStart;
    if (keys <= first + 1) { // no key lies after any query of this chunk
      return null;
    }
    NDArray queryIndex = m.arange(first, offset + queryEnd, 1L, DataType.INT64).expandDims(1); // [c, 1]
    NDArray keyIndex = m.arange(0L, keys, 1L, DataType.INT64).expandDims(0); // [1, keys]
    return keyIndex.gt(queryIndex); // [c, keys]: the key comes after the query
  }
}
