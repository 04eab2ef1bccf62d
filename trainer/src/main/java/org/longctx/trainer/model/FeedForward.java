package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import java.util.Map;

/** SwiGLU: {@code down(silu(gate(x)) · up(x))}. */
final class FeedForward {
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

  /** @param x {@code [batch, seq, hidden]} */
  NDArray forward(NDArray x) {
    NDArray g = Linear.apply(x, gate, gateBias); // [batch, seq, intermediate]
    NDArray silu = g.mul(Activation.sigmoid(g));
    return Linear.apply(silu.mul(Linear.apply(x, up, upBias)), down, downBias); // [batch, seq, hidden]
  }
}
