package org.longctx.jobs;

import java.util.Set;
import org.longctx.jobs.config.ConfigLoader;
import org.longctx.jobs.config.ExperimentConfig;

/**
 * Prints or checks an experiment config.
 *
 * <pre>Usage: longctx config --print CONFIG.yaml [--set key=value]...
 *        longctx config --check CONFIG.yaml [--set key=value]...</pre>
 */
public final class ConfigJob {
  static final String USAGE = """
      Usage: longctx config --print CONFIG.yaml [--set section.key=value]...
             longctx config --check CONFIG.yaml [--set section.key=value]...

      --print   print the fully resolved config (file + overrides + defaults) as YAML
      --check   validate only; prints 'ok' or the first problem
      --set     override one key, e.g. --set train.lr=3e-5 or --set spark.executor.memory=4g
      """;

  public static final Subcommand COMMAND = new Subcommand(
      "config", USAGE,
      Set.of(), Set.of("--print", "--check", "--set"), ConfigJob::run);

  private ConfigJob() {}

  public static void main(String[] args) {
    Subcommand.main(COMMAND, args);
  }

  static int run(Args args) {
    args.noPositionals();
    boolean print = args.value("--print").isPresent();
    boolean check = args.value("--check").isPresent();
    if (print == check) {
      throw new UsageException("give exactly one of --print CONFIG or --check CONFIG");
    }
    String file = args.value(print ? "--print" : "--check").orElseThrow();
    ExperimentConfig config = ConfigLoader.load(java.nio.file.Path.of(file), args.values("--set"));
    System.out.print(print ? ConfigLoader.toYaml(config) : "ok: " + file + "\n");
    return 0;
  }
}
