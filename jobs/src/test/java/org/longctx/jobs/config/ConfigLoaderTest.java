package org.longctx.jobs.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  private static ExperimentConfig parse(String yaml, String... overrides) {
    return ConfigLoader.parse(yaml, "test.yaml", List.of(overrides));
  }

  private static String error(String yaml, String... overrides) {
    return assertThrows(ConfigException.class, () -> parse(yaml, overrides)).getMessage();
  }

  @Test
  void noConfigGivesTheDefaults() {
    assertEquals(ExperimentConfig.defaults(), ConfigLoader.fromOverrides(List.of()));
    assertEquals(ExperimentConfig.defaults(), parse(""));
    assertEquals("local[*]", parse("").spark().master());
    assertNull(parse("").rope());
  }

  @Test
  void anEmptyConfigFileIsRefused(@TempDir Path dir) throws IOException {
    for (String text : List.of("", "# only a comment\n", "---\n", "{}\n")) {
      Path file = Files.writeString(dir.resolve("empty.yaml"), text);
      String m = assertThrows(ConfigException.class, () -> ConfigLoader.load(file, List.of())).getMessage();
      assertTrue(m.contains("empty.yaml: the config file is empty"), text + " → " + m);
      assertEquals(1, m.lines().count(), m);
    }
  }

  @Test
  void aliasesAreRefusedNamingTheKey() {
    String m = error("spark:\n  spark.executor.memory: &m 2g\n  spark.driver.memory: *m\n");
    assertEquals("test.yaml: spark.spark.driver.memory: YAML aliases (*m) are not supported; write the value itself (line 3)", m);
    m = error("train: &t {steps: 3}\neval: *t\n");
    assertTrue(m.contains("eval: YAML aliases (*t) are not supported"), m);
    m = error("eval:\n  lengths: [&a 128, *a]\n");
    assertTrue(m.contains("eval.lengths[1]: YAML aliases (*a)"), m);
    m = error("train:\n  steps: 3\n", "train.steps=*x");
    assertTrue(m.contains("train.steps: YAML aliases (*x)"), m);
    // an anchor alone is harmless
    assertEquals("2g", parse("spark:\n  spark.executor.memory: &m 2g\n").spark().conf().get("spark.executor.memory"));
  }

  @Test
  void aDuplicateKeyIsRefused() {
    assertEquals("test.yaml: name: the key appears twice (lines 1 and 2); keep one", error("name: x\nname: y\n"));
    String m = error("train:\n  steps: 3\n  lr: 0.1\n  steps: 4\n");
    assertTrue(m.contains("train.steps: the key appears twice (lines 2 and 4)"), m);
    // the same key in different sections is fine
    assertEquals(3, parse("train: {steps: 3}\neval: {seed: 3}\n").train().steps());
  }

  @Test
  void anIntegerOutOfRangeNamesTheKey() {
    String m = error("", "train.steps=99999999999999");
    assertTrue(m.startsWith("train.steps: 99999999999999 is out of range (an integer from -2147483648 to 2147483647)"), m);
    m = error("eval:\n  lengths: [128, 99999999999]\n");
    assertTrue(m.startsWith("eval.lengths[1]: 99999999999 is out of range"), m);
  }

  @Test
  void aNestedSectionsKeyIsNamedOnce() {
    String m = error("", "train.synthetic.tasks.passkey=-1");
    assertTrue(m.contains(": train.synthetic.tasks.passkey: weight must be a number"), m);
    assertTrue(!m.contains("synthetic.synthetic"), m);
  }

  @Test
  void aHugeConfigFileIsRefusedBeforeParsing(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("huge.yaml");
    Files.writeString(file, "name: x\nspark:\n  spark.foo: " + "a".repeat(20 << 20) + "\n");
    long start = System.nanoTime();
    String m = assertThrows(ConfigException.class, () -> ConfigLoader.load(file, List.of())).getMessage();
    assertTrue(m.contains("too large for a config file (at most 1048576 bytes)"), m);
    assertTrue(System.nanoTime() - start < 2_000_000_000L, "refused without reading it");
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
  void theFotSectionAndAnEvalMethodsFotKeys() {
    ExperimentConfig c = ConfigLoader.parse("train:\n  recipe: fot\n  batch_size: 8\nfot:\n  mem_layers: [2, 3]\n"
        + "  cross_batch_range: 3\n  document_packing: 4\n", "test", java.util.List.of("fot.last_context_length=256"));
    assertEquals(java.util.List.of(2, 3), c.fot().memLayers());
    assertEquals(256, c.fot().lastContextLength());
    assertEquals(3, c.fot().crossBatchRange());
    assertEquals(4, c.fot().documentPacking());
    assertEquals(1, ConfigLoader.parse("", "test", java.util.List.of()).fot().crossBatchRange(), "the reference's default range");
    assertTrue(error("fot:\n  mem_layer: [1]\n").contains("did you mean 'fot.mem_layers'?"));
    assertTrue(error("fot:\n  cross_batch_rnage: 2\n").contains("did you mean 'fot.cross_batch_range'?"));
    String m = error("fot:\n  document_packing: 0\n");
    assertTrue(m.contains("document_packing: must be ≥ 1"), m);
    m = error("fot:\n  mem_attention_grouping: [4]\n");
    assertTrue(m.contains("mem_attention_grouping: must be empty or [heads, queries]"), m);
    ExperimentConfig e = ConfigLoader.parse("eval:\n  methods:\n    - name: base-memory\n      fot: {mem_layers: [2], "
        + "last_context_length: 128}\n", "test", java.util.List.of());
    assertEquals(java.util.List.of(2), e.eval().methods().get(0).fot().memLayers());
    assertEquals(128, e.eval().methods().get(0).fot().lastContextLength());
    m = error("eval:\n  methods:\n    - name: m\n      fot: {mem_layer: [2]}\n");
    assertTrue(m.contains("eval.methods[0].fot.mem_layer"), m);
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
