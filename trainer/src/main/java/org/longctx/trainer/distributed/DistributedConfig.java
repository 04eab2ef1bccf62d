package org.longctx.trainer.distributed;

import java.util.List;

/**
 * The {@code distributed:} section: how many replicas train together and how they exchange
 * gradients (docs/distributed.md).
 *
 * @param workers replicas, each a Spark barrier task in its own executor JVM; 1 = one process,
 *     no Spark (today's {@code longctx train})
 * @param backend {@code ring} (TCP between the tasks, CPU or GPU executors), {@code nccl}
 *     (needs the native GPU library, refused by this build), {@code auto} (ring on CPU
 *     executors, nccl on GPU ones)
 * @param timeoutS seconds a replica waits for a peer (to connect, or to send the next bytes of
 *     an exchange) before it fails the step; must exceed the longest gap between two replicas
 *     reaching the same exchange (a checkpoint write on rank 0, an uneven step)
 * @param bucketMb the gradient is all-reduced in buckets of this many MiB (bounds the extra
 *     buffers to about 1.5 buckets per replica besides the gradient copy itself)
 * @param port the port each task listens on for its ring neighbour; 0 = any free port
 */
public record DistributedConfig(int workers, String backend, int timeoutS, int bucketMb, int port) {

  public static final List<String> BACKENDS = List.of("ring", "nccl", "auto");

  public DistributedConfig {
    if (workers < 1 || workers > 4096) {
      throw new IllegalArgumentException("workers: must be in [1, 4096] (1 = one process, no Spark), got " + workers);
    }
    if (backend == null || !BACKENDS.contains(backend)) {
      throw new IllegalArgumentException("backend: must be one of " + String.join(", ", BACKENDS) + ", got '" + backend + "'");
    }
    if (timeoutS < 1 || timeoutS > 86_400) {
      throw new IllegalArgumentException("timeout_s: must be in [1, 86400] seconds, got " + timeoutS);
    }
    if (bucketMb < 1 || bucketMb > 1024) {
      throw new IllegalArgumentException("bucket_mb: must be in [1, 1024], got " + bucketMb);
    }
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port: must be in [0, 65535] (0 = any free port), got " + port);
    }
  }

  public static DistributedConfig defaults() {
    return new DistributedConfig(1, "ring", 600, 32, 0);
  }

  /** Whether the run starts replicas on Spark executors rather than training in this process. */
  public boolean usesExecutors() {
    return workers > 1;
  }
}
