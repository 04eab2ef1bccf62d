package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.jobs.config.ConfigException;
import org.longctx.jobs.config.ConfigLoader;
import org.longctx.jobs.config.ExperimentConfig;
import org.longctx.positional.RopeConfig;
import org.longctx.trainer.EvalConfig;
import org.longctx.trainer.eval.EvalResults;
import org.longctx.trainer.eval.EvalResults.MethodInfo;
import org.longctx.trainer.eval.EvalResults.PasskeyResult;
import org.longctx.trainer.eval.EvalResults.PerplexityResult;

class DemoJobTest {

  /**
   * Ten prompts per (method, length), {@code correct[m][l]} of them right, and one perplexity
   * document per (method, length) of 100 predicted tokens with perplexity {@code perplexity[m][l]}.
   */
  static EvalResults results(List<String> methods, List<Integer> lengths, int[][] correct, double[][] perplexity) {
    List<PasskeyResult> rows = new ArrayList<>();
    List<PerplexityResult> ppl = new ArrayList<>();
    List<MethodInfo> infos = new ArrayList<>();
    for (int m = 0; m < methods.size(); m++) {
      infos.add(new MethodInfo(methods.get(m), "x", Map.of(), null, methods.get(m).equals("pose") ? 2048 : 512));
      for (int l = 0; l < lengths.size(); l++) {
        for (int t = 0; t < 10; t++) {
          rows.add(new PasskeyResult(methods.get(m), lengths.get(l), lengths.get(l), 0.5, t, "1", "", t < correct[m][l], 0));
        }
        ppl.add(new PerplexityResult(methods.get(m), lengths.get(l), 0, 100, 100 * Math.log(perplexity[m][l]), 0));
      }
    }
    return new EvalResults(infos, lengths, List.of(0.5), 10, 5, rows, lengths, "prepared", ppl, Map.of());
  }

  static EvalResults results(List<String> methods, List<Integer> lengths, int[][] correct) {
    double[][] flat = new double[methods.size()][lengths.size()];
    for (double[] row : flat) {
      Arrays.fill(row, 2.0);
    }
    return results(methods, lengths, correct, flat);
  }

  @Test
  void everyDemoMethodHasOneVerdictCheckingItsClaimOnTheMeasuredFigures() {
    List<String> methods = List.of("base", "yarn", "self-extend", "longrope", "pose");
    List<Integer> lengths = List.of(512, 1024, 2048);
    int[][] correct = {{10, 1, 0}, {10, 3, 2}, {10, 10, 9}, {0, 1, 0}, {10, 10, 8}};
    double[][] perplexity = {{3, 40, 90}, {4, 5, 6}, {3, 3, 3}, {4, 5, 7}, {2, 2, 2}};
    List<String> v = DemoJob.verdicts(results(methods, lengths, correct, perplexity));
    assertEquals(methods.size(), v.size(), v.toString());
    for (int i = 0; i < methods.size(); i++) {
      assertTrue(v.get(i).startsWith("target: " + methods.get(i) + " "), "one line per method in table order: " + v);
    }
    assertTrue(v.get(0).contains("inside its window (512)") && v.get(0).contains("100% / 10%") && v.get(0).endsWith("met)"), v.get(0));
    assertTrue(v.get(1).contains("perplexity at 4× the window (2048) below base's") && v.get(1).contains("6.00 vs 90.00")
        && v.get(1).endsWith("met)"), v.get(1));
    assertTrue(v.get(2).contains("passkey at 4× the window (2048)") && v.get(2).contains("90%") && v.get(2).endsWith("met)"), v.get(2));
    assertTrue(v.get(3).contains("below yarn's") && v.get(3).contains("7.00 vs 6.00") && v.get(3).endsWith("MISSED)"), v.get(3));
    assertTrue(v.get(4).contains("80%") && v.get(4).endsWith("MISSED)"), v.get(4));

    int[][] leaky = {{10, 2, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
    assertTrue(DemoJob.verdicts(results(methods, lengths, leaky)).get(0).endsWith("MISSED)"), "20% beyond the window is not near 0");
    int[][] blind = new int[5][3];
    assertTrue(DemoJob.verdicts(results(methods, lengths, blind)).get(0).endsWith("MISSED)"),
        "a base that never retrieves fails the premise");
    assertTrue(DemoJob.verdicts(results(methods, lengths, blind)).get(1).endsWith("MISSED)"), "equal perplexity is not below");
  }

  @Test
  void aMethodOrLengthNotMeasuredGivesNoVerdictAndAMethodWithoutAnEntryNone() {
    List<String> v = DemoJob.verdicts(results(List.of("pose", "other"), List.of(512, 2048), new int[][] {{10, 10}, {0, 0}}));
    assertEquals(1, v.size(), v.toString());
    assertTrue(v.get(0).startsWith("target: pose"), v.toString());
    assertEquals(List.of(), DemoJob.verdicts(results(List.of("yarn", "base"), List.of(512), new int[][] {{1}, {10}})),
        "nothing beyond the window measured: nothing to judge");
  }

  @Test
  void theDemoEvaluatesTheConfiguredMethodsThenTheStagesOnesWithoutDuplicates() {
    EvalConfig.Method base = EvalConfig.Method.plain("base");
    EvalConfig.Method extra = EvalConfig.Method.plain("extra");
    RopeConfig factors = RopeConfig.builder("linear").factor(4.0).build();
    Path pose = Path.of("/runs/demo/pose-hf");
    Path fot = Path.of("/runs/demo/fot/hf");
    List<EvalConfig.Method> m = DemoMethod.methods(DemoMethod.ALL, new DemoMethod.Stages(List.of(base, extra), factors, pose, fot));
    assertEquals(List.of("base", "extra", "longrope", "pose", "fot"), m.stream().map(EvalConfig.Method::name).toList(),
        "yarn and self-extend left out of eval.methods: no rows; extra without an entry: a row");
    assertEquals(factors, m.get(2).rope());
    assertEquals("", m.get(2).model(), "the searched factors apply to the base model");
    assertEquals(pose.toString(), m.get(3).model());
    assertEquals(fot.toString(), m.get(4).model());
    List<EvalConfig.Method> noSearch = DemoMethod.methods(DemoMethod.ALL,
        new DemoMethod.Stages(List.of(base, EvalConfig.Method.plain("pose")), null, pose, fot));
    assertEquals(List.of("base", "pose", "fot"), noSearch.stream().map(EvalConfig.Method::name).toList(),
        "no search stage: no longrope row; a configured pose is not added twice");
    assertEquals(DemoMethod.ALL.size(), DemoMethod.ALL.stream().map(DemoMethod::name).distinct().count(), "one entry per method");
  }

  @Test
  void aMethodWhoseClaimNeedsALongerPromptIsEvaluatedThereAloneAndJudgedThere() {
    List<Integer> grid = List.of(512, 1024, 2048);
    assertEquals(List.of(512, 1024, 2048, 4096), DemoMethod.passkeyLengths(DemoMethod.ALL, "fot", grid, 512), "FoT's claim: 8 × 512");
    assertEquals(grid, DemoMethod.passkeyLengths(DemoMethod.ALL, "pose", grid, 512), "PoSE's 4 × 512 is in the grid");
    assertEquals(grid, DemoMethod.passkeyLengths(DemoMethod.ALL, "base", grid, 512), "the base's claim reads the grid");
    assertEquals(grid, DemoMethod.passkeyLengths(DemoMethod.ALL, "extra", grid, 512), "no entry: the grid");
    assertEquals(List.of(300, 512, 1024), DemoMethod.passkeyLengths(DemoMethod.ALL, "fot", List.of(512, 300), 128));
    assertEquals(grid, DemoMethod.passkeyLengths(DemoMethod.ALL, "fot", grid, 0), "window unknown: the grid");

    List<EvalConfig.Method> methods = List.of(EvalConfig.Method.plain("pose"), EvalConfig.Method.plain("fot"),
        EvalConfig.Method.plain("extra"));
    Map<List<Integer>, List<EvalConfig.Method>> parts = DemoJob.byPasskeyLengths(methods, grid, 512);
    assertEquals(List.of(grid, List.of(512, 1024, 2048, 4096)), List.copyOf(parts.keySet()));
    assertEquals(List.of("pose", "extra"), parts.get(grid).stream().map(EvalConfig.Method::name).toList());

    // the two parts, scored apart, as the demo assembles them: the base and PoSE at the grid, FoT also at 4096
    EvalResults r = EvalResults.combine(List.of(
        results(List.of("base", "pose"), grid, new int[][] {{10, 0, 0}, {10, 10, 9}}),
        results(List.of("fot"), List.of(512, 1024, 2048, 4096), new int[][] {{10, 9, 8, 9}})), Map.of());
    assertEquals(List.of(512, 1024, 2048, 4096), r.passkeyLengths());
    assertEquals(grid, r.passkeyLengths("base"));
    assertEquals(List.of("base", "pose", "fot"), r.methodNames());
    assertEquals(10 * (3 + 3 + 4), r.passkey().size(), "every answer kept");
    assertTrue(Double.isNaN(r.passkeyAccuracy("base", 4096)), "no prompt of the base at 4096");
    assertEquals(0.9, r.passkeyAccuracy("fot", 4096), 1e-12);

    List<String> v = DemoJob.verdicts(r);
    assertEquals(3, v.size(), v.toString());
    assertTrue(v.get(0).startsWith("target: base") && v.get(0).contains("100% / 0%") && v.get(0).endsWith("met)"),
        "the base judged on its own lengths, not on FoT's 4096: " + v.get(0));
    assertTrue(v.get(1).startsWith("target: pose") && v.get(1).contains("(2048)") && v.get(1).contains("90%"), v.get(1));
    assertTrue(v.get(2).startsWith("target: fot") && v.get(2).contains("passkey at 8× the window (4096)") && v.get(2).contains("90%")
        && v.get(2).endsWith("met)"), v.get(2));
    EvalResults noFotAt4096 = EvalResults.combine(List.of(results(List.of("base", "pose"), List.of(512, 1024, 2048, 4096),
        new int[][] {{10, 0, 0, 0}, {10, 10, 9, 0}}), results(List.of("fot"), grid, new int[][] {{10, 9, 8}})), Map.of());
    assertEquals(2, DemoJob.verdicts(noFotAt4096).size(), "FoT not measured at 4096: no verdict, though others were");

    String table = EvalJob.summary(r);
    assertTrue(table.lines().anyMatch(l -> l.matches("\\s+base\\s+100%\\s+0%\\s+0%\\s+-")), table);
    assertTrue(table.lines().anyMatch(l -> l.matches("\\s+fot\\s+100%\\s+90%\\s+80%\\s+90%")), table);
    EvalResults read = EvalResults.fromJson(r.toJson());
    assertEquals(r.passkey(), read.passkey(), "results.json keeps every answer");
    assertEquals(grid, read.passkeyLengths("pose"));
  }

  @Test
  void stageTimesAreReportedInStageOrderThoughTheStagesBesidePoseEndLater() {
    Map<String, Double> measured = new java.util.LinkedHashMap<>();
    measured.put("synth", 1.0);
    measured.put("pose", 350.0);
    measured.put("eval-trained", 60.0);
    measured.put("search", 24.0);
    measured.put("eval-base", 300.0);
    measured.put("total", 500.0);
    assertEquals(List.of("synth", "pose", "search", "eval-base", "eval-trained", "total"),
        List.copyOf(DemoJob.inStageOrder(measured).keySet()));
    assertEquals(measured, DemoJob.inStageOrder(measured), "the same times");
  }

  @Test
  void thePerplexityDocumentsAreOfTheKindsPoseTrainsOn() throws Exception {
    ExperimentConfig c = ConfigLoader.parse(DemoJob.builtInConfig(), "demo", List.of());
    assertEquals(List.of("copy", "passkey"), DemoJob.perplexityKinds(c.train().synthetic().tasks().keySet()));
    assertEquals(List.of("passkey"), DemoJob.perplexityKinds(List.of("multikey")), "no single-document kind: pass-key");
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

  @Test
  void theFotStageRefusesAnotherRecipe() {
    String m = assertThrows(ConfigException.class,
        () -> DemoJob.fotConfig(List.of("train.recipe=pose"))).getMessage();
    assertTrue(m.contains("--fot-set train.recipe") && m.contains("got pose"), m);
  }
}
