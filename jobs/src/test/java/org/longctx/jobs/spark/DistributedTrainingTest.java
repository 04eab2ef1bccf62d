package org.longctx.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;
import org.longctx.jobs.config.ConfigException;
import org.longctx.jobs.config.ConfigLoader;
import org.longctx.trainer.distributed.DistributedConfig;
import org.longctx.trainer.distributed.Ring;
import org.longctx.trainer.distributed.RingCollective;

/** What barrier mode cannot do is refused before Spark starts; the section's keys are strict. */
class DistributedTrainingTest {
  private static final DistributedConfig TWO = new DistributedConfig(2, "ring", 60, 32, 0);

  private static String refusal(DistributedConfig d, SparkConf conf) {
    return assertThrows(IllegalArgumentException.class, () -> DistributedTraining.checkConfig(d, conf)).getMessage();
  }

  @Test
  void refusesWhatBarrierModeCannotDo() {
    String m = refusal(TWO, new SparkConf(false).setMaster("local[4]"));
    assertTrue(m.contains("one gradient collector per JVM") && m.contains("local-cluster[2,1,4096]"), m);
    m = refusal(TWO, new SparkConf(false).setMaster("spark://h:7077").set("spark.dynamicAllocation.enabled", "true"));
    assertTrue(m.contains("spark.dynamicAllocation.enabled"), m);
    m = refusal(TWO, new SparkConf(false).setMaster("yarn").set("spark.executor.cores", "8").set("spark.task.cpus", "1"));
    assertTrue(m.contains("spark.task.cpus (1) must equal spark.executor.cores (8)"), m);
    DistributedConfig nccl = new DistributedConfig(2, "nccl", 60, 32, 0);
    m = refusal(nccl, new SparkConf(false).setMaster("spark://h:7077"));
    assertTrue(m.contains("spark.task.resource.gpu.amount is not set"), m);
    DistributedTraining.checkConfig(nccl, new SparkConf(false).setMaster("spark://h:7077").set("spark.task.resource.gpu.amount", "1"));
    // what it can do passes: a cluster master, local-cluster, one slot per executor
    DistributedTraining.checkConfig(TWO, new SparkConf(false).setMaster("local-cluster[2,1,4096]"));
    DistributedTraining.checkConfig(TWO, new SparkConf(false).setMaster("yarn").set("spark.executor.cores", "8").set("spark.task.cpus", "8"));
  }

  @Test
  void picksTheGradientExchangeByBackendAndDevice() throws IOException {
    // on a CPU executor auto is the ring itself; nccl names what is missing
    try (RingCollective ring = new RingCollective(Ring.alone(Duration.ofSeconds(5), 1 << 20))) {
      assertSame(ring, DistributedTraining.Replica.collective(ring, new DistributedConfig(2, "auto", 60, 32, 0), Device.cpu()));
      assertSame(ring, DistributedTraining.Replica.collective(ring, TWO, Device.cpu()));
    }
    RingCollective ring = new RingCollective(Ring.alone(Duration.ofSeconds(5), 1 << 20));
    String m = assertThrows(IllegalArgumentException.class,
        () -> DistributedTraining.Replica.collective(ring, new DistributedConfig(2, "nccl", 60, 32, 0), Device.cpu())).getMessage();
    assertTrue(m.contains("rank 0 has no GPU") && m.contains("spark.task.resource.gpu.amount=1"), m);
  }

  @Test
  void asksForOneSlotPerExecutorAndExactlyTheReplicasUnlessTheUserSaidOtherwise() {
    SparkConf conf = new SparkConf(false).setMaster("spark://h:7077");
    DistributedTraining.applyDefaults(TWO, conf);
    assertEquals("1", conf.get("spark.executor.cores"));
    assertEquals("1", conf.get("spark.task.cpus"));
    assertEquals("2", conf.get("spark.cores.max"));
    assertEquals("2", conf.get("spark.executor.instances"));
    SparkConf mine = new SparkConf(false).setMaster("spark://h:7077").set("spark.executor.cores", "8").set("spark.task.cpus", "8");
    DistributedTraining.applyDefaults(TWO, mine);
    assertEquals("8", mine.get("spark.executor.cores"));
    assertEquals("16", mine.get("spark.cores.max"));
  }

  @Test
  void theSectionIsStrict() {
    assertEquals(DistributedConfig.defaults(), ConfigLoader.parse("", "test", List.of()).distributed());
    assertEquals(3, ConfigLoader.parse("distributed: {workers: 3}", "test", List.of()).distributed().workers());
    for (String bad : List.of("distributed.workers=0", "distributed.backend=mpi", "distributed.timeout_s=0", "distributed.bucket_mb=0",
        "distributed.port=70000", "distributed.worker=2")) {
      ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("", "test", List.of(bad)), bad);
      assertTrue(e.getMessage().contains("distributed."), e.getMessage());
    }
  }
}
