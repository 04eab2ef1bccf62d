package org.longctx.jobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.longctx.jobs.spark.SparkSessions;

/**
 * A real Spark standalone cluster for integration tests: one master and N workers, each its
 * own JVM on 127.0.0.1, started from the jars Maven collected in {@code target/spark/jars}
 * (the same layout a Spark distribution has, see docs/architecture.md). Jobs go in through
 * {@code org.apache.spark.deploy.SparkSubmit} with the application jar, exactly as
 * docs/cluster.md tells users to run them.
 *
 * <pre>{@code
 * try (StandaloneCluster cluster = StandaloneCluster.start(2)) {
 *   StandaloneCluster.Submission run = cluster.submit(PrepareJob.class, List.of("--config", yaml));
 *   assertEquals(0, run.exitCode(), run.output());
 * }
 * }</pre>
 *
 * Requires {@code mvn package} output (failsafe runs after it). {@link #close()} stops every
 * process, executors included, also when the test failed; a shutdown hook covers a killed JVM.
 */
public final class StandaloneCluster implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration SUBMIT_TIMEOUT = Duration.ofMinutes(8);

  private final Path target;
  private final Path home;
  private final List<Process> processes = new ArrayList<>();
  private final Thread shutdownHook = new Thread(this::stopProcesses, "standalone-cluster-stop");
  private int masterPort;
  private int masterWebPort;

  private StandaloneCluster(Path target, Path home) {
    this.target = target;
    this.home = home;
  }

  /** Starts a master and {@code workers} workers (1 core, 2 GiB each) and waits until all registered. */
  public static StandaloneCluster start(int workers) throws IOException, InterruptedException {
    Path target = Path.of(System.getProperty("longctx.jobs.target", "target")).toAbsolutePath();
    if (!Files.isDirectory(target.resolve("spark/jars")) || applicationJar(target) == null) {
      throw new IllegalStateException("no packaged build in " + target + ": run 'mvn package' first");
    }
    Path home = Files.createTempDirectory("longctx-spark-home");
    StandaloneCluster cluster = new StandaloneCluster(target, home);
    Runtime.getRuntime().addShutdownHook(cluster.shutdownHook);
    try {
      cluster.startAll(workers);
      return cluster;
    } catch (IOException | InterruptedException | RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  private void startAll(int workers) throws IOException, InterruptedException {
    // SPARK_HOME needs jars/ and a RELEASE file, or executors look for build directories.
    Files.createSymbolicLink(home.resolve("jars"), target.resolve("spark/jars"));
    Files.writeString(home.resolve("RELEASE"), "Spark (jars from Maven) for longctx tests\n");
    masterPort = freePort();
    masterWebPort = freePort();
    launch("master", List.of("org.apache.spark.deploy.master.Master",
        "--host", "127.0.0.1", "--port", String.valueOf(masterPort), "--webui-port", String.valueOf(masterWebPort)));
    for (int i = 0; i < workers; i++) {
      Path work = Files.createDirectories(home.resolve("work-" + i));
      launch("worker-" + i, List.of("org.apache.spark.deploy.worker.Worker",
          "--host", "127.0.0.1", "--cores", "1", "--memory", "2g",
          "--webui-port", String.valueOf(freePort()), "--work-dir", work.toString(), masterUrl()));
    }
    awaitWorkers(workers);
  }

  public String masterUrl() {
    return "spark://127.0.0.1:" + masterPort;
  }

  /** The application jar users pass to spark-submit ({@code longctx-jobs-VERSION-spark.jar}). */
  public Path applicationJar() {
    return applicationJar(target);
  }

  /** The DJL native library jar, shipped to executors with {@code --jars}. */
  public Path nativeJar() throws IOException {
    try (Stream<Path> files = Files.list(target.resolve("dist/lib"))) {
      return files.filter(p -> p.getFileName().toString().startsWith("pytorch-native-cpu-")).findFirst()
          .orElseThrow(() -> new IllegalStateException("pytorch-native-cpu jar missing in " + target.resolve("dist/lib")));
    }
  }

  /**
   * The executor JVMs worker {@code worker} (0-based) runs for applications now, found among
   * its child processes by their main class.
   */
  public List<ProcessHandle> executors(int worker) {
    Process p = processes.get(1 + worker); // the master was started first
    return p.descendants().filter(h -> h.info().commandLine().orElse("").contains("CoarseGrainedExecutorBackend")).toList();
  }

  /** Result of one spark-submit: its exit status and everything it printed. */
  public record Submission(int exitCode, String output) {}

  /** Submits {@code mainClass} in client mode with the application jar, like the command in docs/cluster.md. */
  public Submission submit(Class<?> mainClass, List<String> appArgs) throws IOException, InterruptedException {
    return submit(mainClass, appArgs, Map.of());
  }

  /** As {@link #submit(Class, List)}, with extra {@code --conf} properties. */
  public Submission submit(Class<?> mainClass, List<String> appArgs, Map<String, String> conf)
      throws IOException, InterruptedException {
    List<String> args = new ArrayList<>(List.of("org.apache.spark.deploy.SparkSubmit",
        "--master", masterUrl(), "--deploy-mode", "client",
        "--class", mainClass.getName(),
        "--jars", nativeJar().toString(),
        "--conf", "spark.executor.memory=1g",
        "--conf", "spark.driver.host=127.0.0.1",
        "--conf", "spark.ui.enabled=false",
        // schedule only once every worker has its executor, so tasks spread over all of them
        "--conf", "spark.scheduler.minRegisteredResourcesRatio=1.0"));
    for (Map.Entry<String, String> e : conf.entrySet()) {
      args.add("--conf");
      args.add(e.getKey() + "=" + e.getValue());
    }
    args.add(applicationJar().toString());
    args.addAll(appArgs);
    Path log = home.resolve("submit-" + System.nanoTime() + ".log");
    Process submit = processBuilder(args, log).start();
    if (!submit.waitFor(SUBMIT_TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)) {
      submit.descendants().forEach(ProcessHandle::destroyForcibly);
      submit.destroyForcibly();
      return new Submission(124, Files.readString(log) + "\n(spark-submit timed out after " + SUBMIT_TIMEOUT + ")");
    }
    return new Submission(submit.exitValue(), Files.readString(log));
  }

  private void launch(String name, List<String> args) throws IOException {
    processes.add(processBuilder(args, home.resolve(name + ".log")).start());
  }

  private ProcessBuilder processBuilder(List<String> mainAndArgs, Path log) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of(SparkSessions.JVM_OPTIONS.split(" ")));
    command.add("-Xmx1g");
    command.add("-cp");
    command.add(home.resolve("jars") + "/*");
    command.addAll(mainAndArgs);
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    Map<String, String> env = pb.environment();
    env.put("SPARK_HOME", home.toString());
    env.put("SPARK_SCALA_VERSION", "2.13");
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    env.put("JAVA_HOME", System.getProperty("java.home"));
    return pb;
  }

  private void awaitWorkers(int expected) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    Pattern alive = Pattern.compile("\"aliveworkers\"\\s*:\\s*(\\d+)");
    int seen = -1;
    while (System.nanoTime() < deadline) {
      for (Process p : processes) {
        if (!p.isAlive()) {
          throw new IllegalStateException("a cluster process exited early:\n" + logs());
        }
      }
      String json = fetch("http://127.0.0.1:" + masterWebPort + "/json/");
      if (json != null) {
        Matcher m = alive.matcher(json);
        if (m.find()) {
          seen = Integer.parseInt(m.group(1));
          if (seen >= expected) {
            return;
          }
        }
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException("only " + seen + " of " + expected + " workers registered within "
        + START_TIMEOUT + ":\n" + logs());
  }

  private static String fetch(String url) {
    try {
      HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
      c.setConnectTimeout(1000);
      c.setReadTimeout(2000);
      try (var in = c.getInputStream()) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } finally {
        c.disconnect();
      }
    } catch (IOException e) {
      return null; // not up yet
    }
  }

  /** The last lines of every process log, for failure messages. */
  public String logs() {
    StringBuilder sb = new StringBuilder();
    try (Stream<Path> files = Files.list(home)) {
      for (Path log : files.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
        List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
        sb.append("---- ").append(log.getFileName()).append('\n');
        lines.subList(Math.max(0, lines.size() - 30), lines.size()).forEach(l -> sb.append(l).append('\n'));
      }
    } catch (IOException e) {
      sb.append("(cannot read logs: ").append(e.getMessage()).append(")\n");
    }
    return sb.toString();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static Path applicationJar(Path target) {
    try (Stream<Path> files = Files.list(target)) {
      return files.filter(p -> p.getFileName().toString().matches("longctx-jobs-.*-spark\\.jar")).findFirst().orElse(null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Workers first (they stop their executors on SIGTERM), then the master; forcibly if slow. */
  private synchronized void stopProcesses() {
    List<Process> reversed = new ArrayList<>(processes);
    java.util.Collections.reverse(reversed);
    List<ProcessHandle> all = new ArrayList<>();
    for (Process p : reversed) {
      all.addAll(p.descendants().toList());
      all.add(p.toHandle());
    }
    all.forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    for (ProcessHandle h : all) {
      while (h.isAlive() && System.nanoTime() < deadline) {
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      h.destroyForcibly();
    }
    processes.clear();
  }

  @Override
  public void close() {
    stopProcesses();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // already shutting down: the hook itself is running
    }
    try (Stream<Path> walk = Files.walk(home)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a leftover temp folder is harmless
    }
  }
}
