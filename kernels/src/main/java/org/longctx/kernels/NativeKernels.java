package org.longctx.kernels;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import java.util.ArrayList;
import java.util.List;

/**
 * Native kernels on DJL's PyTorch arrays, from {@code liblongctx_native.so} (module
 * {@code native/}, built against the libtorch DJL runs on; {@code docs/gpu.md}).
 *
 * <p>Results are new arrays attached to the first input's manager. Operations run in the current
 * autograd mode, so inside a DJL {@code GradientCollector} they are recorded and
 * {@code backward} runs through them. Arguments are checked here first (with messages naming
 * the bad value), then the library must be loaded: every operation throws
 * {@link IllegalStateException} when it is not, so callers test {@link #available()} once and
 * otherwise keep their pure-DJL path. Errors inside libtorch arrive as DJL's
 * {@code EngineException}.
 *
 * <p>DJL reports bfloat16 arrays as {@code DataType.UNKNOWN} and aborts the JVM when asked to
 * create or convert them itself (docs/gpu.md, "cast"): make and leave bfloat16 with
 * {@link #cast}, ask its real dtype with {@link #dtype}, and keep DJL ops that take a dtype
 * argument (softmax, ones/zeros-like, {@code toType}) away from bfloat16 arrays.
 */
public final class NativeKernels {
  /** PyTorch's default ignore index of {@code cross_entropy}, as in Hugging Face labels. */
  public static final long IGNORE_INDEX = -100;

  /** float32 elements per cross-entropy chunk: 128 MiB of temporaries per pass. */
  static final long CROSS_ENTROPY_CHUNK_ELEMENTS = 1L << 25;

  private static final NativeLoader LOADER = new NativeLoader(
      () -> System.getProperty(NativeLoader.PROPERTY), () -> System.getenv(NativeLoader.ENV),
      () -> Engine.getEngine("PyTorch"), System::load);

  private NativeKernels() {}

  /**
   * Whether the kernels can be used: loads the library on the first call (starting DJL's PyTorch
   * engine first). False when no library is configured; {@link IllegalStateException} when one is
   * configured ({@code -Dlongctx.native.lib} or {@code LONGCTX_NATIVE_LIB}) but cannot be loaded.
   */
  public static boolean available() {
    return LOADER.tryLoad();
  }

  /** Loads the library or throws {@link IllegalStateException} saying why it cannot. */
  public static void load() {
    if (!LOADER.tryLoad()) {
      throw new IllegalStateException("native kernels requested but " + LOADER.status());
    }
  }

  /** One line for logs: where the library was loaded from, or why not. */
  public static String status() {
    return LOADER.status();
  }

  /**
   * Causal scaled-dot-product attention, {@code at::scaled_dot_product_attention} (FlashAttention-2
   * or memory-efficient kernels on GPU), scale {@code 1/sqrt(headDim)}.
   *
   * @see #attention(NDArray, NDArray, NDArray, long, double)
   */
  public static NDArray attention(NDArray q, NDArray k, NDArray v, long offset) {
    return attention(q, k, v, offset, 0, false);
  }

  /**
   * Causal scaled-dot-product attention with grouped-query heads and cached keys.
   *
   * @param q queries {@code [batch, heads, qLen, headDim]}
   * @param k keys {@code [batch, kvHeads, kLen, headDim]}; {@code heads} a multiple of
   *     {@code kvHeads}: query head {@code h} reads kv head {@code h / (heads / kvHeads)} (as
   *     transformers' {@code repeat_kv})
   * @param v values, shaped like {@code k}
   * @param offset {@code kLen - qLen}: cached keys before the first query; query {@code i} sees
   *     keys {@code 0 .. offset + i}
   * @param scale softmax scale; 0 means {@code 1/sqrt(headDim)}
   * @return {@code [batch, heads, qLen, headDim]}, dtype of {@code q}
   */
  public static NDArray attention(NDArray q, NDArray k, NDArray v, long offset, double scale) {
    return attention(q, k, v, offset, scale, false);
  }

  /** {@code explicitMask}: use the boolean-mask path also when offset is 0 (checks). */
  static NDArray attention(NDArray q, NDArray k, NDArray v, long offset, double scale, boolean explicitMask) {
    checkAttention(q.getShape(), k.getShape(), v.getShape(), offset, scale);
    requireLoaded();
    return wrap(q, NativeLibrary.attention(handle(q, "q"), handle(k, "k"), handle(v, "v"), offset, scale,
        explicitMask));
  }

  static void checkAttention(Shape q, Shape k, Shape v, long offset, double scale) {
    if (q.dimension() != 4 || k.dimension() != 4 || v.dimension() != 4) {
      throw new IllegalArgumentException("attention wants q, k, v of rank 4 [batch, heads, len, headDim], got q "
          + q + ", k " + k + ", v " + v);
    }
    if (!k.equals(v)) {
      throw new IllegalArgumentException("attention wants k and v of one shape, got k " + k + ", v " + v);
    }
    if (q.get(0) != k.get(0) || q.get(3) != k.get(3)) {
      throw new IllegalArgumentException("attention wants q and k with equal batch and headDim, got q " + q
          + ", k " + k);
    }
    long heads = q.get(1);
    long kvHeads = k.get(1);
    if (kvHeads <= 0 || heads % kvHeads != 0) {
      throw new IllegalArgumentException("attention wants query heads (" + heads
          + ") to be a multiple of kv heads (" + kvHeads + "), got q " + q + ", k " + k);
    }
    long qLen = q.get(2);
    long kLen = k.get(2);
    if (offset < 0 || offset != kLen - qLen) {
      throw new IllegalArgumentException("attention offset must be kLen - qLen = " + kLen + " - " + qLen + " = "
          + (kLen - qLen) + " (cached keys before the first query, >= 0), got " + offset);
    }
    if (!(scale >= 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("attention scale must be finite and >= 0 (0: 1/sqrt(headDim)), got "
          + scale);
    }
  }

  /** {@code x.to(dtype)}, recorded by autograd (unlike DJL's {@code toType}). */
  public static NDArray cast(NDArray x, String dtype) {
    return cast(x, KernelDType.of(dtype));
  }

  /** {@code x.to(dtype)}, recorded by autograd (unlike DJL's {@code toType}). */
  public static NDArray cast(NDArray x, KernelDType dtype) {
    if (dtype == null) {
      throw new IllegalArgumentException("cast target dtype is null");
    }
    long h = handle(x, "x");
    requireLoaded();
    return wrap(x, NativeLibrary.cast(h, dtype.ordinal()));
  }

  /**
   * The array's real dtype as PyTorch names it without {@code torch.} ({@code float32},
   * {@code float16}, {@code bfloat16}, {@code int64}, ...); DJL says UNKNOWN for bfloat16.
   */
  public static String dtype(NDArray x) {
    long h = handle(x, "x");
    requireLoaded();
    return NativeLibrary.dtype(h);
  }

  /**
   * Mean cross-entropy in float32 over the positions whose target is not {@code ignoreIndex},
   * with float32 temporaries of at most {@value #CROSS_ENTROPY_CHUNK_ELEMENTS} elements per pass.
   *
   * @see #crossEntropy(NDArray, NDArray, long, long)
   */
  public static NDArray crossEntropy(NDArray logits, NDArray targets, long ignoreIndex) {
    long vocab = logits.getShape().dimension() == 0 ? 1 : logits.getShape().get(logits.getShape().dimension() - 1);
    return crossEntropy(logits, targets, ignoreIndex, Math.max(1, CROSS_ENTROPY_CHUNK_ELEMENTS / Math.max(1, vocab)));
  }

  /**
   * Mean cross-entropy computed in float32 from logits of any floating dtype, without a float32
   * copy of the whole logits: rows go through in chunks of {@code chunkRows}, forward and
   * backward. Same value and gradient as {@code torch.nn.functional.cross_entropy(logits.float(),
   * targets, ignore_index=ignoreIndex)}, including NaN when every target is ignored.
   *
   * @param logits {@code [..., vocab]}, float32, float16 or bfloat16
   * @param targets {@code [...]} (logits' shape without vocab), integer class ids
   * @param ignoreIndex targets equal to it count neither in the sum nor the mean (e.g. -100)
   * @param chunkRows rows per float32 pass
   * @return a float32 scalar
   */
  public static NDArray crossEntropy(NDArray logits, NDArray targets, long ignoreIndex, long chunkRows) {
    checkCrossEntropy(logits.getShape(), targets.getShape(), targets.getDataType(), chunkRows);
    requireLoaded();
    return wrap(logits, NativeLibrary.crossEntropy(handle(logits, "logits"), handle(targets, "targets"),
        ignoreIndex, chunkRows));
  }

  /**
   * PyTorch's own {@code cross_entropy} on the logits in their dtype (no float32 pass), kept for
   * the comparison in the kernel checks (accuracy and memory of the chunked version).
   */
  static NDArray crossEntropyAten(NDArray logits, NDArray targets, long ignoreIndex) {
    checkCrossEntropy(logits.getShape(), targets.getShape(), targets.getDataType(), 1);
    requireLoaded();
    return wrap(logits, NativeLibrary.crossEntropyAten(handle(logits, "logits"), handle(targets, "targets"),
        ignoreIndex));
  }

  static void checkCrossEntropy(Shape logits, Shape targets, DataType targetType, long chunkRows) {
    if (logits.dimension() < 1) {
      throw new IllegalArgumentException("crossEntropy wants logits [..., vocab], got a scalar");
    }
    Shape expected = logits.slice(0, logits.dimension() - 1);
    if (!targets.equals(expected)) {
      throw new IllegalArgumentException("crossEntropy wants targets of shape " + expected + " for logits "
          + logits + ", got " + targets);
    }
    if (!targetType.isInteger()) {
      throw new IllegalArgumentException("crossEntropy wants integer targets, got " + targetType);
    }
    if (chunkRows <= 0) {
      throw new IllegalArgumentException("crossEntropy chunkRows must be positive, got " + chunkRows);
    }
  }

  /**
   * One AdamW step over all parameters at once with PyTorch's multi-tensor fused kernel (what
   * {@code torch.optim.AdamW(fused=True)} runs), in place and outside autograd. The lists are
   * parallel: entry {@code i} of each belongs to parameter {@code i}. Each step counter is a
   * one-element float32 array on the parameter's device, incremented before the update as
   * {@code torch.optim.AdamW} does (start them at 0).
   *
   * @param gradScale optional (null) one-element float32: gradients are divided by it inside the
   *     kernel (dynamic loss scaling)
   * @param foundInf optional (null) one-element float32: where it is 1 (the scaler found inf/NaN)
   *     nothing is updated and the step counters stay
   */
  public static void fusedAdamW(List<NDArray> params, List<NDArray> grads, List<NDArray> expAvgs,
      List<NDArray> expAvgSqs, List<NDArray> steps, AdamW hyper, NDArray gradScale, NDArray foundInf) {
    if (hyper == null) {
      throw new IllegalArgumentException("fusedAdamW hyperparameters are null");
    }
    checkAdamWLists(params, grads, expAvgs, expAvgSqs, steps);
    long scaleHandle = gradScale == null ? 0 : handle(gradScale, "gradScale");
    long infHandle = foundInf == null ? 0 : handle(foundInf, "foundInf");
    long[] p = handles(params, "params");
    long[] g = handles(grads, "grads");
    long[] m = handles(expAvgs, "expAvgs");
    long[] s = handles(expAvgSqs, "expAvgSqs");
    long[] st = handles(steps, "steps");
    requireLoaded();
    NativeLibrary.fusedAdamW(p, g, m, s, st, hyper.lr(), hyper.beta1(), hyper.beta2(), hyper.weightDecay(),
        hyper.eps(), scaleHandle, infHandle);
  }

  static void checkAdamWLists(List<NDArray> params, List<NDArray> grads, List<NDArray> expAvgs,
      List<NDArray> expAvgSqs, List<NDArray> steps) {
    if (params == null || grads == null || expAvgs == null || expAvgSqs == null || steps == null) {
      throw new IllegalArgumentException("fusedAdamW lists must not be null");
    }
    int n = params.size();
    if (n == 0) {
      throw new IllegalArgumentException("fusedAdamW wants at least one parameter");
    }
    if (grads.size() != n || expAvgs.size() != n || expAvgSqs.size() != n || steps.size() != n) {
      throw new IllegalArgumentException("fusedAdamW wants lists of one length, got params " + n + ", grads "
          + grads.size() + ", expAvgs " + expAvgs.size() + ", expAvgSqs " + expAvgSqs.size() + ", steps "
          + steps.size());
    }
    Device device = params.get(0).getDevice();
    for (int i = 0; i < n; i++) {
      Shape shape = params.get(i).getShape();
      checkSame("grads", i, shape, grads.get(i).getShape());
      checkSame("expAvgs", i, shape, expAvgs.get(i).getShape());
      checkSame("expAvgSqs", i, shape, expAvgSqs.get(i).getShape());
      if (steps.get(i).getShape().size() != 1) {
        throw new IllegalArgumentException("fusedAdamW steps[" + i + "] must hold one element, got shape "
            + steps.get(i).getShape());
      }
      if (!params.get(i).getDevice().equals(device)) {
        throw new IllegalArgumentException("fusedAdamW wants all parameters on one device, params[0] is on "
            + device + ", params[" + i + "] on " + params.get(i).getDevice());
      }
    }
  }

  private static void checkSame(String list, int i, Shape param, Shape other) {
    if (!param.equals(other)) {
      throw new IllegalArgumentException("fusedAdamW " + list + "[" + i + "] has shape " + other
          + " but params[" + i + "] has " + param);
    }
  }

  /**
   * RMSNorm in one call: {@code weight · x / sqrt(mean(x²) + eps)} with the mean and the division
   * in float32 ({@code at::rms_norm}: PyTorch's fused kernel on GPUs). It rounds once, after the
   * weight, where the pure-DJL {@code RmsNorm} (and transformers' LlamaRMSNorm) also round the
   * normed value before the weight: the results agree to that rounding.
   *
   * @param x {@code [..., hidden]}
   * @param weight {@code [hidden]}
   */
  public static NDArray rmsNorm(NDArray x, NDArray weight, float eps) {
    Shape s = x.getShape();
    if (s.dimension() < 1 || weight.getShape().dimension() != 1 || weight.getShape().get(0) != s.get(s.dimension() - 1)) {
      throw new IllegalArgumentException("rmsNorm wants x [..., hidden] and weight [hidden], got " + s + " and " + weight.getShape());
    }
    requireLoaded();
    return wrap(x, NativeLibrary.rmsNorm(handle(x, "x"), handle(weight, "weight"), eps));
  }

  /**
   * The rotary embedding in one call: {@code x·cos + rotate_half(x)·sin}, {@code rotate_half([x1, x2]) = [−x2, x1]}
   * over the halves of the last axis; cos and sin broadcast against x and take no gradient. Its
   * backward is written out ({@code g·cos + rotate_halfᵀ(g·sin)}): the values autograd would
   * reach through the recorded ops, with half the kernels.
   */
  public static NDArray rope(NDArray x, NDArray cos, NDArray sin) {
    long last = x.getShape().get(x.getShape().dimension() - 1);
    if (last % 2 != 0) {
      throw new IllegalArgumentException("rope: x's last axis must be even to rotate halves, got shape " + x.getShape());
    }
    requireLoaded();
    return wrap(x, NativeLibrary.rope(handle(x, "x"), handle(cos, "cos"), handle(sin, "sin")));
  }

  /** SwiGLU's gate in one call: {@code silu(gate) · up} ({@code at::silu}, one kernel). */
  public static NDArray swiGlu(NDArray gate, NDArray up) {
    if (!gate.getShape().equals(up.getShape())) {
      throw new IllegalArgumentException("swiGlu wants gate and up of one shape, got " + gate.getShape() + " and " + up.getShape());
    }
    requireLoaded();
    return wrap(gate, NativeLibrary.swiGlu(handle(gate, "gate"), handle(up, "up")));
  }

  /**
   * The gradients of autograd leaves as float32, times {@code multiplier}, in one call (torch's
   * multi-tensor kernels): a float32 gradient is the parameter's own gradient tensor, multiplied
   * in place; other dtypes are float32 copies. The returned arrays belong to the parameters'
   * managers; the caller closes them.
   *
   * @param params leaves that went through backward (every one must have a gradient)
   * @param multiplier e.g. the inverse loss scale; {@code 1} leaves float32 gradients untouched
   */
  public static List<NDArray> float32Gradients(List<NDArray> params, double multiplier) {
    if (params.isEmpty()) {
      return List.of();
    }
    requireLoaded();
    long[] out = NativeLibrary.float32Gradients(handles(params, "params"), multiplier);
    List<NDArray> grads = new ArrayList<>(out.length);
    for (int i = 0; i < out.length; i++) {
      grads.add(wrap(params.get(i), out[i]));
    }
    return grads;
  }

  /**
   * The L2 norm of all arrays together ({@code clip_grad_norm_}'s total norm: the norm of the
   * per-array norms, in float32), with one device-to-host transfer.
   */
  public static double globalNorm(List<NDArray> arrays) {
    if (arrays.isEmpty()) {
      return 0.0;
    }
    requireLoaded();
    return NativeLibrary.globalNorm(handles(arrays, "arrays"));
  }

  /** Multiplies every array by {@code factor} in place, in one call. */
  public static void multiplyInPlace(List<NDArray> arrays, double factor) {
    if (!arrays.isEmpty()) {
      requireLoaded();
      NativeLibrary.multiplyInPlace(handles(arrays, "arrays"), factor);
    }
  }

  /** Writes zeros into the accumulated gradient of every leaf that has one, in one call. */
  public static void zeroGradients(List<NDArray> params) {
    if (!params.isEmpty()) {
      requireLoaded();
      NativeLibrary.zeroGradients(handles(params, "params"));
    }
  }

  /**
   * {@code targets[i] = sources[i]} rounded to the target's dtype, in place and outside autograd
   * (targets may be parameters), in one call.
   */
  public static void copyInto(List<NDArray> targets, List<NDArray> sources) {
    if (targets.size() != sources.size()) {
      throw new IllegalArgumentException("copyInto wants lists of one length, got " + targets.size() + " targets and "
          + sources.size() + " sources");
    }
    for (int i = 0; i < targets.size(); i++) {
      if (!targets.get(i).getShape().equals(sources.get(i).getShape())) {
        throw new IllegalArgumentException("copyInto target " + i + " has shape " + targets.get(i).getShape()
            + " but source " + sources.get(i).getShape());
      }
    }
    if (!targets.isEmpty()) {
      requireLoaded();
      NativeLibrary.copyInto(handles(targets, "targets"), handles(sources, "sources"));
    }
  }

  /**
   * TF32 tensor cores for float32 matmuls and convolutions
   * ({@code torch.backends.cuda.matmul.allow_tf32}); process-wide.
   */
  public static void setTf32(boolean on) {
    requireLoaded();
    NativeLibrary.setTf32(on);
  }

  /** Whether float32 matmuls may use TF32. */
  public static boolean tf32() {
    requireLoaded();
    return NativeLibrary.tf32();
  }

  /** Waits until the GPU has finished all queued work (for timings); nothing on CPU. */
  public static void synchronize(Device device) {
    requireLoaded();
    if (device.isGpu()) {
      NativeLibrary.synchronize(device.getDeviceId());
    }
  }

  /**
   * Peak bytes held by PyTorch's CUDA caching allocator on the device since the last
   * {@link #resetPeakMemory} ({@code torch.cuda.max_memory_allocated}); -1 on CPU.
   */
  public static long peakMemoryBytes(Device device) {
    requireLoaded();
    return device.isGpu() ? NativeLibrary.peakMemory(device.getDeviceId()) : -1;
  }

  /** Bytes PyTorch's CUDA caching allocator has handed out now ({@code torch.cuda.memory_allocated}); -1 on CPU. */
  public static long allocatedMemoryBytes(Device device) {
    requireLoaded();
    return device.isGpu() ? NativeLibrary.allocatedMemory(device.getDeviceId()) : -1;
  }

  /** Releases cached free blocks and restarts the peak counter of the device. */
  public static void resetPeakMemory(Device device) {
    requireLoaded();
    if (device.isGpu()) {
      NativeLibrary.resetPeakMemory(device.getDeviceId());
    }
  }

  static void requireLoaded() {
    if (!LOADER.tryLoad()) {
      throw new IllegalStateException("native kernels are not available: " + LOADER.status()
          + "; check NativeKernels.available() and use the pure-DJL path otherwise");
    }
  }

  static long handle(NDArray x, String name) {
    if (x == null) {
      throw new IllegalArgumentException(name + " is null");
    }
    if (!(x instanceof PtNDArray)) {
      throw new IllegalArgumentException(name + " is a " + x.getClass().getSimpleName() + " of engine "
          + x.getManager().getEngine().getEngineName() + "; native kernels need PyTorch engine arrays");
    }
    return ((PtNDArray) x).getHandle();
  }

  static long[] handles(List<NDArray> xs, String name) {
    long[] out = new long[xs.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = handle(xs.get(i), name + "[" + i + "]");
    }
    return out;
  }

  private static NDArray wrap(NDArray like, long handle) {
    PtNDManager manager = ((PtNDArray) like).getManager();
    return new PtNDArray(manager, handle);
  }
}
