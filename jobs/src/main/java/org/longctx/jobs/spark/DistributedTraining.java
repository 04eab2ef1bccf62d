package org.longctx.jobs.spark;

import ai.djl.Device;
import ai.djl.engine.Engine;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.Serializable;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.sql.SparkSession;
import org.longctx.checkpoints.Storage;
import org.longctx.checkpoints.training.CheckpointStore;
import org.longctx.jobs.config.ConfigLoader;
import org.longctx.jobs.config.ExperimentConfig;
import org.longctx.kernels.NativeKernels;
import org.longctx.kernels.NcclCommunicator;
import org.longctx.trainer.distributed.Collective;
import org.longctx.trainer.distributed.DistributedConfig;
import org.longctx.trainer.distributed.NcclCollective;
import org.longctx.trainer.distributed.Ring;
import org.longctx.trainer.distributed.RingCollective;
import org.longctx.trainer.recipes.Recipes;
import org.longctx.trainer.recipes.StopSignal;
import org.longctx.trainer.recipes.TrainingResult;
import org.longctx.trainer.recipes.TrainingRun;
import org.longctx.trainer.recipes.TrainingSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

/**
 * Data-parallel training on Spark executors: {@code distributed.workers} = N replicas as one
 * barrier stage of N tasks, task {@code i} = rank {@code i}, each in its own executor JVM (DJL
 * allows one gradient collector per JVM, so {@code local[N]} cannot host two replicas).
 *
 * <p>The driver makes a per-job secret and ships it in the task closure; each task listens on a
 * port, announces {@code host:port} through {@link BarrierTaskContext#allGather}, and joins the
 * {@link Ring} (connections that do not know the secret are refused). Every replica opens the
 * same {@link TrainingSession} (the latest complete checkpoint when resuming) with a
 * {@link RingCollective}; rank 0 writes checkpoints, metrics and the export.
 *
 * <p>Failure: a task or executor that dies fails the barrier stage. The stage is a shuffle-map
 * stage (its one-line results go through a shuffle) because Spark retries a failed barrier
 * shuffle-map stage — up to {@code spark.stage.maxConsecutiveAttempts} times — but aborts a
 * failed barrier result stage. Every retried attempt resumes from the latest complete
 * checkpoint, and {@code metrics.jsonl} drops the lines logged after it, so no step is lost or
 * counted twice.
 */
public final class DistributedTraining {
  private static final Logger LOG = LoggerFactory.getLogger(DistributedTraining.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private DistributedTraining() {}

  /**
   * What rank 0 reports back: its description of the run, and where its step time went.
   *
   * @param describe the summary {@code longctx train} prints
   * @param stoppedBy null when the run completed
   * @param steps steps run in the last stage attempt
   * @param trainSeconds wall time of those steps (checkpoints included)
   * @param communicationSeconds time inside ring operations (waiting for slower replicas included)
   * @param stageAttempt the Spark stage attempt that finished (0 = no retry)
   * @param bytesSent bytes rank 0 sent into the ring
   * @param gradientSeconds per step of the last attempt, rank 0's gradient exchange (copies and all-reduce)
   */
  public record Outcome(String describe, String stoppedBy, long steps, double trainSeconds, double communicationSeconds,
      int stageAttempt, long bytesSent, List<Double> gradientSeconds) {

    public double communicationShare() {
      return trainSeconds > 0 ? communicationSeconds / trainSeconds : Double.NaN;
    }
  }

  /** Checks what barrier mode cannot do before anything starts; throws naming the setting. */
  static void checkConfig(DistributedConfig d, SparkConf conf) {
    if (d.backend().equals("nccl") && conf.getDouble("spark.task.resource.gpu.amount", 0) <= 0) {
      throw new IllegalArgumentException("distributed.backend: nccl averages gradients between GPUs, one per replica, but "
          + "spark.task.resource.gpu.amount is not set: give each task a GPU (spark.executor.resource.gpu.amount=1, "
          + "spark.task.resource.gpu.amount=1 and a discovery script, docs/distributed.md), or use backend: ring");
    }
    String master = conf.get("spark.master", "");
    if (master.startsWith("local") && !master.startsWith("local-cluster")) {
      throw new IllegalArgumentException("distributed.workers " + d.workers() + ": spark.master " + master + " runs every task as a "
          + "thread of one JVM, but DJL allows one gradient collector per JVM, so each replica needs its own executor: use a "
          + "cluster master (spark://, yarn, k8s://) or, on one machine, local-cluster[" + d.workers() + ",1,4096]");
    }
    if (conf.getBoolean("spark.dynamicAllocation.enabled", false)) {
      throw new IllegalArgumentException("distributed.workers " + d.workers() + ": spark.dynamicAllocation.enabled is true, but "
          + "barrier mode (all replicas at once) cannot run with dynamic allocation; set it to false");
    }
    if (conf.contains("spark.executor.cores")) {
      int cores = conf.getInt("spark.executor.cores", 1);
      int perTask = conf.getInt("spark.task.cpus", 1);
      if (perTask != cores) {
        throw new IllegalArgumentException("distributed.workers " + d.workers() + ": each replica needs an executor JVM of its own, "
            + "so spark.task.cpus (" + perTask + ") must equal spark.executor.cores (" + cores + ")");
      }
    }
  }

  /**
   * The Spark settings a run of {@code workers} replicas needs, where the user did not set them:
   * one task slot per executor (each replica its own JVM) and exactly {@code workers} executors.
   */
  static void applyDefaults(DistributedConfig d, SparkConf conf) {
    conf.setIfMissing("spark.executor.cores", "1");
    conf.setIfMissing("spark.task.cpus", conf.get("spark.executor.cores"));
    conf.setIfMissing("spark.cores.max", String.valueOf(d.workers() * conf.getInt("spark.executor.cores", 1))); // standalone
    conf.setIfMissing("spark.executor.instances", String.valueOf(d.workers())); // YARN, Kubernetes
    // a failed barrier stage is retried from the latest checkpoint this many times in a row
    conf.setIfMissing("spark.stage.maxConsecutiveAttempts", "4");
  }

  /** Trains {@code config} on {@code distributed.workers} executors; returns rank 0's outcome. */
  public static Outcome train(ExperimentConfig config, boolean resume) throws IOException {
    DistributedConfig d = config.distributed();
    SparkConf conf = SparkSessions.conf(config.spark(), "train");
    checkConfig(d, conf);
    applyDefaults(d, conf);
    org.apache.hadoop.fs.Path out = Storage.outputPath(config.output().resolveDir(config.name()));
    String yaml = ConfigLoader.toYaml(config);
    try (SparkSession spark = SparkSessions.create(conf)) {
      JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      awaitExecutors(sc, d);
      Replica task = new Replica(yaml, out.toString(), resume, Ring.newSecret());
      List<String> results = sc.parallelize(IntStream.range(0, d.workers()).boxed().toList(), d.workers()).rdd()
          .barrier().mapPartitions(task, false, ClassTag$.MODULE$.apply(String.class))
          // the shuffle makes the barrier stage a shuffle-map stage, which Spark retries on failure
          .toJavaRDD().repartition(1).collect();
      String rank0 = results.stream().filter(s -> !s.isEmpty()).findFirst()
          .orElseThrow(() -> new IllegalStateException("no replica reported a result"));
      return JSON.readValue(rank0, Outcome.class);
    }
  }

  /** Waits until the master gave {@code workers} executors; refuses clearly when it does not. */
  private static void awaitExecutors(JavaSparkContext sc, DistributedConfig d) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(d.timeoutS());
    int executors = 0;
    while (System.nanoTime() < deadline) {
      executors = sc.sc().statusTracker().getExecutorInfos().length - 1; // the driver is listed too
      if (executors >= d.workers()) {
        LOG.info("distributed: {} executors for {} replicas", executors, d.workers());
        return;
      }
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for executors");
      }
    }
    throw new IllegalStateException("distributed.workers " + d.workers() + " needs " + d.workers() + " executors with one task slot "
        + "each, but the master gave " + executors + " within distributed.timeout_s = " + d.timeoutS() + " s; give the cluster more "
        + "workers or cores, or lower distributed.workers");
  }

  /** The barrier task: one replica. Serialized into the task closure with the config and the job's secret. */
  static final class Replica extends AbstractFunction1<scala.collection.Iterator<Integer>, scala.collection.Iterator<String>>
      implements Serializable {
    private static final long serialVersionUID = 1L;
    /** One replica per executor JVM: a retried stage's task waits here for the killed attempt's task to let go. */
    private static final Semaphore ONE_PER_JVM = new Semaphore(1);

    private final String yaml;
    private final String outputDir;
    private final boolean resume;
    private final byte[] secret;

    Replica(String yaml, String outputDir, boolean resume, byte[] secret) {
      this.yaml = yaml;
      this.outputDir = outputDir;
      this.resume = resume;
      this.secret = secret;
    }

    @Override
    public scala.collection.Iterator<String> apply(scala.collection.Iterator<Integer> partition) {
      try {
        return scala.jdk.javaapi.CollectionConverters.asScala(List.of(run()).iterator());
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("replica interrupted", e);
      }
    }

    private String run() throws IOException, InterruptedException {
      BarrierTaskContext ctx = BarrierTaskContext.get();
      int rank = ctx.partitionId();
      int workers = ctx.getTaskInfos().length;
      ExperimentConfig config = ConfigLoader.parse(yaml, "the driver's config", List.of());
      DistributedConfig d = config.distributed();
      Device device = device(ctx, d);
      if (!ONE_PER_JVM.tryAcquire(d.timeoutS(), TimeUnit.SECONDS)) {
        throw new IllegalStateException("rank " + rank + ": another replica still runs in this executor JVM after "
            + d.timeoutS() + " s; each replica needs its own executor (spark.task.cpus = spark.executor.cores)");
      }
      try {
        String host = SparkEnv.get().blockManager().blockManagerId().host();
        ServerSocketChannel listener = Ring.listen(host, d.port());
        InetSocketAddress mine = (InetSocketAddress) listener.getLocalAddress();
        String[] all = ctx.allGather(host + ":" + mine.getPort());
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (String a : all) {
          int colon = a.lastIndexOf(':');
          addresses.add(new InetSocketAddress(a.substring(0, colon), Integer.parseInt(a.substring(colon + 1))));
        }
        org.apache.hadoop.fs.Path out = new org.apache.hadoop.fs.Path(outputDir);
        // a retried attempt continues from the latest complete checkpoint, if the failed one wrote any
        boolean resumeNow = resume || (ctx.stageAttemptNumber() > 0 && hasCheckpoint(out));
        LOG.info("replica rank {} of {} (stage attempt {}), ring {} on {}, {}", rank, workers, ctx.stageAttemptNumber(),
            addresses, device, resumeNow ? "resuming" : "fresh");
        Ring ring = Ring.connect(rank, addresses, listener, secret, Duration.ofSeconds(d.timeoutS()), d.bucketMb() << 20);
        try (Collective collective = collective(new RingCollective(ring), d, device)) {
          LOG.info("replica rank {}: gradients averaged by {}", rank, collective.getClass().getSimpleName());
          JsonNode experiment = new ObjectMapper(new YAMLFactory()).readTree(yaml);
          TrainingRun run = new TrainingRun(config.train(), config.model(), config.data(), config.rope(), config.pose(), config.fot(), out,
              resumeNow, experiment, StopSignal.manual());
          long start = System.nanoTime();
          TrainingResult result;
          long startStep;
          try (TrainingSession session = TrainingSession.open(run, Recipes.byName(config.train().recipe()), collective, device)) {
            startStep = session.startStep();
            start = System.nanoTime();
            result = session.train();
          }
          double seconds = (System.nanoTime() - start) / 1e9;
          if (rank != 0) {
            return "";
          }
          Outcome outcome = new Outcome(org.longctx.jobs.TrainJob.describe(result, out), result.stoppedBy(),
              result.step() - startStep, seconds, ring.communicationTime().toNanos() / 1e9, ctx.stageAttemptNumber(),
              ring.bytesSent(), collective.gradientSeconds());
          return JSON.writeValueAsString(outcome);
        }
      } finally {
        ONE_PER_JVM.release();
      }
    }

    /** The task's GPU when Spark assigned one ({@code spark.task.resource.gpu.amount}), else the engine's default device. */
    private static Device device(BarrierTaskContext ctx, DistributedConfig d) {
      Map<String, ResourceInformation> resources = scala.jdk.javaapi.CollectionConverters.asJava(ctx.resources());
      ResourceInformation gpu = resources.get("gpu");
      if (gpu != null && gpu.addresses().length > 0) {
        return Device.gpu(Integer.parseInt(gpu.addresses()[0]));
      }
      return Engine.getInstance().defaultDevice();
    }

    /**
     * The gradient exchange {@code distributed.backend} asks for: {@code ring} the TCP ring itself,
     * {@code nccl} NCCL between the tasks' GPUs (rank 0's unique id sent over the ring), {@code auto}
     * NCCL where the task has a GPU and the native library has NCCL, else the ring. Every rank
     * decides alike: Spark gives every task of the stage the same resources and executors the same
     * library.
     */
    static Collective collective(RingCollective ring, DistributedConfig d, Device device) {
      boolean nccl = switch (d.backend()) {
        case "nccl" -> true;
        case "auto" -> device.isGpu() && NcclCommunicator.available();
        default -> false;
      };
      if (!nccl) {
        return ring;
      }
      if (!device.isGpu()) {
        ring.close();
        throw new IllegalArgumentException("distributed.backend: nccl, but rank " + ring.rank() + " has no GPU (device "
            + device + "): give each task a GPU (spark.task.resource.gpu.amount=1) or use backend: ring");
      }
      if (!NcclCommunicator.available()) {
        ring.close();
        throw new IllegalArgumentException("distributed.backend: nccl, but rank " + ring.rank() + " has no NCCL: "
            + NativeKernels.status() + "; build the native library with NCCL on the GPU nodes (docs/gpu.md) or use "
            + "backend: ring");
      }
      try {
        String id = ring.allGather(ring.rank() == 0 ? HexFormat.of().formatHex(NcclCommunicator.uniqueId()) : "").get(0);
        NcclCommunicator communicator = NcclCommunicator.open(HexFormat.of().parseHex(id), ring.worldSize(), ring.rank(),
            device, Duration.ofSeconds(d.timeoutS()));
        return new NcclCollective(ring, communicator);
      } catch (RuntimeException e) {
        ring.close();
        throw e;
      }
    }

    private static boolean hasCheckpoint(org.apache.hadoop.fs.Path out) throws IOException {
      return CheckpointStore.at(new org.apache.hadoop.fs.Path(out, "checkpoints"), Storage.defaultConf()).latestStep().isPresent();
    }
  }
}
