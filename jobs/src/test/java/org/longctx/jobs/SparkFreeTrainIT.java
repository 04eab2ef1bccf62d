package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jobs that need no Spark start without it: in child JVMs whose classpath is this test's
 * minus every Spark and Scala jar (Hadoop, Jackson and log4j stay: they are not Spark),
 * {@code longctx train} runs a tiny pretrain to its checkpoint, and config, rope, score, export,
 * tokenizer and synth run on it. The probes prove the filter removed Spark, so a passing run
 * cannot come from Spark being there after all.
 */
@Tag("integration")
class SparkFreeTrainIT {
  /** Spark's jars (org.apache.spark:*), Scala's (org.scala-lang:*), and anything built for a Scala version (name_2.13-1.0.jar). */
  private static final Pattern SPARK_OR_SCALA = Pattern.compile(
      ".*[/\\\\]org[/\\\\](apache[/\\\\]spark|scala-lang)[/\\\\].*|.*_2\\.1[0-9]-[^/\\\\]*\\.jar");

  @TempDir Path dir;

  private static List<String> classpath() {
    return Arrays.asList(System.getProperty("java.class.path").split(Pattern.quote(File.pathSeparator)));
  }

  private static String withoutSpark() {
    return classpath().stream().filter(e -> !SPARK_OR_SCALA.matcher(e).matches()).collect(Collectors.joining(File.pathSeparator));
  }

  /** Runs {@code mainClass} in a child JVM; returns its exit status, its output kept in {@code log}. */
  private int run(String classpath, Path log, String mainClass, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
        "-Dai.djl.offline=true", "-Xmx1g", "-cp", classpath, mainClass));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), mainClass + " did not finish within 300 s");
    return p.exitValue();
  }

  @Test
  void theFilterRemovesSparkAndScala() throws Exception {
    assertTrue(classpath().stream().anyMatch(e -> e.contains("spark-core_2.13")), "the test classpath has Spark to remove");
    String[] probe = {"org.apache.spark.SparkContext"};
    assertEquals(0, run(System.getProperty("java.class.path"), dir.resolve("with.log"), ClassProbe.class.getName(), probe),
        "the probe finds Spark on the full classpath");
    assertEquals(3, run(withoutSpark(), dir.resolve("without.log"), ClassProbe.class.getName(), probe),
        "Spark is gone from the filtered classpath");
    assertEquals(3, run(withoutSpark(), dir.resolve("scala.log"), ClassProbe.class.getName(), "scala.Product"),
        "Scala is gone from the filtered classpath");
    assertEquals(0, run(withoutSpark(), dir.resolve("kept.log"), ClassProbe.class.getName(),
        "org.apache.hadoop.fs.FileSystem", "org.longctx.jobs.Cli"), "Hadoop and longctx stay");
  }

  @Test
  void trainWritesItsCheckpointWithoutSpark() throws Exception {
    Path out = dir.resolve("run");
    Path yaml = dir.resolve("tiny.yaml");
    Files.writeString(yaml, """
        name: spark-free
        output: {dir: %s}
        model:
          init: {hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: 64}
        train:
          recipe: pretrain
          steps: 3
          lr: 1.0e-3
          batch_size: 2
          seq_len: 32
          log_every: 1
          synthetic: {fraction: 1.0, tasks: {passkey: 1.0, dependent: 1.0}, min_chars: 64, max_chars: 300}
        """.formatted(out));
    Path log = dir.resolve("train.log");
    int status = run(withoutSpark(), log, Cli.class.getName(), "train", "--config", yaml.toString());
    assertEquals(0, status, "longctx train without Spark: " + Files.readString(log));
    assertEquals("step-000003", Files.readString(out.resolve("checkpoints/latest")).strip());
    assertTrue(Files.exists(out.resolve("checkpoints/step-000003/model.safetensors")), "the checkpoint's weights");

    // the other jobs that need no Spark, for real, in one more child JVM: on the model just trained
    Path checkpoint = out.resolve("checkpoints/step-000003");
    Files.writeString(dir.resolve("commands.tsv"), String.join("\n",
        String.join("\t", "config", "--check", yaml.toString()),
        String.join("\t", "rope", "--hf-config", checkpoint.resolve("config.json").toString(), "--positions", "0,5"),
        String.join("\t", "score", "--model", checkpoint.toString(), "--input-ids", "1,5,9", "--out", dir.resolve("logits.json").toString()),
        String.join("\t", "export", "--from", out.resolve("checkpoints").toString(), "--out", dir.resolve("hf").toString()),
        String.join("\t", "tokenizer", "byte-level", "--out", dir.resolve("tok").toString()),
        String.join("\t", "synth", "--task", "passkey", "--out", dir.resolve("synth.jsonl").toString(), "--count", "2", "--length", "300")));
    Path others = dir.resolve("others.log");
    assertEquals(0, run(withoutSpark(), others, CliSequence.class.getName(), dir.resolve("commands.tsv").toString()),
        "config, rope, score, export, tokenizer and synth without Spark: " + Files.readString(others));
    assertEquals(6, Files.readString(others).lines().filter(l -> l.startsWith("status 0: ")).count(), Files.readString(others));
    assertTrue(Files.readString(dir.resolve("logits.json")).startsWith("{\"logits\":[["), "score wrote its logits");
    assertTrue(Files.exists(dir.resolve("hf/config.json")) && Files.exists(dir.resolve("tok/tokenizer.json")));

    // help lists every subcommand without loading one; a Spark job says in one line what it lacks
    Path help = dir.resolve("help.log");
    assertEquals(0, run(withoutSpark(), help, Cli.class.getName(), "help"));
    assertTrue(Files.readString(help).contains("eval"), Files.readString(help));
    Path eval = dir.resolve("eval.log");
    assertEquals(2, run(withoutSpark(), eval, Cli.class.getName(), "eval", "--help"));
    String message = Files.readString(eval).strip();
    assertEquals(1, message.lines().count(), message);
    assertTrue(message.contains("needs Spark's jars"), message);
    assertFalse(message.contains("Exception"), message);
  }
}
