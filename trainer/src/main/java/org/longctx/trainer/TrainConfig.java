package org.longctx.trainer;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code train:} section of an experiment config.
 *
 * <p>A step is {@code grad_accum} micro-batches of {@code batch_size} sequences of up to
 * {@code seq_len} tokens; the learning rate warms up linearly for {@code warmup_steps} and then
 * follows {@code schedule} down to {@code min_lr_ratio × lr}.
 *
 * @param recipe the training procedure: {@code pretrain} (causal LM from scratch or from
 *     {@code model.path} on packed sequences) or {@code pose} (PoSE fine-tuning to
 *     {@code pose.target_len}; its keys are the {@code pose:} section, {@link PoseConfig}) or
 *     {@code fot} (Focused Transformer memory layers with cross-batch training; the {@code fot:}
 *     section, {@link FotConfig})
 * @param steps optimizer steps to run in total (a resumed run continues up to this count)
 * @param lr peak learning rate
 * @param seed seeds initialisation, data order and sampling
 * @param batchSize sequences per micro-batch
 * @param gradAccum micro-batches whose gradients are summed into one optimizer step
 * @param seqLen tokens per training sequence: the packed row length for pretrain, Lc for pose
 * @param packing pretrain only: {@code split} lays documents end to end and cuts rows at
 *     exactly {@code seq_len} tokens (a document may continue in the next row); {@code whole}
 *     starts every row at a document and moves a document that does not fit to the next row,
 *     padding the rest (masked), so short tasks such as pass-key retrieval are never cut
 * @param schedule learning-rate shape after warm-up: cosine, linear or constant
 * @param warmupSteps linear warm-up steps (the first update has lr 0, as in transformers)
 * @param minLrRatio floor of the cosine/linear decay as a fraction of {@code lr}
 * @param weightDecay AdamW's decoupled weight decay (matrices and embeddings only)
 * @param adamBeta1 AdamW's β1
 * @param adamBeta2 AdamW's β2
 * @param adamEpsilon AdamW's ε
 * @param maxGradNorm global-norm clipping threshold; 0 switches clipping off
 * @param checkpointEvery save a checkpoint every this many steps (0: only at the end and on
 *     SIGTERM)
 * @param keepCheckpoints complete checkpoints to keep (older ones are deleted)
 * @param logEvery a console progress line every this many steps
 * @param exportAtEnd write a Hugging Face folder ({@code OUT/hf}) with the trained rope after
 *     the last step
 * @param exportDtype weight type of that folder: float32, float16 or bfloat16
 * @param cpuThreads PyTorch intra-op threads while training on a CPU: 1 (the default) makes two
 *     processes with the same config give bitwise the same steps, which more threads do not
 *     (libtorch's multi-threaded float32 kernels differ in the last bits from process to
 *     process); 0 = one per core
 * @param synthetic what share of the training documents the synthetic generators supply
 */
public record TrainConfig(
    String recipe,
    int steps,
    double lr,
    long seed,
    int batchSize,
    int gradAccum,
    int seqLen,
    String packing,
    String schedule,
    int warmupSteps,
    double minLrRatio,
    double weightDecay,
    double adamBeta1,
    double adamBeta2,
    double adamEpsilon,
    double maxGradNorm,
    int checkpointEvery,
    int keepCheckpoints,
    int logEvery,
    boolean exportAtEnd,
    String exportDtype,
    int cpuThreads,
    Synthetic synthetic) {

  public TrainConfig {
    List<String> recipes = org.longctx.trainer.recipes.Recipes.names();
    if (!recipes.contains(recipe)) {
      throw new IllegalArgumentException("recipe: '" + recipe + "' is not allowed; allowed: " + String.join(", ", recipes));
    }
    atLeast("steps", steps, 1);
    if (!(lr > 0 && lr < 1)) {
      throw new IllegalArgumentException("lr: must be in (0, 1), got " + lr);
    }
    atLeast("batch_size", batchSize, 1);
    atLeast("grad_accum", gradAccum, 1);
    atLeast("seq_len", seqLen, 2);
    if (!List.of("split", "whole").contains(packing)) {
      throw new IllegalArgumentException("packing: '" + packing + "' is not allowed; allowed: split, whole");
    }
    if (!List.of("cosine", "linear", "constant").contains(schedule)) {
      throw new IllegalArgumentException("schedule: '" + schedule + "' is not allowed; allowed: cosine, linear, constant");
    }
    if (warmupSteps < 0 || warmupSteps > steps) {
      throw new IllegalArgumentException("warmup_steps: must be in [0, steps = " + steps + "], got " + warmupSteps);
    }
    if (!(minLrRatio >= 0 && minLrRatio <= 1)) {
      throw new IllegalArgumentException("min_lr_ratio: must be in [0, 1], got " + minLrRatio);
    }
    if (!(weightDecay >= 0 && weightDecay < 1)) {
      throw new IllegalArgumentException("weight_decay: must be in [0, 1), got " + weightDecay);
    }
    if (!(adamBeta1 >= 0 && adamBeta1 < 1)) {
      throw new IllegalArgumentException("adam_beta1: must be in [0, 1), got " + adamBeta1);
    }
    if (!(adamBeta2 >= 0 && adamBeta2 < 1)) {
      throw new IllegalArgumentException("adam_beta2: must be in [0, 1), got " + adamBeta2);
    }
    if (!(adamEpsilon > 0 && adamEpsilon < 1)) {
      throw new IllegalArgumentException("adam_epsilon: must be in (0, 1), got " + adamEpsilon);
    }
    if (!(maxGradNorm >= 0) || Double.isInfinite(maxGradNorm)) {
      throw new IllegalArgumentException("max_grad_norm: must be ≥ 0 (0 = no clipping), got " + maxGradNorm);
    }
    atLeast("checkpoint_every", checkpointEvery, 0);
    atLeast("keep_checkpoints", keepCheckpoints, 1);
    atLeast("log_every", logEvery, 1);
    if (!List.of("float32", "float16", "bfloat16").contains(exportDtype)) {
      throw new IllegalArgumentException("export_dtype: '" + exportDtype + "' is not allowed; allowed: float32, float16, bfloat16");
    }
    atLeast("cpu_threads", cpuThreads, 0);
    if (synthetic == null) {
      synthetic = Synthetic.defaults();
    }
  }

  private static void atLeast(String key, int value, int min) {
    if (value < min) {
      throw new IllegalArgumentException(key + ": must be ≥ " + min + ", got " + value);
    }
  }

  public static TrainConfig defaults() {
    return new TrainConfig("pretrain", 100, 3e-4, 0, 8, 1, 256, "split", "cosine", 0, 0.0, 0.0, 0.9, 0.95, 1e-8, 1.0,
        100, 3, 10, true, "float32", 1, Synthetic.defaults());
  }

  /** Effective clipping threshold for the optimizer: infinity when clipping is off. */
  public double clippingThreshold() {
    return maxGradNorm == 0 ? Double.POSITIVE_INFINITY : maxGradNorm;
  }

  /** Sequences per optimizer step. */
  public int sequencesPerStep() {
    return batchSize * gradAccum;
  }

  /**
   * Training documents made on the fly by the synthetic generators of the data module
   * ({@code longctx synth}), mixed with the prepared data.
   *
   * @param fraction share of documents drawn from the generators, in [0, 1]; 1 needs no
   *     {@code data.prepared}, 0 uses only it
   * @param tasks generator → relative weight; generators: passkey, multikey, dependent, copy
   * @param minChars shortest generated document (characters; one token each with the
   *     byte-level tokenizer)
   * @param maxChars longest generated document
   * @param keyDigits digits of the pass keys
   */
  public record Synthetic(double fraction, Map<String, Double> tasks, int minChars, int maxChars, int keyDigits) {

    /** The generators {@code tasks} may name. */
    public static final List<String> TASKS = List.of("passkey", "multikey", "dependent", "copy");

    public Synthetic {
      if (!(fraction >= 0 && fraction <= 1)) {
        throw new IllegalArgumentException("synthetic.fraction: must be in [0, 1], got " + fraction);
      }
      tasks = tasks == null ? Map.of() : new TreeMap<>(tasks);
      double total = 0;
      for (Map.Entry<String, Double> e : tasks.entrySet()) {
        if (!TASKS.contains(e.getKey())) {
          throw new IllegalArgumentException("synthetic.tasks: '" + e.getKey() + "' is not a generator; allowed: " + String.join(", ", TASKS));
        }
        if (e.getValue() == null || !(e.getValue() >= 0) || e.getValue().isInfinite()) {
          throw new IllegalArgumentException("synthetic.tasks." + e.getKey() + ": weight must be a number ≥ 0, got " + e.getValue());
        }
        total += e.getValue();
      }
      if (fraction > 0 && !(total > 0)) {
        throw new IllegalArgumentException("synthetic.tasks: fraction is " + fraction + " but no generator has a weight > 0; e.g. {passkey: 1.0}");
      }
      tasks = java.util.Collections.unmodifiableMap(tasks);
      if (minChars < 64) {
        throw new IllegalArgumentException("synthetic.min_chars: must be ≥ 64, got " + minChars);
      }
      if (maxChars < minChars) {
        throw new IllegalArgumentException("synthetic.max_chars: must be ≥ min_chars (" + minChars + "), got " + maxChars);
      }
      if (keyDigits < 1 || keyDigits > 32) {
        throw new IllegalArgumentException("synthetic.key_digits: must be in [1, 32], got " + keyDigits);
      }
    }

    public static Synthetic defaults() {
      return new Synthetic(0.0, Map.of("passkey", 1.0), 256, 1024, 5);
    }
  }
}
