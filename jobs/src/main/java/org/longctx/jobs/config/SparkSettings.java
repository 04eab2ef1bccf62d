package org.longctx.jobs.config;

import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code spark:} section. {@code master} defaults to the embedded {@code local[*]}; any
 * key that starts with {@code spark.} is passed to Spark unchanged (in YAML it sits next to
 * {@code master}; on the command line {@code --set spark.executor.memory=4g}).
 *
 * @param master Spark master URL: {@code local[*]}, {@code local[N]}, {@code spark://host:port},
 *     {@code yarn}, {@code k8s://...}; a {@code --master} given to spark-submit wins
 * @param appName the application name shown in the Spark UI
 * @param conf extra Spark properties, each key starting with {@code spark.}
 */
public record SparkSettings(String master, String appName, Map<String, String> conf) {

  public SparkSettings {
    if (master == null || master.isBlank()) {
      throw new IllegalArgumentException("master: must be a Spark master URL such as local[*] or spark://host:7077, got '" + master + "'");
    }
    conf = conf == null ? Map.of() : new TreeMap<>(conf);
    for (String key : conf.keySet()) {
      if (!key.startsWith("spark.")) {
        throw new IllegalArgumentException(key + ": only spark.* properties may be passed to Spark");
      }
    }
    conf = java.util.Collections.unmodifiableMap(conf);
  }

  public static SparkSettings defaults() {
    return new SparkSettings("local[*]", "longctx", Map.of());
  }
}
