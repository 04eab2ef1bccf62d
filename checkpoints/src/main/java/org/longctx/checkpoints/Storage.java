package org.longctx.checkpoints;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.channels.SeekableByteChannel;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * Where files live: the local disk or any Hadoop file system (HDFS, S3A, ABFS, GCS connector).
 *
 * <p>The static methods work on Hadoop's {@link FileSystem}, as checkpoints, exports and the
 * prepare job do. Local paths use Hadoop's raw local file system, so no {@code .crc} side files
 * appear next to outputs, and readers can memory-map them.
 *
 * <p>An instance is the few operations the prepared-data reader needs, on string locations
 * ({@link #forLocation}): {@link LocalStorage} reads plain paths and {@code file:} URIs through
 * {@code java.nio} (positioned reads on a file channel), {@link HadoopStorage} any other scheme.
 */
public interface Storage {

  /** Whether {@code path} exists. */
  boolean exists(String path) throws IOException;

  /** Names (not paths) of the plain files directly inside {@code dir}, sorted. */
  List<String> list(String dir) throws IOException;

  /** The whole file. */
  byte[] readAll(String path) throws IOException;

  /** A channel for random reads. */
  SeekableByteChannel openChannel(String path) throws IOException;

  /** {@code child} inside {@code dir}. */
  String resolve(String dir, String child);

  /**
   * Storage for {@code location}: the local disk for a plain path or a {@code file:} URI,
   * Hadoop's file system for any other scheme (configured from the classpath's
   * {@code core-site.xml} and the environment).
   */
  static Storage forLocation(String location) {
    String scheme = scheme(location);
    if (scheme == null || scheme.equals("file")) {
      return new LocalStorage();
    }
    return new HadoopStorage(defaultConf());
  }

  /** The URI scheme of {@code location}, or null for a plain path (also {@code C:\...}). */
  static String scheme(String location) {
    int colon = location.indexOf(':');
    if (colon <= 1) {
      return null;
    }
    try {
      return URI.create(location.replace(" ", "%20")).getScheme();
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  // ---- Hadoop file systems ----

  /** A plain Hadoop configuration (core-site.xml etc. from the classpath), shared; callers must not modify it. */
  static Configuration defaultConf() {
    return HadoopStorage.defaultConf();
  }

  /** A path from a user's string: a URI ({@code hdfs://…}, {@code s3a://…}) or a local path. */
  static Path path(String location) {
    if (location == null || location.isBlank()) {
      throw new IllegalArgumentException("path: empty; give a local path or a URI such as hdfs://host/dir");
    }
    return new Path(location);
  }

  /**
   * A folder a job writes into, from a user's string: a URI as given, a local path made absolute
   * (executors do not share the driver's working directory).
   */
  static Path outputPath(String location) {
    Path path = path(location);
    return isLocal(path) ? path(java.nio.file.Path.of(path.toUri().getPath())) : path;
  }

  /** The Hadoop path of a local file. */
  static Path path(java.nio.file.Path local) {
    return new Path(local.toAbsolutePath().toUri());
  }

  /** The file system holding {@code path}; the raw (checksum-free) one for local paths. */
  static FileSystem fileSystem(Path path, Configuration conf) {
    try {
      FileSystem fs = path.getFileSystem(conf);
      return fs instanceof ChecksumFileSystem checksummed ? checksummed.getRawFileSystem() : fs;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot reach the file system of " + path + ": " + e.getMessage(), e);
    }
  }

  /** Whether {@code path} is on the local disk (no scheme, or {@code file:}). */
  static boolean isLocal(Path path) {
    String scheme = path.toUri().getScheme();
    return scheme == null || scheme.equals("file");
  }

  /** {@code path} as a user wrote it: a plain path for local files, the URI otherwise. */
  static String display(Path path) {
    return isLocal(path) ? path.toUri().getPath() : path.toString();
  }

  /** Deletes a folder and everything in it on any file system; nothing when it does not exist. */
  static void deleteTree(Path root, Configuration conf) throws IOException {
    FileSystem fs = fileSystem(root, conf);
    if (fs.exists(root)) {
      fs.delete(root, true);
    }
  }

  /** The local file behind {@code path} when it is on local disk (so it can be memory-mapped). */
  static Optional<java.nio.file.Path> localFile(FileSystem fs, Path path) {
    if (fs instanceof RawLocalFileSystem raw) {
      return Optional.of(raw.pathToFile(fs.makeQualified(path)).toPath());
    }
    return Optional.empty();
  }

  /** Reads a whole (small) file. */
  static byte[] readAll(FileSystem fs, Path path) throws IOException {
    try (InputStream in = fs.open(path)) {
      return in.readAllBytes();
    }
  }

  /** Writes a whole (small) file, failing if it exists, and syncs it to storage before returning. */
  static void writeNew(FileSystem fs, Path path, byte[] bytes) throws IOException {
    try (FSDataOutputStream out = fs.create(path, false)) {
      out.write(bytes);
      sync(out);
    }
  }

  /** Asks the file system to make written bytes durable; a no-op where it cannot. */
  static void sync(OutputStream out) throws IOException {
    if (out instanceof FSDataOutputStream f) {
      f.hsync();
    } else {
      out.flush();
    }
  }

  // ---- local folders ----

  /** Deletes a local folder and everything in it (or a single file); nothing when it does not exist. */
  static void deleteTree(java.nio.file.Path root) throws IOException {
    if (!java.nio.file.Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    // children before their folder: the reversed walk order lists every entry after its contents
    try (Stream<java.nio.file.Path> walk = java.nio.file.Files.walk(root)) {
      for (java.nio.file.Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        java.nio.file.Files.deleteIfExists(p);
      }
    }
  }
}
