package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.jobs.config.ConfigException;
import org.longctx.jobs.config.ConfigLoader;
import org.longctx.jobs.config.LongRopeConfig;

/** The progressive pipeline's stage planning and resume rules, without running a stage. */
class LongRopePlanTest {

  static List<LongRopePlan.Stage> plan(String stages) {
    return LongRopePlan.of(ConfigLoader.parse("longrope:\n  stages: " + stages + "\n", "test", List.of()).longrope());
  }

  static final String PROGRESSIVE = "[{stage: search, length: 2048}, {stage: train}, {stage: search, length: 4096}, "
      + "{stage: train, set: [train.steps=5]}, {stage: short}, {stage: export}]";

  @Test
  void eachStageReadsTheLastModelAndTheLastFactors() {
    List<LongRopePlan.Stage> p = plan(PROGRESSIVE);
    assertEquals(List.of("1-search-2048", "2-train-2048", "3-search-4096", "4-train-4096", "5-short", "6-export"),
        p.stream().map(LongRopePlan.Stage::folder).toList());
    // model: 0 = the base; else the fine-tune whose export it reads
    assertEquals(List.of(0, 0, 2, 2, 4, 4), p.stream().map(LongRopePlan.Stage::model).toList());
    // factors: the search (or short search) before it; the first search has none (no init seed)
    assertEquals(List.of(0, 1, 1, 3, 3, 5), p.stream().map(LongRopePlan.Stage::factors).toList());
    // a fine-tune's length defaults to its factors' target; a short search's to L0 (0)
    assertEquals(List.of(2048, 2048, 4096, 4096, 0, 0), p.stream().map(LongRopePlan.Stage::length).toList());
    assertEquals(List.of("train.steps=5"), p.get(3).set());
  }

  @Test
  void stagesThatLackTheirInputsAreRefusedNamingTheStage() {
    ConfigException e = assertThrows(ConfigException.class, () -> plan("[{stage: train, length: 2048}]"));
    assertTrue(e.getMessage().startsWith("longrope.stages[0]: a fine-tune needs factors"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> plan("[{stage: search, length: 2048}, {stage: train, length: 4096}]"));
    assertTrue(e.getMessage().startsWith("longrope.stages[1].length: the factors were searched for 2048 tokens"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> plan("[{stage: export}]"));
    assertTrue(e.getMessage().startsWith("longrope.stages[0]: an export writes searched factors"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> plan("[]"));
    assertTrue(e.getMessage().startsWith("longrope.stages: required"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> plan("[{stage: serch, length: 2048}]"));
    assertTrue(e.getMessage().contains("'serch' is not a stage; allowed: search, train, short, export"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> plan("[{stage: search}]"));
    assertTrue(e.getMessage().contains("a search stage needs the length"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> plan("[{stage: search, length: 2048, set: [train.steps]}]"));
    assertTrue(e.getMessage().contains("entries are key=value"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> plan("[{stage: search, lenght: 2048}]"));
    assertTrue(e.getMessage().contains("unknown key 'longrope.stages[0].lenght'; did you mean 'longrope.stages[0].length'?"),
        e.getMessage());
  }

  @Test
  void aShorterFineTuneRescalesItsFactors() {
    List<LongRopePlan.Stage> p = plan("[{stage: search, length: 4096}, {stage: train, length: 2048}]");
    assertEquals(2048, p.get(1).length());
    assertEquals("2-train-2048", p.get(1).folder());
  }

  @Test
  void aRerunStartsAtTheFirstUnfinishedStage(@TempDir Path root) throws Exception {
    List<LongRopePlan.Stage> p = plan(PROGRESSIVE);
    assertEquals(1, LongRopePlan.firstUnfinished(p, root));
    markDone(root, p.get(0));
    markDone(root, p.get(1));
    // stage 3 started (a search state) but did not finish: it is where the rerun enters
    Files.createDirectories(root.resolve(p.get(2).folder()));
    Files.writeString(root.resolve(p.get(2).folder()).resolve("state.json"), "{}");
    assertEquals(3, LongRopePlan.firstUnfinished(p, root));
    for (LongRopePlan.Stage s : p) {
      markDone(root, s);
    }
    assertEquals(7, LongRopePlan.firstUnfinished(p, root));
    // a finished stage of another spec (the config changed underneath) is refused, not skipped
    List<LongRopePlan.Stage> changed = plan(PROGRESSIVE.replace("{stage: train}", "{stage: train, set: [train.steps=9]}"));
    ConfigException e = assertThrows(ConfigException.class, () -> LongRopePlan.firstUnfinished(changed, root));
    assertTrue(e.getMessage().startsWith("longrope.stages[1]: "), e.getMessage());
    assertTrue(e.getMessage().contains("finished as another stage"), e.getMessage());
  }

  private static void markDone(Path root, LongRopePlan.Stage s) throws Exception {
    Files.createDirectories(root.resolve(s.folder()));
    Files.writeString(root.resolve(s.folder()).resolve(LongRopePlan.DONE), "{\"spec\": \"" + s.spec() + "\"}");
  }

  @Test
  void theSectionDefaultsToNoStages() {
    assertEquals(List.of(), LongRopeConfig.defaults().stages());
  }
}
