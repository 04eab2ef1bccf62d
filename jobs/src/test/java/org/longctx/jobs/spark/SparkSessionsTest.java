package org.longctx.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;
import org.longctx.jobs.config.SparkSettings;

class SparkSessionsTest {

  @Test
  void defaultsToEmbeddedSparkWithKryoAndExecutorOpens() {
    SparkConf conf = SparkSessions.conf(SparkSettings.defaults(), "prepare");
    assertEquals("local[*]", conf.get("spark.master"));
    assertEquals("longctx prepare", conf.get("spark.app.name"));
    assertEquals("org.apache.spark.serializer.KryoSerializer", conf.get("spark.serializer"));
    assertEquals(LongctxKryoRegistrator.class.getName(), conf.get("spark.kryo.registrator"));
    assertTrue(conf.get("spark.executor.extraJavaOptions").contains("--add-opens=java.base/java.nio=ALL-UNNAMED"));
  }

  @Test
  void passesSparkPropertiesAndKeepsUserExecutorOptions() {
    SparkSettings settings = new SparkSettings("spark://h:7077", "exp",
        Map.of("spark.executor.memory", "8g", "spark.executor.extraJavaOptions", "-XX:+UseG1GC"));
    SparkConf conf = SparkSessions.conf(settings, "train");
    assertEquals("spark://h:7077", conf.get("spark.master"));
    assertEquals("8g", conf.get("spark.executor.memory"));
    String options = conf.get("spark.executor.extraJavaOptions");
    assertTrue(options.contains("-XX:+UseG1GC") && options.contains("--add-opens=java.base/java.lang=ALL-UNNAMED"), options);
  }

  @Test
  void sparkSubmitMasterWins() {
    System.setProperty("spark.master", "spark://submitted:7077");
    try {
      assertEquals("spark://submitted:7077", SparkSessions.conf(SparkSettings.defaults(), "x").get("spark.master"));
    } finally {
      System.clearProperty("spark.master");
    }
  }

  @Test
  void kryoRegistersProjectRecords() {
    com.esotericsoftware.kryo.Kryo kryo = new com.esotericsoftware.kryo.Kryo();
    new LongctxKryoRegistrator().registerClasses(kryo);
    for (Class<?> type : LongctxKryoRegistrator.CLASSES) {
      assertTrue(kryo.getRegistration(type) != null, type.getName());
    }
  }
}
