package org.longctx.jobs;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/**
 * {@code bin/longctx}: dispatches {@code longctx SUBCOMMAND [options]} to the job classes.
 *
 * <p>Job classes are named here, not referenced: a job class is loaded only when its subcommand
 * runs. Loading one links everything its methods use, and the Spark jobs' classes use Spark's
 * (EvalJob's progress listener extends a Spark listener), so referencing every job from here
 * would make {@code longctx train} fail where Spark is not on the classpath.
 *
 * <pre>Usage: longctx help | longctx SUBCOMMAND --help | longctx SUBCOMMAND [options]</pre>
 */
public final class Cli {

  /**
   * A subcommand as {@code help} lists it, with the class that runs it.
   *
   * @param name the word after {@code longctx}
   * @param summary one line for {@code longctx help}
   * @param jobClass the class holding the subcommand's {@code COMMAND}, loaded only by {@link #load}
   */
  record Entry(String name, String summary, String jobClass) {

    /** The job's {@link Subcommand}; loads its class. */
    Subcommand load() {
      Subcommand command;
      try {
        command = (Subcommand) Class.forName(jobClass).getField("COMMAND").get(null);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(jobClass + " has no public static COMMAND", e);
      }
      if (!command.name().equals(name)) {
        throw new IllegalStateException(jobClass + ".COMMAND is '" + command.name() + "', listed as '" + name + "'");
      }
      return command;
    }
  }

  /** Every subcommand, in the order {@code help} lists them. */
  static final List<Entry> COMMANDS = List.of(
      new Entry("config", "print the resolved experiment config, or check it", "org.longctx.jobs.ConfigJob"),
      new Entry("cluster-check", "check that Spark executors run DJL (embedded or a real cluster)", "org.longctx.jobs.ClusterCheckJob"),
      new Entry("rope", "print a rope config's inv_freq, attention factor and cos/sin rows", "org.longctx.jobs.RopeJob"),
      new Entry("score", "print a model's logits for token ids (JSON)", "org.longctx.jobs.ScoreJob"),
      new Entry("export", "write a Hugging Face model folder from a model or checkpoint", "org.longctx.jobs.ExportJob"),
      new Entry("tokenizer", "write a byte-level tokenizer.json (no download needed)", "org.longctx.jobs.TokenizerJob"),
      new Entry("synth", "write synthetic long-context data (passkey, multikey, dependent, copy, damaged)", "org.longctx.jobs.SynthJob"),
      new Entry("prepare", "tokenize Pile/RedPajama shards into Arrow shards (+ manifest, rejects)", "org.longctx.jobs.PrepareJob"),
      new Entry("bench", "measure throughput on this machine (bench prepare | train | pose-memory)", "org.longctx.jobs.BenchJob"),
      new Entry("train", "train a model (recipes: pretrain, pose) with checkpoints and metrics", "org.longctx.jobs.TrainJob"),
      new Entry("eval", "passkey accuracy and perplexity by length for several methods, with charts", "org.longctx.jobs.EvalJob"),
      new Entry("search", "LongRoPE's evolutionary search for rope factors (Spark tasks score the candidates)", "org.longctx.jobs.SearchJob"),
      new Entry("longrope", "LongRoPE's progressive recipe: search, fine-tune, re-search, short factors, export (resumable)",
          "org.longctx.jobs.LongRopeJob"),
      new Entry("demo", "the whole pipeline on a tiny model: synth, prepare, PoSE, export, eval, report", "org.longctx.jobs.DemoJob"));

  private Cli() {}

  public static void main(String[] argv) {
    int status = run(argv, System.out, System.err);
    System.out.flush();
    System.exit(status);
  }

  static int run(String[] argv, PrintStream out, PrintStream err) {
    if (argv.length == 0 || List.of("help", "--help", "-h").contains(argv[0])) {
      if (argv.length > 1) {
        Subcommand command = find(argv[1], err);
        return command == null ? 2 : command.execute(new String[] {"--help"}, out, err);
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

  /** The subcommand called {@code name}, its class loaded; null (after one line on {@code err}) when there is none or it cannot load. */
  private static Subcommand find(String name, PrintStream err) {
    for (Entry e : COMMANDS) {
      if (e.name().equals(name)) {
        try {
          return e.load();
        } catch (NoClassDefFoundError missing) {
          // a Spark job started without Spark's jars (bin/longctx and spark-submit provide them)
          err.println("longctx " + name + ": cannot load " + e.jobClass() + ": class " + missing.getMessage()
              + " is missing; this subcommand needs Spark's jars on the classpath (run it through bin/longctx or spark-submit)");
          return null;
        }
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
    for (Entry c : COMMANDS) {
      sb.append(String.format("  %-15s %s%n", c.name(), c.summary()));
    }
    sb.append("\nCommon options: --verbose (debug logging), --help\n");
    return sb.toString();
  }
}
