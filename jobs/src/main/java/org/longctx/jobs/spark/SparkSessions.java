package org.longctx.jobs.spark;

import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.longctx.jobs.config.SparkSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that builds a SparkSession for every longctx job: the embedded
 * {@code local[*]} by default, any master URL otherwise, Kryo with the project's classes
 * registered, and the JDK 17 module opens that Spark and Arrow need on executors.
 * Use it in try-with-resources; closing the session stops Spark.
 */
public final class SparkSessions {
  private static final Logger LOG = LoggerFactory.getLogger(SparkSessions.class);

  /**
   * JVM options every longctx process needs: the {@code --add-opens} flags Spark, Arrow and
   * Kryo need on JDK 17, and DJL's offline switch (the native library comes from a jar, never
   * from the network). The driver JVM gets them from {@code bin/longctx} (or spark-submit's
   * {@code --driver-java-options}); executors get them through
   * {@code spark.executor.extraJavaOptions}, set here.
   */
  public static final String JVM_OPTIONS = String.join(" ",
      "--add-opens=java.base/java.lang=ALL-UNNAMED",
      "--add-opens=java.base/java.nio=ALL-UNNAMED",
      "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens=java.base/java.util=ALL-UNNAMED",
      "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
      "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
      "--add-opens=java.base/java.net=ALL-UNNAMED",
      "--add-opens=java.base/java.io=ALL-UNNAMED",
      "-Dio.netty.tryReflectionSetAccessible=true",
      "-Dai.djl.offline=true");

  private SparkSessions() {}

  /** The Spark configuration a job runs with, before the session exists (tested directly). */
  public static SparkConf conf(SparkSettings settings, String jobName) {
    SparkConf conf = new SparkConf();
    // spark-submit passes --master as the system property spark.master, which SparkConf
    // has already read; the command line of the actual launch beats the config's default.
    if (!conf.contains("spark.master")) {
      conf.setMaster(settings.master());
    } else if (!conf.get("spark.master").equals(settings.master())) {
      LOG.info("spark master {} from spark-submit (config says {})", conf.get("spark.master"), settings.master());
    }
    if (!conf.contains("spark.app.name")) {
      conf.setAppName(settings.appName() + " " + jobName);
    }
    conf.set("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
    conf.set("spark.kryo.registrator", LongctxKryoRegistrator.class.getName());
    conf.set("spark.ui.showConsoleProgress", "false");
    for (Map.Entry<String, String> e : settings.conf().entrySet()) {
      conf.set(e.getKey(), e.getValue());
    }
    String executorOptions = conf.get("spark.executor.extraJavaOptions", "");
    if (!executorOptions.contains("--add-opens=java.base/java.nio")) {
      conf.set("spark.executor.extraJavaOptions", (JVM_OPTIONS + " " + executorOptions).strip());
    }
    return conf;
  }

  /** Starts (or joins) the session for {@code jobName}. */
  public static SparkSession create(SparkSettings settings, String jobName) {
    return create(conf(settings, jobName));
  }

  /** Starts (or joins) a session from a configuration made by {@link #conf} (and adjusted by the job). */
  public static SparkSession create(SparkConf conf) {
    long start = System.nanoTime();
    SparkSession session = SparkSession.builder().config(conf).getOrCreate();
    LOG.info("spark {} on {} ready in {} ms", session.version(), conf.get("spark.master"),
        (System.nanoTime() - start) / 1_000_000);
    return session;
  }
}
