package org.longctx.trainer.recipes;

import java.io.IOException;
import java.nio.file.Files;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.longctx.checkpoints.Storage;
import org.longctx.trainer.metrics.MetricsLog;

/**
 * The metrics of a run whose output folder is on a remote file system: {@link MetricsLog}
 * appends to a local copy ({@link TrainingRun#metricsDir()}), which is copied to OUT with every
 * checkpoint and at the end — object stores (S3A, GCS) cannot append, and a copy made at a
 * checkpoint keeps OUT's metrics at least as far as the checkpoint a resume starts from. For a
 * local OUT both methods do nothing.
 */
final class RemoteMetrics {
  private static final String[] FILES = {MetricsLog.METRICS_FILE, MetricsLog.SUMMARY_FILE};

  private RemoteMetrics() {}

  /**
   * Makes the local copy start where OUT's metrics are: OUT's {@code metrics.jsonl} for a resumed
   * run (the log then drops lines after the checkpoint), nothing for a fresh one.
   */
  static void fetch(TrainingRun run) throws IOException {
    if (run.localOutput()) {
      return;
    }
    java.nio.file.Path local = run.metricsDir();
    Storage.deleteTree(local);
    Files.createDirectories(local);
    Path remote = new Path(run.outputDir(), MetricsLog.METRICS_FILE);
    FileSystem fs = Storage.fileSystem(remote, Storage.defaultConf());
    if (run.resume() && fs.exists(remote)) {
      fs.copyToLocalFile(false, remote, Storage.path(local.resolve(MetricsLog.METRICS_FILE)), true);
    }
  }

  /** Copies the local metrics (and the summary, once written) to OUT, replacing what is there. */
  static void publish(TrainingRun run) throws IOException {
    if (run.localOutput()) {
      return;
    }
    for (String name : FILES) {
      java.nio.file.Path local = run.metricsDir().resolve(name);
      if (Files.exists(local)) {
        Path remote = new Path(run.outputDir(), name);
        Storage.fileSystem(remote, Storage.defaultConf()).copyFromLocalFile(false, true, Storage.path(local), remote);
      }
    }
  }
}
