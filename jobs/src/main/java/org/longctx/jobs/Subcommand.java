package org.longctx.jobs;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;
import org.longctx.jobs.config.ConfigException;
import org.longctx.jobs.config.ConfigLoader;
import org.longctx.jobs.config.ExperimentConfig;

/**
 * One {@code longctx} subcommand. Every job class exposes one of these and a {@code main}
 * that calls {@link #main(Subcommand, String[])}, so the same code runs from
 * {@code bin/longctx NAME} and from {@code spark-submit --class org.longctx.jobs.XxxJob}.
 *
 * <p>{@code longctx help}'s one-line summaries live in {@link Cli}'s table, so listing the
 * subcommands loads none of the job classes.
 *
 * @param name the word after {@code longctx}
 * @param usage the full text printed by {@code --help} (followed by the docs pointer of {@link #DOCS})
 * @param flags options that take no value ({@code --verbose} and {@code --help} are implied)
 * @param options options that take a value
 * @param body what runs; returns the exit status
 */
public record Subcommand(
    String name, String usage, Set<String> flags, Set<String> options, Body body) {

  /** The work of a subcommand, given its parsed and checked arguments. */
  @FunctionalInterface
  public interface Body {
    int run(Args args) throws Exception;
  }

  /**
   * The reference file that describes each subcommand, relative to the repository root;
   * {@code --help} ends with a line pointing at it. {@code DocsLinksTest} checks that every
   * subcommand has one and that the file exists.
   */
  static final Map<String, String> DOCS = Map.ofEntries(
      Map.entry("config", "docs/configs.md"),
      Map.entry("cluster-check", "docs/cluster.md"),
      Map.entry("rope", "docs/rope.md"),
      Map.entry("score", "docs/models.md"),
      Map.entry("export", "docs/models.md"),
      Map.entry("tokenizer", "docs/data.md"),
      Map.entry("synth", "docs/data.md"),
      Map.entry("prepare", "docs/data.md"),
      Map.entry("bench", "docs/benchmarks.md"),
      Map.entry("train", "docs/training.md"),
      Map.entry("eval", "docs/eval.md"),
      Map.entry("search", "docs/longrope.md"),
      Map.entry("longrope", "docs/longrope.md"),
      Map.entry("demo", "docs/demo.md"));

  /** Options every subcommand accepts. */
  static final Set<String> COMMON_FLAGS = Set.of("--verbose", "--help");

  /** Runs the subcommand and exits the JVM with its status (the {@code main} of a job). */
  public static void main(Subcommand command, String[] argv) {
    int status = command.execute(argv, System.out, System.err);
    System.out.flush();
    System.exit(status);
  }

  /**
   * Runs the subcommand: {@code --help} prints usage; a bad command line or config prints one
   * line and returns 2; any other failure prints its reason and returns 1. Positional words are
   * left to the body ({@link Args#positionals()}).
   */
  public int execute(String[] argv, PrintStream out, PrintStream err) {
    Args args;
    try {
      Set<String> allFlags = new HashSet<>(flags);
      allFlags.addAll(COMMON_FLAGS);
      if (Arrays.asList(argv).contains("--help")) {
        out.println(help());
        return 0;
      }
      args = Args.parse(argv, allFlags, options);
    } catch (UsageException e) {
      err.println("longctx " + name + ": " + e.getMessage() + " (see 'longctx " + name + " --help')");
      return 2;
    }
    boolean verbose = args.flag("--verbose");
    if (verbose) {
      Configurator.setLevel("org.longctx", Level.DEBUG);
      Configurator.setRootLevel(Level.INFO);
    }
    try {
      return body.run(args);
    } catch (UsageException e) {
      err.println("longctx " + name + ": " + e.getMessage() + " (see 'longctx " + name + " --help')");
      return 2;
    } catch (ConfigException e) {
      err.println("longctx " + name + ": " + e.getMessage());
      return 2;
    } catch (Exception | Error e) {
      err.println("longctx " + name + ": failed: " + describe(e));
      if (verbose) {
        e.printStackTrace(err);
      } else {
        err.println("(run with --verbose for the stack trace)");
      }
      return 1;
    }
  }

  /** What {@code --help} prints: the usage text, then the docs file to read on. */
  public String help() {
    String docs = DOCS.get(name);
    return docs == null ? usage.strip() : usage.strip() + "\n\nSee " + docs + ".";
  }

  /** Loads {@code --config} (if given, else the defaults) with every {@code --set} applied. */
  public static ExperimentConfig loadConfig(Args args) {
    List<String> overrides = args.values("--set");
    return args.value("--config")
        .map(p -> ConfigLoader.load(Path.of(p), overrides))
        .orElseGet(() -> ConfigLoader.fromOverrides(overrides));
  }

  private static String describe(Throwable e) {
    StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
    for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
      if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
        sb.append(": ").append(c.getMessage());
      }
    }
    return sb.toString();
  }
}
