package org.longctx.jobs.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {

  private static ExperimentConfig parse(String yaml, String... overrides) {
    return ConfigLoader.parse(yaml, "test.yaml", List.of(overrides));
  }

  private static String error(String yaml, String... overrides) {
    return assertThrows(ConfigException.class, () -> parse(yaml, overrides)).getMessage();
  }

  @Test
  void emptyFileGivesTheDefaults() {
    assertEquals(ExperimentConfig.defaults(), parse(""));
    assertEquals("local[*]", parse("").spark().master());
    assertNull(parse("").rope());
  }

  @Test
  void fileValuesOverrideDefaultsKeyByKey() {
    ExperimentConfig c = parse("""
        name: run1
        train:
          lr: 2.0e-5
        """);
    assertEquals("run1", c.name());
    assertEquals(2e-5, c.train().lr());
    assertEquals(ExperimentConfig.defaults().train().steps(), c.train().steps());
  }

  @Test
  void setOverridesWinOverTheFileAndKeepTypes() {
    ExperimentConfig c = parse("train: {lr: 1.0e-4, steps: 5}", "train.lr=3e-5", "eval.lengths=[128, 512]", "rope.rope_type=yarn", "rope.factor=4");
    assertEquals(3e-5, c.train().lr());
    assertEquals(5, c.train().steps());
    assertEquals(List.of(128, 512), c.eval().lengths());
    assertEquals("yarn", c.rope().ropeType());
    assertEquals(4.0, c.rope().factor());
  }

  @Test
  void sparkPropertiesPassThroughFromYamlAndSet() {
    ExperimentConfig c = parse("""
        spark:
          master: spark://10.0.0.1:7077
          spark.executor.memory: 8g
          spark.task.cpus: 2
        """, "spark.driver.memory=4g");
    assertEquals("spark://10.0.0.1:7077", c.spark().master());
    assertEquals(Map.of("spark.executor.memory", "8g", "spark.task.cpus", "2", "spark.driver.memory", "4g"), c.spark().conf());
    assertEquals("local[4]", parse("", "spark.master=local[4]").spark().master());
  }

  @Test
  void recipeKeysLiveInTheRecipeSectionAndOldKeysNameTheirNewPlace() {
    assertTrue(error("train:\n  target_len: 2048\n").contains("'train.target_len' moved: it is 'pose.target_len' now"));
    assertTrue(error("", "train.pose_chunks=3").contains("'train.pose_chunks' moved: it is 'pose.chunks' now"));
    assertTrue(error("pose:\n  target_lenn: 2048\n").contains("did you mean 'pose.target_len'?"));
    String m = error("pose:\n  chunks: 0\n");
    assertTrue(m.contains("pose.chunks: must be ≥ 1"), m);
    ExperimentConfig c = ConfigLoader.parse("train:\n  recipe: pose\npose:\n  target_len: 4096\n", "test", java.util.List.of());
    assertEquals(4096, c.pose().targetLen());
    assertEquals(2, c.pose().chunks(), "default chunks");
  }

  @Test
  void typoSuggestsTheClosestKey() {
    String m = error("train:\n  lerning_rate: 1\n  stesp: 3\n");
    assertTrue(m.contains("unknown key 'train.lerning_rate'") || m.contains("unknown key 'train.stesp'"), m);
    m = error("", "train.stesp=3");
    assertTrue(m.contains("unknown key 'train.stesp'; did you mean 'train.steps'?"), m);
    m = error("trian:\n  steps: 3\n");
    assertTrue(m.contains("did you mean 'train'"), m);
    m = error("rope:\n  rope_tpye: yarn\n");
    assertTrue(m.contains("did you mean 'rope.rope_type'"), m);
  }

  @Test
  void wrongTypesNameKeyValueAndExpectedType() {
    String m = error("train:\n  steps: 1.5\n");
    assertTrue(m.contains("train.steps: expected an integer, got '1.5'"), m);
    m = error("train:\n  steps: many\n");
    assertTrue(m.contains("train.steps: expected an integer, got 'many'"), m);
    m = error("train: 3\n");
    assertTrue(m.contains("train: expected a section"), m);
    m = error("output:\n  overwrite: maybe\n");
    assertTrue(m.contains("output.overwrite: expected true or false"), m);
  }

  @Test
  void outOfRangeValuesAreNamedByTheRecord() {
    String m = error("train:\n  lr: 2\n");
    assertTrue(m.contains("train.lr: must be in (0, 1), got 2.0"), m);
    m = error("model:\n  dtype: bfloat16\n");
    assertTrue(m.contains("model.dtype: 'bfloat16' is not allowed; allowed: float32, float16"), m);
    m = error("name: 'a b'\n");
    assertTrue(m.contains("name: must be letters"), m);
  }

  @Test
  void badYamlAndBadOverridesAreClear() {
    assertTrue(error("train: [1,\n").contains("not valid YAML"));
    assertTrue(error("- a\n- b\n").contains("must be a mapping of sections"));
    assertTrue(error("", "train.lr").contains("--set needs key=value"));
    assertTrue(error("train:\n  lr: 0.1\n", "train.lr.x=3").contains("train.lr: is a value, not a section"));
  }

  @Test
  void printedConfigLoadsBackToTheSameConfig() {
    ExperimentConfig c = parse("""
        name: roundtrip
        spark: {spark.executor.memory: 2g}
        rope: {rope_type: longrope, short_factor: [1.0, 1.5], long_factor: [2.0, 4.0], original_max_position_embeddings: 4096}
        """, "eval.lengths=[256]");
    String yaml = ConfigLoader.toYaml(c);
    assertEquals(c, parse(yaml));
    assertTrue(yaml.contains("spark.executor.memory: 2g"), yaml);
  }

  @Test
  void editDistanceIsLevenshtein() {
    assertEquals(0, ConfigLoader.editDistance("lr", "lr"));
    assertEquals(2, ConfigLoader.editDistance("stesp", "steps"));
    assertEquals(3, ConfigLoader.editDistance("kitten", "sitting"));
    assertNull(ConfigLoader.closest("completely_different", List.of("lr", "steps")));
  }
}
