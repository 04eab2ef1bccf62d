package org.longctx.trainer.recipes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.longctx.checkpoints.Storage;
import org.longctx.data.DataConfig;
import org.longctx.trainer.ModelConfig;
import org.longctx.trainer.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code output.dir} as a Hadoop URI: checkpoints, tokenizer, export, metrics and summary all
 * land under it (on {@link RemoteTestFileSystem}, which cannot append), and a run that crashed
 * after its step-3 checkpoint resumes there on a machine without the local metrics copy, giving
 * the losses of a straight local run with each step's metrics once.
 */
class RemoteOutputTest {
  @TempDir Path dir;

  private static final ModelConfig MODEL = new ModelConfig("", "float32", 0, RecipeFixtures.tinyInit(32));
  private static final TrainConfig TRAIN = RecipeFixtures.train("pretrain", 6, 16, "split", 3, RecipeFixtures.synthetic(1.0));

  private TrainingRun run(org.apache.hadoop.fs.Path out, boolean resume) {
    TrainingRun local = RecipeFixtures.run(TRAIN, MODEL, DataConfig.defaults(), null, dir.resolve("unused"), resume);
    return new TrainingRun(local.train(), local.model(), local.data(), local.rope(), local.pose(), local.fot(), out, resume,
        local.experiment(),
        local.stop());
  }

  @Test
  void aRunWritesUnderAHadoopUriAndResumesThereExactly() throws IOException {
    TrainingResult straight = TrainingSession.trainAlone(RecipeFixtures.run(TRAIN, MODEL, DataConfig.defaults(), null,
        dir.resolve("local"), false));

    Path root = dir.resolve("remote");
    org.apache.hadoop.fs.Path out = new org.apache.hadoop.fs.Path(RemoteTestFileSystem.SCHEME + ":" + root.toAbsolutePath());
    TrainingRun remote = run(out, false);
    assertFalse(remote.localOutput());
    assertNotEquals(root, remote.metricsDir(), "metrics are staged locally, then copied");
    TrainingResult whole = TrainingSession.trainAlone(remote);
    assertEquals(straight.losses(), whole.losses());
    assertEquals(RemoteTestFileSystem.SCHEME, whole.checkpoint().toUri().getScheme());
    for (String file : List.of("metrics.jsonl", "summary.json", "tokenizer/tokenizer.json", "hf/config.json",
        "hf/tokenizer.json", "checkpoints/step-000006/model.safetensors")) {
      assertTrue(Files.exists(root.resolve(file)), file + " under the URI");
    }
    assertEquals(RecipeResumeSupport.metricLosses(dir.resolve("local")), RecipeResumeSupport.metricLosses(root));

    // a fresh run into that folder is refused, as for a local one
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainingSession.trainAlone(run(out, false)));
    assertTrue(e.getMessage().contains("--resume") && e.getMessage().startsWith(RemoteTestFileSystem.SCHEME + ":"), e.getMessage());

    // the state a crash after step 4 leaves: OUT's metrics as published with the step-3 checkpoint,
    // no later checkpoint, and (another machine) no local metrics copy
    List<String> lines = Files.readAllLines(root.resolve("metrics.jsonl"));
    Files.write(root.resolve("metrics.jsonl"), lines.subList(0, 3));
    Files.delete(root.resolve("summary.json"));
    Storage.deleteTree(root.resolve("checkpoints/step-000006"));
    Files.writeString(root.resolve("checkpoints/latest"), "step-000003\n");
    Storage.deleteTree(remote.metricsDir());

    TrainingResult rest = TrainingSession.trainAlone(run(out, true));
    assertEquals(straight.losses().subList(3, 6), rest.losses());
    assertEquals(RecipeResumeSupport.metricLosses(dir.resolve("local")), RecipeResumeSupport.metricLosses(root),
        "each step's metrics once, as in the straight run");
    assertTrue(Files.exists(root.resolve("summary.json")));
  }
}
