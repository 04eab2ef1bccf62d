package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;
import org.longctx.kernels.NativeKernels;
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
  NDArray forward(NDArray x, ForwardPass pass) {
    if (pass.nativeLayerOps()) {
      try (NDArray g = Linear.apply(x, gate, gateBias); NDArray u = Linear.apply(x, up, upBias); NDArray gated = NativeKernels.swiGlu(g, u)) {
        return Linear.apply(gated, down, downBias);
      }
    }
    try (NDArray g = Linear.apply(x, gate, gateBias); // [batch, seq, intermediate]
        NDArray sigmoid = Activation.sigmoid(g);
        NDArray silu = g.mul(sigmoid);
        NDArray u = Linear.apply(x, up, upBias);
        NDArray gated = silu.mul(u)) {
      return Linear.apply(gated, down, downBias); // [batch, seq, hidden]
    }
  }
}
