package org.longctx.data.prepare;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.longctx.data.DataConfig;
import org.longctx.checkpoints.HadoopStorage;
import org.longctx.checkpoints.Storage;
import org.longctx.data.tokenizer.TokenizerSource;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The prepare job's driver: raw shards → tokenized Arrow shards + manifest, committed
 * atomically.
 *
 * <ol>
 *   <li>Expand the input globs (sorted; input i becomes {@code part-i.arrow}).
 *   <li>Read the tokenizer once on the driver; executors get its bytes.
 *   <li>If {@code dedup}: scan every input for content keys, keep the first location of each
 *       key in input order, and hand every later location to the tasks as a duplicate.
 *   <li>One task per input writes its shard (and its rejects) into {@code <out>._tmp-<uuid>}.
 *   <li>Write {@code manifest.json}, rename the temporary folder to {@code <out>} (an old
 *       output, with {@code overwrite}, is moved aside first and deleted after), then write
 *       {@code _SUCCESS}. Readers require {@code _SUCCESS}.
 * </ol>
 *
 * <p>One task per file keeps line numbers exact and output names stable; compressed shards
 * cannot be split anyway. Parallelism is therefore the number of input files.
 */
public final class PreparePipeline {
  private static final Logger LOG = LoggerFactory.getLogger(PreparePipeline.class);
  public static final String SUCCESS = "_SUCCESS";

  /** The output exists and {@code overwrite} was not given. */
  public static final class OutputExistsException extends RuntimeException {
    OutputExistsException(String message) {
      super(message);
    }
  }

  /** What a finished run produced. */
  public record Outcome(String output, ObjectNode manifest, long recordsIn, long kept, long rejected, long tokens) {}

  private PreparePipeline() {}

  public static Outcome run(SparkSession spark, DataConfig config, boolean overwrite) throws IOException {
    config.checkReadyToPrepare();
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    TokenizerSpec tokenizer = readTokenizer(config, conf);
    List<PartTask> tasks = expandInputs(config.inputs(), conf);

    Path out = qualify(new Path(config.prepared()), conf);
    FileSystem fs = Storage.fileSystem(out, conf);
    if (fs.exists(out) && !overwrite) {
      if (fs.getFileStatus(out).isDirectory() && !fs.exists(new Path(out, SUCCESS))) {
        throw new OutputExistsException("data.prepared: " + out + " exists but has no " + SUCCESS + ": an incomplete prepare"
            + " run (stopped before it finished) or another folder; pass --overwrite (or set output.overwrite: true) to redo"
            + " it, which replaces the folder");
      }
      throw new OutputExistsException("data.prepared: " + out + " already exists; pass --overwrite (or set output.overwrite: true) to replace it");
    }
    for (PartTask t : tasks) {
      if (t.path().startsWith(out + "/")) {
        throw new IllegalArgumentException("data.inputs: " + t.path() + " lies inside the output " + out);
      }
    }
    removeLeftovers(fs, out);
    Path temp = new Path(out.getParent(), out.getName() + TEMP_INFIX + UUID.randomUUID());
    fs.mkdirs(new Path(temp, PrepareTasks.REJECTS));
    LOG.info("prepare: {} input file(s) → {} ({} layout, tokenizer {})", tasks.size(), out,
        config.layout().name().toLowerCase(java.util.Locale.ROOT), tokenizer.sha256().substring(0, 12));

    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    PrepareContext context = new PrepareContext(config, tokenizer, HadoopStorage.changes(conf), temp.toString(), Map.of());
    try {
      long phase = System.nanoTime();
      if (config.dedup()) {
        jsc.setJobDescription("prepare: find duplicate documents");
        context = context.withDuplicates(findDuplicates(jsc, context, tasks));
        LOG.info("prepare: duplicate scan took {} ms", (System.nanoTime() - phase) / 1_000_000);
        phase = System.nanoTime();
      }
      jsc.setJobDescription("prepare: tokenize and write shards");
      Broadcast<PrepareContext> shared = jsc.broadcast(context);
      List<PartResult> results = new ArrayList<>(jsc.parallelize(tasks, Math.max(1, tasks.size()))
          .map(task -> PrepareTasks.runPart(shared.value(), task))
          .collect());
      shared.destroy();
      jsc.setJobDescription(null);
      long taskCpu = results.stream().mapToLong(r -> r.stats().taskCpuNanos).sum();
      long tokenizerCpu = results.stream().mapToLong(r -> r.stats().tokenizerCpuNanos).sum();
      LOG.info("prepare: tokenizing and writing {} shard(s) took {} ms; task CPU {} ms, of which the tokenizer {} ms ({}%)",
          results.size(), (System.nanoTime() - phase) / 1_000_000, taskCpu / 1_000_000, tokenizerCpu / 1_000_000,
          taskCpu == 0 ? 0 : Math.round(100.0 * tokenizerCpu / taskCpu));
      results.sort(Comparator.comparingInt(r -> r.task().index()));

      ObjectNode manifest = PrepareManifest.build(config, tokenizer, results);
      fs.delete(new Path(temp, PrepareTasks.ATTEMPTS), true);
      for (PartResult r : results) {
        // another prepare of the same output removes this run's temporary folder as a leftover
        // (see removeLeftovers); never commit an output whose shards went with it
        if (!fs.exists(new Path(temp, r.shard()))) {
          throw new IOException(temp + " lost " + r.shard() + " while this run was writing: was another prepare of "
              + out + " started meanwhile? Run one prepare per output at a time");
        }
      }
      try (OutputStream o = fs.create(new Path(temp, PrepareManifest.FILE), false)) {
        o.write(PrepareManifest.toBytes(manifest));
      }
      commit(fs, temp, out);
      PartStats total = new PartStats();
      results.forEach(r -> total.merge(r.stats()));
      LOG.info("prepare: {} records in, {} kept ({} tokens), {} rejected; committed {}", total.recordsIn, total.kept,
          total.tokensKept, total.rejectedTotal(), out);
      return new Outcome(out.toString(), manifest, total.recordsIn, total.kept, total.rejectedTotal(), total.tokensKept);
    } catch (IOException | RuntimeException e) {
      try {
        fs.delete(temp, true);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /**
   * The duplicate locations per input: every location of a content key except the first in
   * input order.
   */
  static Map<Integer, long[]> findDuplicates(JavaSparkContext jsc, PrepareContext context, List<PartTask> tasks) {
    Broadcast<PrepareContext> shared = jsc.broadcast(context);
    org.apache.spark.util.LongAccumulator scanCpu = jsc.sc().longAccumulator("prepare scan CPU ns");
    JavaPairRDD<String, Long> keys = jsc.parallelize(tasks, Math.max(1, tasks.size()))
        .flatMapToPair(task -> PrepareTasks.scanKeys(shared.value(), task, scanCpu));
    List<Long> later = keys.groupByKey()
        .flatMap(group -> {
          List<Long> locations = new ArrayList<>();
          group._2().forEach(locations::add);
          if (locations.size() < 2) {
            return java.util.Collections.emptyIterator();
          }
          locations.sort(null);
          return locations.subList(1, locations.size()).iterator();
        })
        .collect();
    shared.destroy();
    Map<Integer, List<Long>> byFile = new HashMap<>();
    for (long location : later) {
      byFile.computeIfAbsent(PrepareTasks.locationFile(location), k -> new ArrayList<>())
          .add(PrepareTasks.locationLine(location));
    }
    Map<Integer, long[]> out = new LinkedHashMap<>();
    byFile.forEach((file, lines) -> out.put(file, lines.stream().mapToLong(Long::longValue).sorted().toArray()));
    LOG.info("prepare: {} duplicate document(s) found; scan task CPU {} ms", later.size(), scanCpu.value() / 1_000_000);
    return out;
  }

  /** Sibling folders {@code <out>._tmp-<uuid>} hold a run's output until it is committed. */
  static final String TEMP_INFIX = "._tmp-";
  /** Sibling folders {@code <out>._old-<uuid>} hold a replaced output until the new one is committed. */
  static final String OLD_INFIX = "._old-";

  /**
   * Deletes {@code <out>._tmp-*} and {@code <out>._old-*} folders: a prepare killed before its
   * commit (or between moving the old output aside and deleting it) leaves them, and nothing
   * else ever would. Runs before this run's own temporary folder exists, so it only meets
   * leftovers — or the folder of a concurrent prepare of the same output, which then fails
   * rather than commit (one prepare per output at a time).
   */
  static void removeLeftovers(FileSystem fs, Path out) throws IOException {
    if (!fs.exists(out.getParent())) {
      return;
    }
    for (org.apache.hadoop.fs.FileStatus sibling : fs.listStatus(out.getParent())) {
      String name = sibling.getPath().getName();
      if (name.startsWith(out.getName() + TEMP_INFIX) || name.startsWith(out.getName() + OLD_INFIX)) {
        LOG.info("prepare: removing {}, left by an earlier prepare of {} that did not finish", sibling.getPath(), out);
        fs.delete(sibling.getPath(), true);
      }
    }
  }

  /** Moves {@code temp} to {@code out} (replacing an old output) and then writes {@code _SUCCESS}. */
  static void commit(FileSystem fs, Path temp, Path out) throws IOException {
    Path old = null;
    if (fs.exists(out)) {
      old = new Path(out.getParent(), out.getName() + OLD_INFIX + UUID.randomUUID());
      if (!fs.rename(out, old)) {
        throw new IOException("cannot move the old output " + out + " aside to " + old);
      }
    }
    if (!fs.rename(temp, out)) {
      if (old != null) {
        fs.rename(old, out);
      }
      throw new IOException("cannot rename " + temp + " to " + out);
    }
    fs.create(new Path(out, SUCCESS), false).close();
    if (old != null) {
      fs.delete(old, true);
    }
  }

  /** Reads the tokenizer (a {@code tokenizer.json} or its folder) and its sibling {@code tokenizer_config.json}. */
  static TokenizerSpec readTokenizer(DataConfig config, Configuration conf) throws IOException {
    // qualified, so the manifest names the tokenizer as executors and later readers can reach it
    Path path = qualify(new Path(config.tokenizer()), conf);
    TokenizerSpec spec = TokenizerSource.find(List.of(TokenizerSource.Place.named("data.tokenizer", path.toString())), conf)
        .orElseThrow()
        .spec(config.bosToken(), config.eosToken());
    if (config.addBos() && spec.bosId() < 0) {
      throw new IllegalArgumentException("data.add_bos: tokenizer " + spec.source() + " defines no BOS token ("
          + String.join(", ", TokenizerSpec.BOS_CANDIDATES) + "); set data.bos_token or add_bos: false");
    }
    if (config.addEos() && spec.eosId() < 0) {
      throw new IllegalArgumentException("data.add_eos: tokenizer " + spec.source() + " defines no EOS token ("
          + String.join(", ", TokenizerSpec.EOS_CANDIDATES) + "); set data.eos_token or add_eos: false");
    }
    return spec;
  }

  /**
   * Expands globs to files, sorted by path: a matched folder contributes its files; names
   * starting with {@code _} or {@code .} (markers, checksums) are skipped. A glob that matches
   * nothing is an error, as it is almost always a typo.
   */
  static List<PartTask> expandInputs(List<String> globs, Configuration conf) throws IOException {
    Map<String, Long> files = new java.util.TreeMap<>();
    for (int i = 0; i < globs.size(); i++) {
      Path pattern = qualify(new Path(globs.get(i)), conf);
      FileSystem fs = Storage.fileSystem(pattern, conf);
      FileStatus[] matches;
      try {
        matches = fs.globStatus(pattern);
      } catch (FileNotFoundException e) {
        matches = null;
      }
      int before = files.size();
      if (matches != null) {
        for (FileStatus m : matches) {
          FileStatus[] members = m.isDirectory() ? fs.listStatus(m.getPath()) : new FileStatus[] {m};
          for (FileStatus f : members) {
            String name = f.getPath().getName();
            if (f.isFile() && !name.startsWith("_") && !name.startsWith(".")) {
              files.put(fs.makeQualified(f.getPath()).toString(), f.getLen());
            }
          }
        }
      }
      if (files.size() == before && (matches == null || matches.length == 0)) {
        throw new IllegalArgumentException("data.inputs[" + i + "]: '" + globs.get(i) + "' matches no file");
      }
    }
    if (files.isEmpty()) {
      throw new IllegalArgumentException("data.inputs: the globs " + globs + " match only folders without shard files");
    }
    List<PartTask> tasks = new ArrayList<>();
    for (Map.Entry<String, Long> f : files.entrySet()) {
      tasks.add(new PartTask(tasks.size(), f.getKey(), f.getValue()));
    }
    return tasks;
  }

  /** An absolute, scheme-qualified path, so executors in other working directories find it. */
  static Path qualify(Path path, Configuration conf) throws IOException {
    return path.getFileSystem(conf).makeQualified(path);
  }
}
