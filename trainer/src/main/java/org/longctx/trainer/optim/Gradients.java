package org.longctx.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.longctx.kernels.NativeKernels;
import org.longctx.trainer.model.Casts;

/**
 * The float32 gradients of one optimizer step, one per parameter, in the parameters' order.
 *
 * <p>For a float32 parameter the array <em>is</em> the parameter's own gradient (no copy):
 * scaling it here changes the gradient DJL accumulates into, which is zeroed after the step
 * anyway. For a float16 parameter it is a float32 copy, made while dividing by the loss scale:
 * unscaling in float16 would flush the small gradients that loss scaling exists to keep. The
 * copies cost 4 bytes per float16 parameter for the duration of the step.
 *
 * <p>On a GPU with the native kernel library, reading, the global norm, scaling and zeroing are
 * one multi-tensor call each ({@link NativeKernels#float32Gradients} and friends) instead of one
 * DJL operation per parameter; the arithmetic is the same (float32, the same rounding of the
 * multiplier), only the norm's summation order differs.
 *
 * <p>Read them after the last backward of the step and close them before the next forward.
 */
public final class Gradients implements AutoCloseable {

  private final List<NamedParameter> parameters;
  private final List<NDArray> grads;  // float32, [same shape as the parameter]
  private final boolean multiTensor;

  private Gradients(List<NamedParameter> parameters, List<NDArray> grads, boolean multiTensor) {
    this.parameters = parameters;
    this.grads = grads;
    this.multiTensor = multiTensor;
  }

  /**
   * Whether the native multi-tensor calls apply: the parameters are on a GPU and the native
   * library is loaded (on CPU the per-parameter DJL path is the one CI tests).
   */
  public static boolean multiTensorAvailable(List<NamedParameter> parameters) {
    return !parameters.isEmpty() && parameters.get(0).array().getDevice().isGpu() && NativeKernels.available();
  }

  /**
   * Reads every parameter's gradient as float32, multiplied by {@code multiplier} rounded to
   * float32 (the inverse loss scale, see {@link LossScaler#unscale}; {@code 1} leaves float32
   * gradients untouched).
   *
   * @param parameters autograd leaves that went through backward
   * @param multiplier finite and positive
   */
  public static Gradients read(List<NamedParameter> parameters, double multiplier) {
    return read(parameters, multiplier, multiTensorAvailable(parameters));
  }

  /** {@link #read(List, double)} with the path chosen by the caller (checks compare both). */
  public static Gradients read(List<NamedParameter> parameters, double multiplier, boolean multiTensor) {
    if (!(multiplier > 0) || Double.isInfinite(multiplier)) {
      throw new IllegalArgumentException("gradient multiplier: must be finite and > 0, got " + multiplier);
    }
    if (multiTensor) {
      List<NDArray> grads = NativeKernels.float32Gradients(arrays(parameters), (float) multiplier);
      grads.forEach(NDScope::unregister);  // owned here, whatever scope the caller has open
      return new Gradients(List.copyOf(parameters), grads, true);
    }
    List<NDArray> grads = new ArrayList<>(parameters.size());
    try {
      for (NamedParameter p : parameters) {
        NDArray raw = p.array().getGradient();  // a new handle on the gradient tensor, same storage
        NDArray grad;
        if (p.isHalf()) {
          grad = Casts.to(raw, DataType.FLOAT32, false); // a float32 copy (bfloat16: the native cast)
          raw.close();
        } else {
          grad = raw;
        }
        NDScope.unregister(grad);  // owned here, whatever scope the caller has open
        grads.add(grad);
        if (multiplier != 1.0) {
          grad.muli((float) multiplier);
        }
      }
    } catch (RuntimeException e) {
      grads.forEach(NDArray::close);
      throw e;
    }
    return new Gradients(List.copyOf(parameters), grads, false);
  }

  private static List<NDArray> arrays(List<NamedParameter> parameters) {
    List<NDArray> arrays = new ArrayList<>(parameters.size());
    for (NamedParameter p : parameters) {
      arrays.add(p.array());
    }
    return arrays;
  }

  /** The parameters these gradients belong to, in order. */
  public List<NamedParameter> parameters() {
    return parameters;
  }

  /** Number of gradients (= parameters). */
  public int size() {
    return grads.size();
  }

  /** The float32 gradient of parameter {@code i}; in-place changes are seen by the step. */
  public NDArray get(int i) {
    return grads.get(i);
  }

  /** All float32 gradients, in parameter order (e.g. for an all-reduce across replicas). */
  public List<NDArray> arrays() {
    return Collections.unmodifiableList(grads);
  }

  /**
   * The global L2 norm over all gradients, as torch.nn.utils.clip_grad_norm_ computes it: the
   * norm of the per-tensor norms, in float32. NaN or infinite when any gradient is, or when
   * the squares overflow float32 (either way the step must not be applied).
   */
  @SuppressWarnings("try")  // the scope closes temporaries without being referenced
  public double globalNorm() {
    if (grads.isEmpty()) {
      return 0.0;
    }
    if (multiTensor) {
      return NativeKernels.globalNorm(grads);
    }
    try (NDScope scope = new NDScope()) {
      NDList norms = new NDList(grads.size());
      for (NDArray g : grads) {
        norms.add(g.norm());  // [] float32
      }
      return NDArrays.stack(norms).norm().getFloat();  // one device-to-host transfer per step
    }
  }

  /** Names of the parameters whose gradient holds NaN or infinity (to say why a step was skipped). */
  public List<String> nonFiniteNames() {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < grads.size(); i++) {
      try (NDScope scope = new NDScope()) {
        NDArray g = grads.get(i);
        if (g.isNaN().any().getBoolean() || g.isInfinite().any().getBoolean()) {
          names.add(parameters.get(i).name());
        }
      }
    }
    return names;
  }

  /** Multiplies every gradient by {@code factor} in place (float32 arithmetic). */
  public void scale(float factor) {
    if (multiTensor) {
      NativeKernels.multiplyInPlace(grads, factor);
      return;
    }
    for (NDArray g : grads) {
      g.muli(factor);
    }
  }

  /**
   * Sets every parameter's accumulated gradient to zero, in place. Call after each optimizer
   * step (applied or skipped): DJL adds each backward's gradients to the previous ones. Writes
   * the zeros rather than subtracting or multiplying, so NaN and infinity are cleared too.
   */
  @SuppressWarnings("try")
  public static void zero(List<NamedParameter> parameters) {
    if (multiTensorAvailable(parameters)) {
      NativeKernels.zeroGradients(arrays(parameters));
      return;
    }
    NDIndex all = new NDIndex("...");
    for (NamedParameter p : parameters) {
      try (NDScope scope = new NDScope()) {
        p.array().getGradient().set(all, 0f);
      }
    }
  }

  /** Releases the float32 copies and the gradient handles (not the gradients themselves). */
  @Override
  public void close() {
    for (NDArray g : grads) {
      g.close();
    }
  }
}
