package org.longctx.jobs.config;

/**
 * The {@code output:} section.
 *
 * @param dir where a job writes its results; empty means {@code runs/<name>} under the
 *     working directory; any Hadoop file system URI is accepted where the job says so
 * @param overwrite replace an existing output instead of refusing to start
 */
public record OutputConfig(String dir, boolean overwrite) {

  public static OutputConfig defaults() {
    return new OutputConfig("", false);
  }

  /** The output directory, defaulting to {@code runs/<experimentName>}. */
  public String resolveDir(String experimentName) {
    return dir == null || dir.isBlank() ? "runs/" + experimentName : dir;
  }
}
