package org.longctx.jobs;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.Serializable;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.longctx.jobs.config.ExperimentConfig;
import org.longctx.jobs.spark.SparkSessions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks that a Spark master runs longctx work: every task loads DJL's PyTorch engine on its
 * executor, computes a known sum with it and reports where it ran. Run it first on a new
 * cluster; it fails loudly if executors cannot find the native library.
 *
 * <pre>Usage: longctx cluster-check [--config X.yaml] [--set spark.master=URL] [--tasks N] [--out FILE]</pre>
 */
public final class ClusterCheckJob {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterCheckJob.class);

  static final String USAGE = """
      Usage: longctx cluster-check [--config X.yaml] [--set key=value]... [--tasks N] [--out FILE]

      Runs N tasks (default 4) on the configured Spark master (default the embedded local[*]).
      Each task loads DJL's PyTorch engine and computes sum(arange(1000) * (task + 1)).
      Prints a JSON report (executors, processes, engine, ok) to stdout, or writes it to FILE.
      Exit status 0 when every task computed the right value, 1 otherwise.

      --set spark.master=spark://host:7077   run on a standalone cluster
      """;

  public static final Subcommand COMMAND = new Subcommand(
      "cluster-check", USAGE,
      Set.of(), Set.of("--config", "--set", "--tasks", "--out"), ClusterCheckJob::run);

  /** What one task saw; {@code sum} must equal {@code (partition + 1) * 499500}. */
  public record TaskReport(int partition, String executorId, String host, long pid, String engine, double sum)
      implements Serializable {}

  private ClusterCheckJob() {}

  public static void main(String[] args) {
    Subcommand.main(COMMAND, args);
  }

  static int run(Args args) throws Exception {
    args.noPositionals();
    ExperimentConfig config = Subcommand.loadConfig(args);
    int tasks = args.intValue("--tasks", 4);
    if (tasks < 1) {
      throw new UsageException("--tasks must be >= 1, got " + tasks);
    }
    Map<String, Object> report = new LinkedHashMap<>();
    try (SparkSession spark = SparkSessions.create(config.spark(), "cluster-check")) {
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      List<Integer> partitions = IntStream.range(0, tasks).boxed().collect(Collectors.toList());
      List<TaskReport> reports = jsc.parallelize(partitions, tasks).map(ClusterCheckJob::runTask).collect();
      boolean ok = reports.size() == tasks
          && reports.stream().allMatch(r -> r.sum() == (r.partition() + 1) * 499500.0);
      Set<String> executors = new TreeSet<>();
      Set<String> processes = new TreeSet<>();
      for (TaskReport r : reports) {
        executors.add(r.executorId());
        processes.add(r.host() + ":" + r.pid());
      }
      report.put("master", spark.sparkContext().master());
      report.put("spark_version", spark.version());
      report.put("tasks", reports.size());
      report.put("executors", executors);
      report.put("processes", processes);
      report.put("engine", reports.isEmpty() ? "" : reports.get(0).engine());
      report.put("ok", ok);
      LOG.info("cluster-check: {} tasks on {} executor(s) in {} process(es): {}", reports.size(),
          executors.size(), processes.size(), ok ? "ok" : "WRONG RESULTS");
    }
    String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report);
    if (args.value("--out").isPresent()) {
      Files.writeString(Path.of(args.required("--out")), json + "\n");
    } else {
      System.out.println(json);
    }
    return Boolean.TRUE.equals(report.get("ok")) ? 0 : 1;
  }

  /** Runs on an executor: proves DJL's native engine loads and computes there. */
  static TaskReport runTask(int partition) {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray values = manager.arange(0f, 1000f).mul(partition + 1);
      double sum = values.sum().getFloat();
      Engine engine = Engine.getInstance();
      return new TaskReport(partition, SparkEnv.get().executorId(), hostName(), ProcessHandle.current().pid(),
          engine.getEngineName() + " " + engine.getVersion(), sum);
    }
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "unknown";
    }
  }
}
