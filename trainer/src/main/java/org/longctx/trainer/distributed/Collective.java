package org.longctx.trainer.distributed;

import java.util.List;
import org.longctx.trainer.optim.Gradients;

/**
 * The replicas of one data-parallel training run, as the step loop sees them: each holds the
 * same model, computes gradients on its own share of the data, and the loop averages the
 * gradients here between backward and clipping, so clipping and the optimizer see the global
 * gradient and every replica takes the same step. Rank 0 alone writes checkpoints, metrics and
 * exports. {@link SingleProcess} is the one-replica implementation, {@link RingCollective} the
 * replicas of a Spark barrier stage joined by a ring over TCP, {@link NcclCollective} the same
 * replicas on GPUs with the gradients averaged by NCCL.
 */
public interface Collective extends AutoCloseable {

  /** This replica's index, {@code 0 … worldSize − 1}. */
  int rank();

  /** Replicas in the run. */
  int worldSize();

  /** Replaces every gradient, in place, by its mean over the replicas. */
  void averageGradients(Gradients gradients);

  /** The mean of {@code value} over the replicas (a step's loss). */
  double average(double value);

  /**
   * Every replica's {@code value}, by rank, the same list on every replica. The checkpoint needs
   * it: rank 0 writes every replica's data cursor, and each replica's cursor is its own.
   */
  List<String> allGather(String value);

  /** Returns once every replica has called it. */
  void barrier();

  /**
   * Seconds each {@link #averageGradients} call took, one per step (waiting for slower replicas
   * included), for the run's communication figures; empty where nothing is exchanged.
   */
  default List<Double> gradientSeconds() {
    return List.of();
  }

  /** Whether this replica writes the run's files. */
  default boolean writes() {
    return rank() == 0;
  }

  @Override
  default void close() {}
}
