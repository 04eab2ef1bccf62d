package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;
import org.longctx.kernels.NativeKernels;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/** Root-mean-square norm: {@code weight · x / sqrt(mean(x²) + eps)}, the mean taken in float32. */
final class RmsNorm {
  private final NDArray weight; // [hidden]
  private final float eps;

  RmsNorm(NDArray weight, double eps) {
    this.weight = weight;
    this.eps = (float) eps;
  }

  NDArray forward(NDArray x, ForwardPass pass) {
    if (pass.nativeLayerOps()) {
      return NativeKernels.rmsNorm(x, weight, eps); // PyTorch's fused RMSNorm: the same up to one rounding
    }
    return forward(x);
  }

  NDArray forward(NDArray x) {
    DataType type = Casts.typeOf(x);
    boolean recording = weight.hasGradient(); // the model is being trained
    if (!Casts.canRoundTrip(type, DataType.FLOAT32, recording)) {
      return forwardTrainableHalf(x);
    }
    // every intermediate is closed after use (autograd keeps what backward needs): the float32
    // square and quotient are two float32 copies of x that would otherwise live until the step ends
    NDArray x32 = Casts.to(x, DataType.FLOAT32, recording); // x itself when x is float32
    try (NDArray square = x32.square();
        NDArray meanSquare = square.mean(new int[] {-1}, true); // [..., 1]
        NDArray rms = meanSquare.add(eps).sqrt();
        NDArray normed = x32.div(rms)) {
      NDArray rounded = Casts.to(normed, type, recording);
      try {
        return rounded.mul(weight);
      } finally {
        Casts.closeCopy(rounded, normed);
      }
    } finally {
      Casts.closeCopy(x32, x);
    }
  }

  /**
   * Float16 training without a differentiable cast: the same norm with no cast (a DJL cast here
   * would cut the gradient of everything below the norm). {@code sqrt(mean(x²) + eps)} is
   * computed as the 2-norm of {@code [x/√d, √eps]}: PyTorch reduces a norm in float32
   * internally, so x² never exists in float16 (it overflows for |x| > 256, which large models'
   * residual streams reach), and eps enters exactly, not rounded away next to x².
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
