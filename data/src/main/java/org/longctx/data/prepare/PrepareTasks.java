package org.longctx.data.prepare;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.security.MessageDigest;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.longctx.data.DataConfig;
import org.longctx.data.io.Compression;
import org.longctx.checkpoints.HadoopStorage;
import org.longctx.checkpoints.Storage;
import org.longctx.data.io.LineReader;
import org.longctx.data.io.ShardFormat;
import org.longctx.data.io.ShardWriter;
import org.longctx.data.tokenizer.TextTokenizer;
import scala.Tuple2;

/** The code that runs inside Spark tasks: the duplicate scan and the per-file prepare. */
public final class PrepareTasks {
  /** Subfolder of the temporary output where task attempts write before they are moved into place. */
  static final String ATTEMPTS = "_attempts";
  static final String REJECTS = "rejects";

  private PrepareTasks() {}

  /** Where in the inputs a record is: input index in the high bits, line number in the low 40. */
  static long location(int fileIndex, long line) {
    return ((long) fileIndex << 40) | line;
  }

  static int locationFile(long location) {
    return (int) (location >>> 40);
  }

  static long locationLine(long location) {
    return location & ((1L << 40) - 1);
  }

  /**
   * Scans one input for the duplicate check: for every document that parses and passes the
   * source filter, its content key and location. Reads lazily; a damaged archive ends the
   * scan where the prepare pass will also stop.
   */
  public static Iterator<Tuple2<String, Long>> scanKeys(PrepareContext ctx, PartTask task,
      org.apache.spark.util.LongAccumulator cpuNanos) throws IOException {
    java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
    long cpuStart = threads.getCurrentThreadCpuTime();
    Configuration conf = HadoopStorage.configuration(ctx.hadoop());
    Path path = new Path(task.path());
    FileSystem fs = Storage.fileSystem(path, conf);
    ShardProcessor.GuardedStream raw = new ShardProcessor.GuardedStream(fs.open(path));
    InputStream in;
    try {
      in = Compression.of(task.path()).open(raw);
    } catch (IOException e) {
      raw.close();
      if (raw.failed) {
        throw e;
      }
      return java.util.Collections.emptyIterator();
    }
    TaskContext tc = TaskContext.get();
    if (tc != null) {
      tc.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) context -> closeQuietly(in));
    }
    DataConfig config = ctx.config();
    RecordParser parser = new RecordParser(config);
    LineReader lines = new LineReader(in, config.maxLineBytes(), 0);
    MessageDigest sha256 = ShardProcessor.newSha256();
    java.util.Set<String> allow = new java.util.HashSet<>(config.allowSources());
    java.util.Set<String> deny = new java.util.HashSet<>(config.denySources());
    return new Iterator<>() {
      Tuple2<String, Long> next;
      boolean done;

      @Override
      public boolean hasNext() {
        while (next == null && !done) {
          try {
            if (!lines.next()) {
              finish();
              break;
            }
          } catch (IOException e) {
            finish();
            if (raw.failed) {
              throw new UncheckedIOException("reading " + task.path(), e);
            }
            break;
          }
          if (lines.tooLong()) {
            continue;
          }
          RecordParser.Result r = parser.parse(lines.buffer(), lines.length());
          if (!r.ok() || deny.contains(r.source()) || (!allow.isEmpty() && !allow.contains(r.source()))) {
            continue;
          }
          next = new Tuple2<>(ShardProcessor.contentKey(sha256, r.text()), location(task.index(), lines.lineNumber()));
        }
        return next != null;
      }

      @Override
      public Tuple2<String, Long> next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        Tuple2<String, Long> out = next;
        next = null;
        return out;
      }

      private void finish() {
        done = true;
        closeQuietly(in);
        cpuNanos.add(threads.getCurrentThreadCpuTime() - cpuStart);
      }
    };
  }

  /**
   * Prepares one input into {@code part-<index>.arrow} (and {@code rejects/part-<index>.jsonl}
   * when it has bad records) inside the temporary output. The attempt writes under
   * {@code _attempts/} and moves its files into place at the end, so a retried or
   * speculative attempt never leaves a half-written shard under the final name.
   */
  public static PartResult runPart(PrepareContext ctx, PartTask task) throws IOException {
    Configuration conf = HadoopStorage.configuration(ctx.hadoop());
    DataConfig config = ctx.config();
    TextTokenizer tokenizer = TextTokenizer.shared(ctx.tokenizer(), config.splitSpecialTokens());
    Path input = new Path(task.path());
    FileSystem inFs = Storage.fileSystem(input, conf);
    Path temp = new Path(ctx.tempDir());
    FileSystem outFs = Storage.fileSystem(temp, conf);
    String shardName = ShardFormat.partName(task.index());
    String rejectName = shardName.replace(".arrow", ".jsonl");
    TaskContext tc = TaskContext.get();
    Path attemptDir = new Path(new Path(temp, ATTEMPTS), tc == null ? "driver" : "attempt-" + tc.taskAttemptId());
    Path shardAttempt = new Path(attemptDir, shardName);
    Path rejectAttempt = new Path(attemptDir, rejectName);
    long[] dupLines = ctx.duplicates().getOrDefault(task.index(), new long[0]);
    PartStats stats;
    Supplier<OutputStream> openRejects = () -> {
      try {
        return new BufferedOutputStream(outFs.create(rejectAttempt, true), 1 << 16);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    };
    try (ShardWriter writer = new ShardWriter(
            Channels.newChannel(new BufferedOutputStream(outFs.create(shardAttempt, true), 1 << 20)),
            config.layout(), ctx.tokenizer().sha256());
        RejectSink rejects = new RejectSink(openRejects)) {
      stats = new ShardProcessor(config, tokenizer)
          .process(task.path(), inFs.open(input), writer, rejects, ShardProcessor.Duplicates.sorted(dupLines));
    }
    moveIntoPlace(outFs, shardAttempt, new Path(temp, shardName));
    String rejects = "";
    if (stats.rejectsWritten > 0) {
      rejects = REJECTS + "/" + rejectName;
      moveIntoPlace(outFs, rejectAttempt, new Path(temp, rejects));
    }
    outFs.delete(attemptDir, true);
    return new PartResult(task, shardName, rejects, stats);
  }

  /** Renames {@code from} to {@code to}; an existing {@code to} (from an earlier attempt of the same task) is replaced. */
  private static void moveIntoPlace(FileSystem fs, Path from, Path to) throws IOException {
    if (fs.exists(to)) {
      fs.delete(to, false);
    }
    fs.mkdirs(to.getParent());
    if (!fs.rename(from, to)) {
      throw new IOException("cannot rename " + from + " to " + to);
    }
  }

  private static void closeQuietly(InputStream in) {
    try {
      in.close();
    } catch (IOException ignored) {
      // nothing more will be read from it
    }
  }
}
