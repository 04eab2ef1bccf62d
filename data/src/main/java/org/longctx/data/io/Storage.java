package org.longctx.data.io;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.SeekableByteChannel;
import java.util.List;

/**
 * The few file operations the trainer-side reader needs, on the local disk or any Hadoop
 * file system. Local paths go through {@code java.nio} so that a trainer without Hadoop on
 * its classpath can still read prepared data from disk.
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
    return HadoopStorage.withDefaultConfiguration();
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
}
