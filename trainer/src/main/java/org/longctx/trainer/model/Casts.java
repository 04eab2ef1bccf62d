package org.longctx.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.function.BiFunction;

/**
 * Dtype casts that keep the autograd graph intact, the one helper for every cast inside a
 * forward pass.
 *
 * <p>Why: DJL's {@code toType} runs under PyTorch's no-grad guard, so a cast inside a recorded
 * graph cuts it (backward then fails, or silently stops at the cast). DJL cannot tell whether an
 * intermediate array is being recorded ({@code hasGradient()} answers false for every
 * non-leaf), so callers say it: {@code recording} is true while the model's parameters take
 * gradients. Three cases stay differentiable without help:
 * <ul>
 *   <li>nothing is recorded (inference): DJL's cast is fine;</li>
 *   <li>an up-cast to float32: the product with a float32 {@code 1} promotes the array, and
 *       autograd records the product;</li>
 *   <li>anything else, when a provider is {@linkplain #install installed} (the native extension's
 *       differentiable {@code Tensor.to}).</li>
 * </ul>
 * Callers ask {@link #canRoundTrip} first and keep the computation in the narrower type when the
 * answer is no (what float16 training without the native extension does).
 */
public final class Casts {
  private static volatile BiFunction<NDArray, DataType, NDArray> provider;

  private Casts() {}

  /**
   * Installs a differentiable cast (e.g. the native extension's). {@code null} removes it.
   * Its types become available as {@link Precision}s.
   */
  public static void install(BiFunction<NDArray, DataType, NDArray> differentiableCast) {
    provider = differentiableCast;
  }

  /** Whether this JVM can hold arrays of {@code type} at all (bfloat16 needs a provider). */
  static boolean supports(DataType type) {
    return type != DataType.BFLOAT16 || provider != null;
  }

  /**
   * Whether an array of type {@code narrow} may be widened to {@code wide} and the results
   * narrowed back without cutting a recorded gradient: always in inference, with a provider, or
   * when nothing needs narrowing. Float16 training with DJL alone says no, so such code stays in
   * float16 (as the attention softmax and RMSNorm then do).
   */
  public static boolean canRoundTrip(DataType narrow, DataType wide, boolean recording) {
    return narrow == wide || !recording || provider != null;
  }

  /** Closes {@code cast}, the result of {@link #to} on {@code original}, unless it is {@code original} itself. */
  static void closeCopy(NDArray cast, NDArray original) {
    if (cast != original) {
      cast.close();
    }
  }

  /**
   * {@code x} as {@code type}, differentiable when {@code recording}.
   *
   * @throws IllegalStateException for a narrowing cast while recording without a provider
   */
  public static NDArray to(NDArray x, DataType type, boolean recording) {
    if (typeOf(x) == type) {
      return x;
    }
    BiFunction<NDArray, DataType, NDArray> p = provider;
    // DJL's engine aborts the JVM on a bfloat16 cast (and reports bfloat16 arrays as UNKNOWN):
    // those go to the provider whether recorded or not
    boolean djlCanCast = type != DataType.BFLOAT16 && typeOf(x) != DataType.BFLOAT16;
    if (!djlCanCast && p == null) {
      throw new IllegalStateException("a " + x.getDataType() + " → " + type + " cast needs the native kernel library (DJL has no "
          + "bfloat16)");
    }
    if (!recording && djlCanCast) {
      return x.toType(type, false);
    }
    if (p != null) {
      return p.apply(x, type);
    }
    if (type == DataType.FLOAT32) {
      // a float32 one, made in PyTorch's memory (see Scalars), promotes x in a recorded product;
      // one-dimensional, because a 0-d operand does not promote within the floating types
      return x.mul(x.getManager().ones(new Shape(1), DataType.FLOAT32));
    }
    throw new IllegalStateException("a " + x.getDataType() + " → " + type + " cast inside the autograd graph needs the native "
        + "kernel library (DJL's casts are not differentiable)");
  }

  /**
   * The type of {@code x}. DJL reports the bfloat16 arrays the native library makes as
   * {@code UNKNOWN}; they are the only arrays of a type DJL does not know that longctx makes.
   */
  public static DataType typeOf(NDArray x) {
    DataType t = x.getDataType();
    return t == DataType.UNKNOWN ? DataType.BFLOAT16 : t;
  }

  /** The most negative finite value of a floating type: what a masked score is set to, as transformers does. */
  public static float lowest(DataType type) {
    return switch (type) {
      case FLOAT16 -> -65504f;
      case BFLOAT16 -> -3.3895314e38f;
      default -> -Float.MAX_VALUE;
    };
  }
}
