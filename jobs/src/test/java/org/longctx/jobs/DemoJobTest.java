package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.jobs.config.ConfigLoader;
import org.longctx.jobs.config.ExperimentConfig;
import org.longctx.trainer.eval.EvalResults;
import org.longctx.trainer.eval.EvalResults.MethodInfo;
import org.longctx.trainer.eval.EvalResults.PasskeyResult;

class DemoJobTest {

  /** Ten prompts per (method, length); {@code correct[m][l]} of them right. */
  static EvalResults results(List<String> methods, List<Integer> lengths, int[][] correct) {
    List<PasskeyResult> rows = new ArrayList<>();
    List<MethodInfo> infos = new ArrayList<>();
    for (int m = 0; m < methods.size(); m++) {
      infos.add(new MethodInfo(methods.get(m), "x", Map.of(), null, methods.get(m).equals("pose") ? 2048 : 512));
      for (int l = 0; l < lengths.size(); l++) {
        for (int t = 0; t < 10; t++) {
          rows.add(new PasskeyResult(methods.get(m), lengths.get(l), lengths.get(l), 0.5, t, "1", "", t < correct[m][l], 0));
        }
      }
    }
    return new EvalResults(infos, lengths, List.of(0.5), 10, 5, rows, List.of(), "synth", List.of(), Map.of());
  }

  @Test
  void verdictsCheckTheClaimsOnTheMeasuredFigures() {
    List<String> methods = List.of("base", "yarn", "self-extend", "pose");
    EvalResults r = results(methods, List.of(512, 1024, 2048), new int[][] {{10, 1, 0}, {10, 3, 2}, {10, 10, 9}, {10, 10, 8}});
    List<String> v = DemoJob.verdicts(r);
    assertEquals(4, v.size(), v.toString());
    assertTrue(v.get(0).contains("base inside its window (512)") && v.get(0).contains("100%") && v.get(0).endsWith("met)"), v.get(0));
    assertTrue(v.get(1).contains("base beyond its window (512)") && v.get(1).contains("10%") && v.get(1).endsWith("met)"), v.get(1));
    assertTrue(v.get(2).contains("self-extend at 4× the window (2048)") && v.get(2).contains("90%") && v.get(2).endsWith("met)"), v.get(2));
    assertTrue(v.get(3).contains("pose") && v.get(3).contains("80%") && v.get(3).endsWith("MISSED)"), v.get(3));
    EvalResults failing = results(methods, List.of(512, 1024, 2048), new int[][] {{10, 2, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}});
    assertTrue(DemoJob.verdicts(failing).get(1).endsWith("MISSED)"), "20% beyond the window is not near 0");
    EvalResults blind = results(methods, List.of(512, 1024, 2048), new int[][] {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}});
    assertTrue(DemoJob.verdicts(blind).get(0).endsWith("MISSED)"), "a base that never retrieves fails the precondition");
    assertEquals(List.of(), DemoJob.verdicts(results(List.of("yarn"), List.of(512), new int[][] {{1}})),
        "nothing to judge without the demo's methods and lengths");
  }

  @Test
  void theCommitIsReadFromGitWithoutRunningIt(@TempDir Path dir) throws Exception {
    assertEquals(Optional.empty(), DemoJob.GitCommit.of(dir));
    Path git = Files.createDirectories(dir.resolve(".git/refs/heads"));
    Files.writeString(git.getParent().getParent().resolve("HEAD"), "ref: refs/heads/main\n");
    Files.writeString(dir.resolve(".git/packed-refs"), "# pack-refs\n0123abcd refs/heads/main\n");
    assertEquals(Optional.of("0123abcd"), DemoJob.GitCommit.of(dir));
    Files.writeString(git.resolve("main"), "4567ef\n");
    assertEquals(Optional.of("4567ef"), DemoJob.GitCommit.of(dir), "a loose ref wins over packed-refs");
    Files.writeString(dir.resolve(".git/HEAD"), "89ab\n");
    assertEquals(Optional.of("89ab"), DemoJob.GitCommit.of(dir), "a detached HEAD names the commit itself");
  }

  @Test
  void theBuiltInConfigIsConfigsDemoYaml() throws Exception {
    String builtIn = DemoJob.builtInConfig();
    assertEquals(Files.readString(Path.of("../configs/demo.yaml")), builtIn);
    ExperimentConfig c = ConfigLoader.parse(builtIn, "demo", List.of());
    assertEquals("pose", c.train().recipe());
    assertEquals(4 * c.rope().originalMaxPositionEmbeddings(), c.pose().targetLen(), "the demo extends 4×");
    assertTrue(c.eval().lengths().contains(c.pose().targetLen()), "the demo evaluates at the target length");
  }

  @Test
  void withoutABaseModelTheDemoPretrainsOneWithTheTinyPretrainConfig() throws Exception {
    assertEquals("models/tiny-base", ConfigLoader.parse(DemoJob.builtInConfig(), "demo", List.of()).model().path(),
        "the demo starts from the committed base");
    assertTrue(Files.exists(Path.of("../models/tiny-base/model.safetensors")), "the committed base model");
    assertEquals(Files.readString(Path.of("../configs/train-tiny-pretrain.yaml")), DemoJob.resource(DemoJob.BUILT_IN_PRETRAIN));
    DemoJob.Layout layout = DemoJob.Layout.under(Path.of("/tmp/x demo"));
    ExperimentConfig c = DemoJob.pretrainConfig(layout, 7);
    assertEquals("pretrain", c.train().recipe());
    assertEquals(7, c.train().steps());
    assertTrue(c.train().warmupSteps() <= 7);
    assertTrue(c.train().exportAtEnd(), "the base is used as a Hugging Face folder: " + layout.baseHf());
    assertEquals("/tmp/x demo/base", c.output().dir());
    assertEquals(layout.base().resolve("hf"), layout.baseHf());
    assertTrue(!layout.owned().contains(layout.base()), "a trained base survives the next run");
    assertEquals(512, ConfigLoader.parse(DemoJob.builtInConfig(), "demo", List.of()).rope().originalMaxPositionEmbeddings(),
        "the demo's rope starts from the pretrained window");
  }

  @Test
  void aRelativeBaseModelPathIsFoundUnderTheProjectFolderWhenNotInTheWorkingFolder(@TempDir Path home) throws Exception {
    Files.createDirectories(home.resolve("models/some-base"));
    assertEquals(home.resolve("models/some-base").toString(), DemoJob.baseModelPath("models/some-base", home.toString()));
    assertEquals("models/missing", DemoJob.baseModelPath("models/missing", home.toString()), "not found anywhere: as given");
    assertEquals("pom.xml", DemoJob.baseModelPath("pom.xml", home.toString()), "found in the working folder: as given");
    assertEquals("/abs/base", DemoJob.baseModelPath("/abs/base", home.toString()));
    assertEquals("", DemoJob.baseModelPath("", home.toString()), "empty: the demo trains a base");
    assertEquals("models/some-base", DemoJob.baseModelPath("models/some-base", null), "no project folder known");
  }

  @Test
  void pathsGoIntoOverridesAsQuotedYaml() {
    assertEquals("'/a b/it''s'", DemoJob.quoted(Path.of("/a b/it's")));
    ExperimentConfig c = ConfigLoader.parse("", "t", List.of("data.tokenizer=" + DemoJob.quoted(Path.of("/x: y/*.json"))));
    assertEquals("/x: y/*.json", c.data().tokenizer());
  }
}
