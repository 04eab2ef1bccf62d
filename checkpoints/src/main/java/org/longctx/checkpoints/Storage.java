package org.longctx.checkpoints;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * Where files live: any Hadoop file system (HDFS, S3A, ABFS, GCS connector, local). Local paths
 * use Hadoop's raw local file system, so no {@code .crc} side files appear next to checkpoints
 * and exported models, and readers can memory-map them.
 */
public final class Storage {
  private static volatile Configuration defaultConf;

  private Storage() {}

  /** A plain Hadoop configuration (core-site.xml etc. from the classpath), shared. */
  public static Configuration defaultConf() {
    Configuration c = defaultConf;
    if (c == null) {
      synchronized (Storage.class) {
        if (defaultConf == null) {
          defaultConf = new Configuration();
        }
        c = defaultConf;
      }
    }
    return c;
  }

  /** A path from a user's string: a URI ({@code hdfs://…}, {@code s3a://…}) or a local path. */
  public static Path path(String location) {
    if (location == null || location.isBlank()) {
      throw new IllegalArgumentException("path: empty; give a local path or a URI such as hdfs://host/dir");
    }
    return new Path(location);
  }

  /** The Hadoop path of a local file. */
  public static Path path(java.nio.file.Path local) {
    return new Path(local.toAbsolutePath().toUri());
  }

  /** The file system holding {@code path}; the raw (checksum-free) one for local paths. */
  public static FileSystem fileSystem(Path path, Configuration conf) {
    try {
      FileSystem fs = path.getFileSystem(conf);
      if (fs instanceof LocalFileSystem local) {
        return local.getRaw();
      }
      return fs;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot reach the file system of " + path + ": " + e.getMessage(), e);
    }
  }

  /** The local file behind {@code path} when it is on local disk (so it can be memory-mapped). */
  public static Optional<java.nio.file.Path> localFile(FileSystem fs, Path path) {
    if (fs instanceof RawLocalFileSystem raw) {
      return Optional.of(raw.pathToFile(fs.makeQualified(path)).toPath());
    }
    return Optional.empty();
  }

  /** Reads a whole (small) file. */
  public static byte[] readAll(FileSystem fs, Path path) throws IOException {
    try (InputStream in = fs.open(path)) {
      return in.readAllBytes();
    }
  }

  /** Writes a whole (small) file, failing if it exists, and syncs it to storage before returning. */
  public static void writeNew(FileSystem fs, Path path, byte[] bytes) throws IOException {
    try (FSDataOutputStream out = fs.create(path, false)) {
      out.write(bytes);
      sync(out);
    }
  }

  /** Asks the file system to make written bytes durable; a no-op where it cannot. */
  public static void sync(OutputStream out) throws IOException {
    if (out instanceof FSDataOutputStream f) {
      f.hsync();
    } else {
      out.flush();
    }
  }
}
