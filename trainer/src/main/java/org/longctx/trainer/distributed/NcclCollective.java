package org.longctx.trainer.distributed;

import java.util.ArrayList;
import java.util.List;
import org.longctx.kernels.NcclCommunicator;
import org.longctx.trainer.optim.Gradients;

/**
 * The replicas of a data-parallel run on GPUs: gradients are averaged by NCCL on the GPUs
 * ({@link NcclCommunicator}, {@code ncclAllReduce} with {@code ncclAvg}), without leaving the
 * device; the small exchanges (a step's loss, data cursors, barriers) go through the replicas'
 * TCP ring ({@link RingCollective}), which also carried NCCL's unique id from rank 0 to the others.
 *
 * <p>The ring gives every rank the same bits; NCCL's all-reduce does too (every rank runs the same
 * reduction schedule), so the replicas stay identical. A peer that dies or stops answering fails
 * the step after {@code distributed.timeout_s} (the communicator is aborted), and Spark retries
 * the stage from the latest checkpoint.
 */
public final class NcclCollective implements Collective {
  private final RingCollective control;
  private final NcclCommunicator nccl;
  private final List<Double> gradientSeconds = new ArrayList<>();

  /**
   * @param control the replicas' ring, for everything but the gradients
   * @param nccl this replica's communicator, of the same rank and size as the ring
   */
  public NcclCollective(RingCollective control, NcclCommunicator nccl) {
    if (control.rank() != nccl.rank() || control.worldSize() != nccl.worldSize()) {
      throw new IllegalArgumentException("the ring is rank " + control.rank() + " of " + control.worldSize()
          + " but the NCCL communicator rank " + nccl.rank() + " of " + nccl.worldSize());
    }
    this.control = control;
    this.nccl = nccl;
  }

  @Override
  public int rank() {
    return control.rank();
  }

  @Override
  public int worldSize() {
    return control.worldSize();
  }

  @Override
  public void averageGradients(Gradients gradients) {
    long start = System.nanoTime();
    nccl.allReduceMean(gradients.arrays());
    gradientSeconds.add((System.nanoTime() - start) / 1e9);
  }

  @Override
  public List<Double> gradientSeconds() {
    return List.copyOf(gradientSeconds);
  }

  @Override
  public double average(double value) {
    return control.average(value);
  }

  @Override
  public List<String> allGather(String value) {
    return control.allGather(value);
  }

  @Override
  public void barrier() {
    control.barrier();
  }

  @Override
  public void close() {
    try {
      nccl.close();
    } finally {
      control.close();
    }
  }
}
