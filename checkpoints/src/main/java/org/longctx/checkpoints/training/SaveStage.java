package org.longctx.checkpoints.training;

/** Points in {@link CheckpointStore#save} that a {@link CheckpointStore.SaveObserver} hears about. */
public enum SaveStage {
  /** The temporary directory exists, nothing written yet. */
  STARTED,
  /** Model weights written into the temporary directory. */
  WEIGHTS_WRITTEN,
  /** Optimizer state written. */
  OPTIMIZER_WRITTEN,
  /** All files written; the directory is about to be renamed to its final name. */
  BEFORE_COMMIT,
  /** The step directory has its final name; {@code latest} is about to be updated. */
  COMMITTED,
  /** {@code latest} points at the new step. */
  LATEST_UPDATED
}
