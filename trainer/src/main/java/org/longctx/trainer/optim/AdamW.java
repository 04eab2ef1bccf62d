package org.longctx.trainer.optim;

import org.longctx.kernels.NativeKernels;
import org.longctx.trainer.model.Casts;
import org.longctx.trainer.model.Scalars;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * AdamW with decoupled weight decay and bias correction, step for step what
 * {@code torch.optim.AdamW} (single-tensor path) computes. For each parameter {@code p} with
 * float32 gradient {@code g}, at step {@code t} (1 for the first applied step) and learning
 * rate {@code lr}:
 * <pre>
 *   p      *= 1 - lr * weight_decay                   (only where the decay rule applies)
 *   m       = m + (1 - beta1) * (g - m)               (torch: exp_avg.lerp_(g, 1 - beta1))
 *   v       = beta2 * v + (1 - beta2) * g * g
 *   denom   = sqrt(v) / sqrt(1 - beta2^t) + eps
 *   p      -= lr / (1 - beta1^t) * m / denom
 * </pre>
 * Scalars are computed in double and applied in float32, as torch applies Python floats.
 *
 * <p><b>Weight decay rule.</b> By default only parameters with two or more dimensions decay
 * (weight matrices, embeddings); one-dimensional ones (RMSNorm weights, biases) do not — the
 * rule of nanoGPT and torchtitan, the same split as Hugging Face's "bias and LayerNorm weights"
 * in a Llama model. {@link #decayedNames()} and {@link #undecayedNames()} say what the rule
 * chose; another rule can be passed to the constructor.
 *
 * <p><b>Precision.</b> A float32 parameter is its own master: it is updated in place through a
 * detached view (so the update works even while a gradient collector is open). For a float16
 * parameter this class keeps a float32 master copy, made from the parameter at construction
 * (or restored by {@link #importState}); each step updates the master and writes its float16
 * rounding back into the parameter, in place, so the model keeps using the same array. Moments
 * {@code m} and {@code v} are always float32, on the parameters' device.
 *
 * <p>A parameter whose gradient is all zeros is still stepped (its moments decay, weight
 * decay applies), where torch skips a parameter whose gradient is {@code None}: DJL always
 * has a gradient array, so the two coincide only when every parameter takes part in the loss.
 */
public final class AdamW implements AutoCloseable {

  private static final NDIndex ALL = new NDIndex("...");

  private final List<NamedParameter> parameters;
  private final AdamWConfig config;
  private final boolean[] decays;
  private final NDManager manager;  // owns the moments and master copies
  private final NDArray[] expAvg;   // float32 [param shape]
  private final NDArray[] expAvgSq; // float32 [param shape]
  private final NDArray[] master;   // float32 [param shape] for float16 parameters, else null
  private NDArray[] stepCounters;   // fused kernel only: float32 [1] per parameter, the steps taken so far
  private boolean fused;
  private long step;

  /** AdamW over {@code parameters} with the default decay rule ({@link #decaysByDefault}). */
  public AdamW(List<NamedParameter> parameters, AdamWConfig config) {
    this(parameters, config, AdamW::decaysByDefault);
  }

  /**
   * @param parameters autograd leaves on one device, unique names
   * @param config hyper-parameters
   * @param decayRule which parameters weight decay applies to
   */
  public AdamW(List<NamedParameter> parameters, AdamWConfig config, Predicate<NamedParameter> decayRule) {
    if (parameters.isEmpty()) {
      throw new IllegalArgumentException("parameters: AdamW needs at least one parameter, got none");
    }
    Set<String> names = new HashSet<>();
    for (NamedParameter p : parameters) {
      if (!names.add(p.name())) {
        throw new IllegalArgumentException("parameters: name " + p.name() + " appears twice");
      }
      if (!p.array().hasGradient()) {
        throw new IllegalArgumentException(
            "parameter " + p.name() + ": does not require gradients; call setRequiresGradient(true) first");
      }
    }
    this.parameters = List.copyOf(parameters);
    this.config = config;
    int n = parameters.size();
    this.decays = new boolean[n];
    this.expAvg = new NDArray[n];
    this.expAvgSq = new NDArray[n];
    this.master = new NDArray[n];
    this.manager = NDManager.newBaseManager(parameters.get(0).array().getDevice());
    try {
      for (int i = 0; i < n; i++) {
        NamedParameter p = parameters.get(i);
        decays[i] = decayRule.test(p);
        Shape shape = p.array().getShape();
        expAvg[i] = keep(manager.zeros(shape, DataType.FLOAT32));
        expAvgSq[i] = keep(manager.zeros(shape, DataType.FLOAT32));
        if (p.isHalf()) {
          // from a detached view, so the copy is a plain tensor outside autograd (bfloat16 goes
          // through the native cast, which DJL's own cast cannot do)
          try (NDArray detached = p.array().stopGradient()) {
            master[i] = keep(Casts.to(detached, DataType.FLOAT32, false));
          }
          master[i].attach(manager);
        }
      }
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
    this.fused = manager.getDevice().isGpu() && NativeKernels.available();
  }

  /**
   * Whether steps run as the native library's fused multi-tensor AdamW ({@code torch.optim.AdamW(fused=True)}'s
   * kernel: one launch per parameter group instead of a dozen operations per parameter). On by
   * default on a GPU with the library; the same update up to float rounding (docs/gpu.md).
   */
  public boolean fused() {
    return fused;
  }

  /** Switches the fused kernel on or off (on needs a GPU and the native library). */
  public void useFusedKernel(boolean on) {
    if (on && !(manager.getDevice().isGpu() && NativeKernels.available())) {
      throw new IllegalStateException("the fused AdamW needs the parameters on a GPU and the native kernel library ("
          + NativeKernels.status() + ")");
    }
    fused = on;
  }

  /** Long-lived state: no scope the caller has open may close it. */
  private static NDArray keep(NDArray array) {
    NDScope.unregister(array);
    return array;
  }

  /** The default rule: weight decay for parameters of rank 2 or more, none for vectors. */
  public static boolean decaysByDefault(NamedParameter parameter) {
    return parameter.rank() >= 2;
  }

  public AdamWConfig config() {
    return config;
  }

  /** The parameters, in the order gradients and state use. */
  public List<NamedParameter> parameters() {
    return parameters;
  }

  /** Names of the parameters weight decay applies to. */
  public List<String> decayedNames() {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < decays.length; i++) {
      if (decays[i]) {
        out.add(parameters.get(i).name());
      }
    }
    return out;
  }

  /** Names of the parameters weight decay never touches. */
  public List<String> undecayedNames() {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < decays.length; i++) {
      if (!decays[i]) {
        out.add(parameters.get(i).name());
      }
    }
    return out;
  }

  /** Optimizer steps applied so far (skipped steps are not counted). */
  public long stepCount() {
    return step;
  }

  /**
   * Applies one update with these gradients at learning rate {@code lr}. The caller decides
   * whether to call it at all: gradients must be finite (see {@link LossScaler#update}).
   *
   * @param grads float32 gradients read from exactly this optimizer's parameters
   * @param lr learning rate, finite and {@code >= 0}
   */
  @SuppressWarnings("try")  // the scope closes temporaries without being referenced
  public void step(Gradients grads, double lr) {
    if (!(lr >= 0) || Double.isInfinite(lr)) {
      throw new IllegalArgumentException("lr: must be finite and >= 0, got " + lr);
    }
    checkSameParameters(grads.parameters());
    step++;
    double beta1 = config.beta1();
    double beta2 = config.beta2();
    double biasCorrection1 = 1 - Math.pow(beta1, step);
    double biasCorrection2 = 1 - Math.pow(beta2, step);
    double stepSize = lr / biasCorrection1;
    double biasCorrection2Sqrt = Math.pow(biasCorrection2, 0.5);
    if (fused) {
      fusedStep(grads, lr);
      return;
    }
    double decayFactor = 1 - lr * config.weightDecay();
    for (int i = 0; i < expAvg.length; i++) {
      try (NDScope scope = new NDScope()) {  // closes every temporary of this parameter's update
        NDArray g = grads.get(i);
        NDArray weights = master[i] != null ? master[i] : parameters.get(i).array().stopGradient();
        if (decays[i] && config.weightDecay() != 0) {
          weights.muli(decayFactor);
        }
        NDArray m = expAvg[i];
        NDArray v = expAvgSq[i];
        m.addi(g.sub(m).muli(1 - beta1));
        v.muli(beta2).addi(g.mul(1 - beta2).muli(g));
        NDArray denom = v.sqrt().divi(biasCorrection2Sqrt).addi(config.eps());
        weights.addi(m.mul(-stepSize).divi(denom));
        if (master[i] != null) {
          writeBack(i);
        }
      }
    }
  }

  /**
   * The same update as the loop above through the native fused kernel: one call for the decayed
   * parameters, one for the rest, on the float32 weights (the master copies of float16
   * parameters), then the float16 write-back.
   */
  @SuppressWarnings("try")
  private void fusedStep(Gradients grads, double lr) {
    if (stepCounters == null) { // made on first use, and after importState, at the steps taken before this one
      stepCounters = new NDArray[expAvg.length];
      for (int i = 0; i < expAvg.length; i++) {
        stepCounters[i] = keep(manager.full(new Shape(1), (float) (step - 1), DataType.FLOAT32));
      }
    }
    try (NDScope scope = new NDScope()) {
      for (boolean decayed : new boolean[] {true, false}) {
        List<NDArray> weights = new ArrayList<>();
        List<NDArray> g = new ArrayList<>();
        List<NDArray> m = new ArrayList<>();
        List<NDArray> v = new ArrayList<>();
        List<NDArray> counters = new ArrayList<>();
        for (int i = 0; i < expAvg.length; i++) {
          if (decays[i] == decayed) {
            weights.add(master[i] != null ? master[i] : parameters.get(i).array().stopGradient());
            g.add(grads.get(i));
            m.add(expAvg[i]);
            v.add(expAvgSq[i]);
            counters.add(stepCounters[i]);
          }
        }
        if (!weights.isEmpty()) {
          NativeKernels.fusedAdamW(weights, g, m, v, counters, new org.longctx.kernels.AdamW(lr, config.beta1(), config.beta2(),
              decayed ? config.weightDecay() : 0, config.eps()), null, null);
        }
      }
    }
    List<NDArray> halves = new ArrayList<>();
    List<NDArray> masters = new ArrayList<>();
    for (int i = 0; i < master.length; i++) {
      if (master[i] != null) {
        halves.add(parameters.get(i).array());
        masters.add(master[i]);
      }
    }
    NativeKernels.copyInto(halves, masters);  // the float16 / bfloat16 write-back, one call for all parameters
  }

  /** Writes the float16 (bfloat16) rounding of master copy {@code i} into its parameter, in place. */
  @SuppressWarnings("try")
  private void writeBack(int i) {
    try (NDScope scope = new NDScope()) {
      NDArray half = Casts.to(master[i], parameters.get(i).dataType(), false);
      // A detached view shares the parameter's storage but is no autograd leaf, so writing
      // into it is allowed whatever the thread's grad mode.
      parameters.get(i).array().stopGradient().set(ALL, half);
    }
  }

  /**
   * The live state arrays (moments, and master weights of float16 parameters) under the names
   * {@link AdamWState} gives them, in parameter order: for writing a checkpoint one tensor at a
   * time, straight from the device. Read them; never modify or close them.
   */
  public Map<String, NDArray> stateArrays() {
    Map<String, NDArray> out = new LinkedHashMap<>();
    for (int i = 0; i < expAvg.length; i++) {
      String name = parameters.get(i).name();
      out.put(AdamWState.EXP_AVG + name, expAvg[i]);
      out.put(AdamWState.EXP_AVG_SQ + name, expAvgSq[i]);
      if (master[i] != null) {
        out.put(AdamWState.MASTER + name, master[i]);
      }
    }
    return java.util.Collections.unmodifiableMap(out);
  }

  /** Produces one state tensor, float32 of its parameter's shape, in a manager it is given. */
  @FunctionalInterface
  public interface StateSource {
    NDArray read(String name, NDManager manager) throws java.io.IOException;
  }

  /**
   * Restores the state tensor by tensor from {@code source} (a checkpoint file), so no more
   * than one tensor is ever in flight besides the live state: {@link #importState} needs all
   * of it on the Java heap at once. Every name of {@link #stateArrays()} is read; float16
   * parameters are overwritten with their restored master weights.
   */
  @SuppressWarnings("try")
  public void loadState(long step, StateSource source) throws java.io.IOException {
    for (int i = 0; i < expAvg.length; i++) {
      String name = parameters.get(i).name();
      NDArray[] targets = {expAvg[i], expAvgSq[i], master[i]};
      String[] prefixes = {AdamWState.EXP_AVG, AdamWState.EXP_AVG_SQ, AdamWState.MASTER};
      for (int k = 0; k < targets.length; k++) {
        if (targets[k] == null) {
          continue;
        }
        try (NDManager scratch = NDManager.newBaseManager(targets[k].getDevice())) {
          NDArray value = source.read(prefixes[k] + name, scratch);
          if (!value.getShape().equals(targets[k].getShape()) || value.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException("optimizer state: " + prefixes[k] + name + " is " + value.getDataType() + " "
                + value.getShape() + ", the parameter needs FLOAT32 " + targets[k].getShape());
          }
          targets[k].set(ALL, value);
        }
      }
      if (master[i] != null) {
        writeBack(i);
      }
    }
    this.step = step;
  }

  /** Copies the moments (and master weights) to the host, named as {@link AdamWState} says. */
  public AdamWState exportState() {
    Map<String, FloatTensor> tensors = new LinkedHashMap<>();
    for (int i = 0; i < expAvg.length; i++) {
      String name = parameters.get(i).name();
      long[] shape = expAvg[i].getShape().getShape();
      tensors.put(AdamWState.EXP_AVG + name, new FloatTensor(shape, expAvg[i].toFloatArray()));
      tensors.put(AdamWState.EXP_AVG_SQ + name, new FloatTensor(shape, expAvgSq[i].toFloatArray()));
      if (master[i] != null) {
        tensors.put(AdamWState.MASTER + name, new FloatTensor(shape, master[i].toFloatArray()));
      }
    }
    return new AdamWState(step, tensors);
  }

  /**
   * Restores state exported by an optimizer over the same parameters (names, shapes, and
   * float16-ness must match exactly); float16 parameters are overwritten with their restored
   * master weights. Steps after this are bitwise those the exporting optimizer would have taken.
   */
  public void importState(AdamWState state) {
    Set<String> expected = new TreeSet<>();
    for (int i = 0; i < expAvg.length; i++) {
      String name = parameters.get(i).name();
      expected.add(AdamWState.EXP_AVG + name);
      expected.add(AdamWState.EXP_AVG_SQ + name);
      if (master[i] != null) {
        expected.add(AdamWState.MASTER + name);
      }
    }
    Set<String> given = new TreeSet<>(state.tensors().keySet());
    if (!given.equals(expected)) {
      Set<String> missing = new TreeSet<>(expected);
      missing.removeAll(given);
      Set<String> unexpected = new TreeSet<>(given);
      unexpected.removeAll(expected);
      throw new IllegalArgumentException("optimizer state: does not match the parameters; missing "
          + missing + ", unexpected " + unexpected);
    }
    for (int i = 0; i < expAvg.length; i++) {  // check every shape before changing anything
      String name = parameters.get(i).name();
      long[] shape = expAvg[i].getShape().getShape();
      for (String prefix : List.of(AdamWState.EXP_AVG, AdamWState.EXP_AVG_SQ, AdamWState.MASTER)) {
        FloatTensor t = state.tensors().get(prefix + name);
        if (t != null && !Arrays.equals(t.shape(), shape)) {
          throw new IllegalArgumentException("optimizer state: " + prefix + name + " has shape "
              + Arrays.toString(t.shape()) + ", the parameter has " + Arrays.toString(shape));
        }
      }
    }
    for (int i = 0; i < expAvg.length; i++) {
      String name = parameters.get(i).name();
      expAvg[i].set(FloatBuffer.wrap(state.tensors().get(AdamWState.EXP_AVG + name).values()));
      expAvgSq[i].set(FloatBuffer.wrap(state.tensors().get(AdamWState.EXP_AVG_SQ + name).values()));
      if (master[i] != null) {
        master[i].set(FloatBuffer.wrap(state.tensors().get(AdamWState.MASTER + name).values()));
        writeBack(i);
      }
    }
    step = state.step();
    if (stepCounters != null) { // the fused kernel's counters restart from the restored step
      for (NDArray c : stepCounters) {
        c.close();
      }
      stepCounters = null;
    }
  }

  private void checkSameParameters(List<NamedParameter> other) {
    if (other.size() != parameters.size()) {
      throw new IllegalArgumentException("gradients: " + other.size() + " for " + parameters.size()
          + " parameters; read them from the optimizer's parameters()");
    }
    for (int i = 0; i < other.size(); i++) {
      if (other.get(i).array() != parameters.get(i).array()) {
        throw new IllegalArgumentException("gradients: entry " + i + " belongs to " + other.get(i).name()
            + ", expected " + parameters.get(i).name() + "; read them from the optimizer's parameters()");
      }
    }
  }

  /** Arrays this optimizer holds natively (for leak checks: constant from step to step). */
  int liveArrays() {
    return manager.getManagedArrays().size();
  }

  /** Frees the moments and master copies. */
  @Override
  public void close() {
    manager.close();
  }
}
