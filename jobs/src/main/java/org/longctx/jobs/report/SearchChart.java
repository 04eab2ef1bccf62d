package org.longctx.jobs.report;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** {@code search.png}: the LongRoPE search's best perplexity per generation against PI and YaRN. */
public final class SearchChart {
  public static final String FILE = "search.png";

  private SearchChart() {}

  /**
   * @param bestByGeneration the best perplexity after population 0 and each generation
   * @param references the flat lines to beat (name → perplexity), e.g. PI and YaRN
   */
  public static Path write(Path dir, String title, List<Double> bestByGeneration, Map<String, Double> references) throws IOException {
    double[] values = bestByGeneration.stream().mapToDouble(Double::doubleValue).toArray();
    Path file = dir.resolve(FILE);
    Charts.writePng(Charts.generations(title, "perplexity at the target length", "searched (best so far)", values, references),
        file.toFile());
    return file;
  }
}
