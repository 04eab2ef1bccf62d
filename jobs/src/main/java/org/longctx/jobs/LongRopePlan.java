package org.longctx.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.longctx.jobs.config.ConfigException;
import org.longctx.jobs.config.LongRopeConfig;

/**
 * The progressive recipe's stages resolved against each other, without running anything: which
 * folder each stage writes, which model it reads (the base or the last fine-tune's) and which
 * factor file (the last search's or short search's), and which stages a rerun skips.
 *
 * <p>Each stage writes into {@code OUT/<n>-<stage>[-<length>]} and, when it has finished,
 * {@code stage.json} there, holding {@link Stage#spec()}. A rerun skips every stage with a
 * {@code stage.json} of the same spec, and enters the first one without it; that stage resumes
 * through its own mechanism (a search's {@code state.json}, a fine-tune's checkpoints).
 */
final class LongRopePlan {
  static final String DONE = "stage.json";

  private static final ObjectMapper JSON = new ObjectMapper();

  private LongRopePlan() {}

  /**
   * One planned stage.
   *
   * @param index 1-based position
   * @param kind search, train, short or export
   * @param length tokens it works at: a search's target, a fine-tune's window, a short search's
   *     document length (0 = L0); 0 for export
   * @param folder its folder under the pipeline's output
   * @param model 0 = the base model, else the index of the fine-tune whose model it reads
   * @param factors 0 = none, else the index of the search (or short search) whose factors.json it reads
   * @param set the stage's own overrides
   */
  record Stage(int index, String kind, int length, String folder, int model, int factors, List<String> set) {

    /** What the stage is, as recorded in its stage.json: a finished stage of another spec is not this one. */
    String spec() {
      return kind + " length=" + length + " model=" + model + " factors=" + factors + " set=" + set;
    }

    /** Whether it finished earlier (its stage.json holds this spec); a stage.json of another spec is an error. */
    boolean done(Path root) throws IOException {
      Path file = root.resolve(folder).resolve(DONE);
      if (!Files.isRegularFile(file)) {
        return false;
      }
      JsonNode json = JSON.readTree(file.toFile());
      String recorded = json.path("spec").asText();
      if (!recorded.equals(spec())) {
        throw new ConfigException("longrope.stages[" + (index - 1) + "]: " + root.resolve(folder) + " finished as another stage ("
            + recorded + "), not this one (" + spec() + "); use another output folder or --overwrite");
      }
      return true;
    }

    String describe() {
      return kind + (length > 0 ? " at " + length + " tokens" : "");
    }
  }

  /**
   * Resolves the stages.
   *
   * @throws ConfigException naming the stage when it lacks what it needs (a fine-tune or export
   *     before any search, a fine-tune longer than its factors' target)
   */
  static List<Stage> of(LongRopeConfig config) {
    if (config.stages().isEmpty()) {
      throw new ConfigException("longrope.stages: required: the pipeline's stages, e.g. [{stage: search, length: 2048}, "
          + "{stage: train}, {stage: short}, {stage: export}] (docs/longrope.md)");
    }
    List<Stage> out = new ArrayList<>();
    int model = 0;
    int factors = 0;
    int factorsTarget = 0;
    for (int i = 0; i < config.stages().size(); i++) {
      LongRopeConfig.Stage s = config.stages().get(i);
      int index = i + 1;
      String key = "longrope.stages[" + i + "]";
      int length = s.length();
      switch (s.stage()) {
        case "search" -> {
          out.add(stage(index, s, length, model, factors));
          factors = index;
          factorsTarget = length;
        }
        case "train" -> {
          if (factors == 0) {
            throw new ConfigException(key + ": a fine-tune needs factors: put a search stage before it");
          }
          length = length == 0 ? factorsTarget : length;
          if (length > factorsTarget) {
            throw new ConfigException(key + ".length: the factors were searched for " + factorsTarget + " tokens; a fine-tune may use "
                + "them at that length or shorter (they are rescaled), got " + length);
          }
          out.add(stage(index, s, length, model, factors));
          model = index;
        }
        case "short" -> {
          if (factors == 0) {
            throw new ConfigException(key + ": a short-factor search needs long factors: put a search stage before it");
          }
          out.add(stage(index, s, length, model, factors));
          factors = index;
        }
        case "export" -> {
          if (factors == 0) {
            throw new ConfigException(key + ": an export writes searched factors: put a search stage before it");
          }
          out.add(stage(index, s, 0, model, factors));
        }
        default -> throw new IllegalStateException(s.stage());
      }
    }
    return List.copyOf(out);
  }

  private static Stage stage(int index, LongRopeConfig.Stage s, int length, int model, int factors) {
    String folder = index + "-" + s.stage() + (length > 0 ? "-" + length : "");
    return new Stage(index, s.stage(), length, folder, model, factors, s.set());
  }

  /** The index (1-based) of the first stage that has not finished; {@code stages.size() + 1} when all have. */
  static int firstUnfinished(List<Stage> stages, Path root) throws IOException {
    for (Stage s : stages) {
      if (!s.done(root)) {
        return s.index();
      }
    }
    return stages.size() + 1;
  }
}
