package org.longctx.trainer.recipes;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.data.DataConfig;
import org.longctx.positional.RopeConfig;
import org.longctx.trainer.ModelConfig;
import org.longctx.trainer.TrainConfig;

/**
 * Bitwise resume of the longer configurations: packing whole documents from a mixture of
 * prepared and synthetic data, and PoSE (whose export must carry the trained rope).
 */
@Tag("integration")
class RecipeResumeIT {
  @TempDir Path dir;

  private static final ObjectMapper JSON = new ObjectMapper();

  private static ModelConfig scratch() {
    return new ModelConfig("", "float32", 0, RecipeFixtures.tinyInit(32));
  }

  @Test
  void pretrainResumesBitwiseWithWholeDocumentsFromMixedData() throws IOException {
    Path data = RecipeFixtures.preparedDataset(dir.resolve("prepared"), RecipeFixtures.numberedDocs(25));
    TrainConfig train = RecipeFixtures.train("pretrain", 20, 32, "whole", 10, RecipeFixtures.synthetic(0.5));
    RecipeResumeSupport.resumesBitwise(dir, train, scratch(), DataConfig.defaults().withPaths(List.of(), "", data.toString()), null,
        RecipeResumeSupport::pretrain);
  }

  @Test
  void poseResumesBitwiseAndExportsTheTrainedRope() throws IOException {
    Path base = RecipeResumeSupport.baseModel(dir);
    TrainConfig train = RecipeFixtures.train("pose", 20, 16, "split", 10, RecipeFixtures.synthetic(1.0));
    RopeConfig yarn = RopeConfig.builder("yarn").factor(4.0).build();
    RecipeResumeSupport.resumesBitwise(dir, train, new ModelConfig(base.toString(), "float32", 0, null), DataConfig.defaults(), yarn,
        run -> RecipeResumeSupport.pose(RecipeFixtures.withPose(run, 64)));
    JsonNode config = JSON.readTree(dir.resolve("straight/hf/config.json").toFile());
    assertEquals("yarn", config.get("rope_scaling").get("rope_type").asText());
    assertEquals(4.0, config.get("rope_scaling").get("factor").asDouble());
    assertEquals(16, config.get("rope_scaling").get("original_max_position_embeddings").asInt());
    assertEquals(64, config.get("max_position_embeddings").asInt());
    assertEquals("yarn", config.get("rope_parameters").get("rope_type").asText());
  }

}
