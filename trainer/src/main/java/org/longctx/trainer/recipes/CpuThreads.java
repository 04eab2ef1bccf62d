package org.longctx.trainer.recipes;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * PyTorch's intra-op thread count for the length of a training run on a CPU
 * ({@code train.cpu_threads}), restored afterwards.
 *
 * <p>Why: with more than one thread, two fresh processes training the same config on the same
 * machine drift apart in the last bits (measured: step 4's grad_norm 2.5796752 vs 2.5796754,
 * every checkpoint's weights different, losses up to 6.2e-6 apart after 16 steps, in every pair
 * of runs tried), and neither MKL_CBWR (COMPATIBLE, AVX2,STRICT), MKL_DYNAMIC=FALSE,
 * OMP_DYNAMIC=FALSE nor MALLOC_ARENA_MAX=1 removed that; one thread did, in every pair. It is
 * set here, in the training code, so every way a run starts (bin/longctx, spark-submit, tests,
 * child processes) gets it; {@code at::set_num_threads} sets OpenMP's and MKL's counts alike.
 */
final class CpuThreads implements AutoCloseable {
  private final int previous;

  private CpuThreads(int previous) {
    this.previous = previous;
  }

  /** Sets {@code threads} (0: leave PyTorch's default, one per core) on a CPU; does nothing on a GPU. */
  static CpuThreads use(int threads) {
    if (threads == 0 || Engine.getInstance().defaultDevice().isGpu()) {
      return new CpuThreads(0);
    }
    int previous = JniUtils.getNumThreads();
    JniUtils.setNumThreads(threads);
    return new CpuThreads(previous);
  }

  @Override
  public void close() {
    if (previous > 0) {
      JniUtils.setNumThreads(previous);
    }
  }
}
