package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;

/** {@code x·Wᵀ + b} with torch's own linear kernel. */
final class Linear {
  private Linear() {}

  /** @param bias null for none */
  static NDArray apply(NDArray x, NDArray weight, NDArray bias) {
    return (bias == null ? ai.djl.nn.core.Linear.linear(x, weight) : ai.djl.nn.core.Linear.linear(x, weight, bias)).singletonOrThrow();
  }
}
