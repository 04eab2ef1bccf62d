package org.longctx.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.positional.HostReads;
import org.longctx.positional.RopeConfig;
import org.longctx.trainer.ModelConfig;
import org.longctx.trainer.recipes.TrainingSession;

/**
 * The training forward pass reads nothing back from the device (on a GPU each read waits for
 * all queued work): with host-known positions (what the recipes pass) a forward and backward make
 * no {@link HostReads} read, whatever the rope; and the model package reads device values only
 * through {@link HostReads}, so the count is complete.
 */
class HostReadsTest {

  @Test
  void aTrainingForwardAndBackwardReadNothingFromTheDevice() {
    RopeConfig yarn = RopeConfig.builder("yarn").factor(4.0).originalMaxPositionEmbeddings(32).build();
    LlamaConfig config = TrainingSession.initConfig(new ModelConfig.Init(259, 32, 64, 2, 4, 2, 128, 10000.0, 1e-5, false, 0.02, null,
        null, null), yarn, TokenizerSpec.byteLevel());
    try (LlamaModel model = LlamaModel.random(config, Precision.FLOAT32, 3, 0.02); NDManager m = NDManager.newBaseManager()) {
      model.setTrainable(true);
      long[] ids = new long[2 * 16];
      long[] positions = new long[2 * 16];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = i % 200;
        positions[i] = (i % 16) < 8 ? i % 16 : (i % 16) + 90; // PoSE-like: a skip inside each row
      }
      long before = HostReads.count();
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray logits = model.forwardAt(m.create(ids, new Shape(2, 16)), Positions.of(m, positions, 2, 16));
        collector.backward(logits.mean());
      }
      NDArray plain = model.forward(m.create(ids, new Shape(2, 16)), (NDArray) null); // 0 … seq−1, made on the device
      assertEquals(new Shape(2, 16, 259), plain.getShape());
      assertEquals(0, HostReads.count() - before, "device reads in a training forward/backward");

      Positions.read(m.create(positions, new Shape(2, 16))); // a caller without host positions: one counted read
      assertEquals(1, HostReads.count() - before);
    }
  }

  @Test
  void theModelPackageReadsTheDeviceOnlyThroughHostReads() throws IOException {
    Pattern direct = Pattern.compile("\\.(toLongArray|toFloatArray|toIntArray|toDoubleArray|getFloat|getLong|getInt|toArray)\\(");
    List<String> offenders = new ArrayList<>();
    Path dir = Path.of("src/main/java/org/longctx/trainer/model");
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        List<String> lines = Files.readAllLines(f);
        for (int i = 0; i < lines.size(); i++) {
          if (direct.matcher(lines.get(i)).find()) {
            offenders.add(f.getFileName() + ":" + (i + 1));
          }
        }
      }
    }
    assertTrue(Files.isDirectory(dir), "run from the trainer module");
    assertTrue(offenders.isEmpty(), "direct device reads: " + offenders);
  }
}
