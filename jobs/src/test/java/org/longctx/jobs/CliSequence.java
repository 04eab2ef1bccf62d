package org.longctx.jobs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Run in a child JVM by {@link SparkFreeTrainIT}: runs one {@code longctx} command per line of
 * the file named by its argument (words separated by tabs) in this one JVM, prints each exit
 * status, and exits with the number of commands that did not return 0.
 */
public final class CliSequence {
  private CliSequence() {}

  public static void main(String[] args) throws Exception {
    List<String> lines = Files.readAllLines(Path.of(args[0]));
    int failed = 0;
    for (String line : lines) {
      int status = Cli.run(line.split("\t"), System.out, System.err);
      System.out.println("status " + status + ": " + line.replace('\t', ' '));
      failed += status == 0 ? 0 : 1;
    }
    System.out.flush();
    System.exit(failed);
  }
}
