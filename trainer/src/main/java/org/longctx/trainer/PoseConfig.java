package org.longctx.trainer;

/**
 * The {@code pose:} section: what the PoSE recipe adds to {@code train:} (docs/methods.md §2).
 *
 * @param targetLen Lt, the window the position ids must cover ({@code ≥ train.seq_len}); 0 =
 *     not set (the pose recipe refuses it)
 * @param chunks chunks per example: 2 follows the PoSE reference code, more use the paper's
 *     N-chunk rule (later chunks' skips are larger on average)
 */
public record PoseConfig(int targetLen, int chunks) {

  public PoseConfig {
    if (targetLen < 0) {
      throw new IllegalArgumentException("target_len: must be ≥ 0 (0 = not set), got " + targetLen);
    }
    if (chunks < 1) {
      throw new IllegalArgumentException("chunks: must be ≥ 1, got " + chunks);
    }
  }

  public static PoseConfig defaults() {
    return new PoseConfig(0, 2);
  }

  /** Checks this section against the {@code train:} section it is used with. */
  public void checkAgainst(TrainConfig train) {
    if (targetLen < train.seqLen()) {
      throw new IllegalArgumentException("pose.target_len: the pose recipe needs Lt ≥ train.seq_len (" + train.seqLen() + "), got "
          + targetLen);
    }
    if (chunks > train.seqLen()) {
      throw new IllegalArgumentException("pose.chunks: must be in [1, train.seq_len = " + train.seqLen() + "], got " + chunks);
    }
  }
}
