package org.longctx.jobs;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/**
 * {@code bin/longctx}: dispatches {@code longctx SUBCOMMAND [options]} to the job classes.
 *
 * <pre>Usage: longctx help | longctx SUBCOMMAND --help | longctx SUBCOMMAND [options]</pre>
 */
public final class Cli {

  /** Every subcommand, in the order {@code help} lists them. */
  static final List<Subcommand> COMMANDS = List.of(
      ConfigJob.COMMAND,
      ClusterCheckJob.COMMAND,
      RopeJob.COMMAND,
      ScoreJob.COMMAND,
      ExportJob.COMMAND,
      TokenizerJob.COMMAND,
      SynthJob.COMMAND,
      PrepareJob.COMMAND,
      BenchJob.COMMAND,
      TrainJob.COMMAND,
      EvalJob.COMMAND,
      DemoJob.COMMAND);

  private Cli() {}

  public static void main(String[] argv) {
    int status = run(argv, System.out, System.err);
    System.out.flush();
    System.exit(status);
  }

  static int run(String[] argv, PrintStream out, PrintStream err) {
    if (argv.length == 0 || List.of("help", "--help", "-h").contains(argv[0])) {
      if (argv.length > 1) {
        return find(argv[1], err) == null ? 2 : find(argv[1], err).execute(new String[] {"--help"}, out, err);
      }
      out.print(help());
      return 0;
    }
    Subcommand command = find(argv[0], err);
    if (command == null) {
      return 2;
    }
    return command.execute(Arrays.copyOfRange(argv, 1, argv.length), out, err);
  }

  private static Subcommand find(String name, PrintStream err) {
    for (Subcommand c : COMMANDS) {
      if (c.name().equals(name)) {
        return c;
      }
    }
    err.println("longctx: unknown subcommand '" + name + "'; run 'longctx help' for the list");
    return null;
  }

  static String help() {
    StringBuilder sb = new StringBuilder();
    sb.append("longctx: extend the context window of Llama-family models\n\n");
    sb.append("Usage: longctx SUBCOMMAND [options]     (longctx SUBCOMMAND --help for its options)\n\n");
    sb.append("Subcommands:\n");
    for (Subcommand c : COMMANDS) {
      sb.append(String.format("  %-15s %s%n", c.name(), c.summary()));
    }
    sb.append("\nCommon options: --verbose (debug logging), --help\n");
    return sb.toString();
  }
}
