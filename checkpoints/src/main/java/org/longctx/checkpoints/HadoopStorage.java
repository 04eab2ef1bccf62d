package org.longctx.checkpoints;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** {@link Storage} on any Hadoop file system ({@code hdfs://}, {@code s3a://}, {@code file:}...). */
public final class HadoopStorage implements Storage {
  private final Configuration conf;

  public HadoopStorage(Configuration conf) {
    this.conf = conf;
  }

  /** Shared by every caller of {@link Storage#defaultConf()}: building a configuration reads the site files. */
  private static volatile Configuration defaultConf;

  static Configuration defaultConf() {
    Configuration c = defaultConf;
    if (c == null) {
      synchronized (HadoopStorage.class) {
        if (defaultConf == null) {
          defaultConf = new Configuration();
        }
        c = defaultConf;
      }
    }
    return c;
  }

  /** Configurations rebuilt on executors, by the changes shipped: building one costs more than a small task. */
  private static final Map<Map<String, String>, Configuration> REBUILT =
      java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

  /**
   * Hadoop's configuration on an executor: its defaults and site files (read once per JVM)
   * with {@code changes} from the driver on top ({@link #changes}). The same changes give the
   * same instance; callers must not modify it.
   */
  public static Configuration configuration(Map<String, String> changes) {
    return REBUILT.computeIfAbsent(changes, c -> {
      Configuration conf = new Configuration();
      c.forEach(conf::set);
      return conf;
    });
  }

  /**
   * The entries of the driver's {@code conf} that a fresh {@code new Configuration()} does not
   * have (settings from {@code spark.hadoop.*} and from code), to ship to executors as a small
   * serializable map instead of the whole configuration.
   */
  public static Map<String, String> changes(Configuration conf) {
    Configuration defaults = new Configuration();
    Map<String, String> out = new java.util.TreeMap<>();
    for (Map.Entry<String, String> e : conf) {
      String raw = conf.getRaw(e.getKey());
      if (raw != null && !raw.equals(defaults.getRaw(e.getKey()))) {
        out.put(e.getKey(), raw);
      }
    }
    return out;
  }

  @Override
  public boolean exists(String path) throws IOException {
    Path p = new Path(path);
    return Storage.fileSystem(p, conf).exists(p);
  }

  @Override
  public List<String> list(String dir) throws IOException {
    Path p = new Path(dir);
    List<String> names = new ArrayList<>();
    for (FileStatus s : Storage.fileSystem(p, conf).listStatus(p)) {
      if (s.isFile()) {
        names.add(s.getPath().getName());
      }
    }
    Collections.sort(names);
    return names;
  }

  @Override
  public byte[] readAll(String path) throws IOException {
    Path p = new Path(path);
    FileSystem fs = Storage.fileSystem(p, conf);
    long length = fs.getFileStatus(p).getLen();
    if (length > Integer.MAX_VALUE - 64) {
      throw new IOException(path + " is too large to read whole (" + length + " bytes)");
    }
    byte[] bytes = new byte[(int) length];
    try (FSDataInputStream in = fs.open(p)) {
      in.readFully(0, bytes);
    }
    return bytes;
  }

  @Override
  public SeekableByteChannel openChannel(String path) throws IOException {
    Path p = new Path(path);
    FileSystem fs = Storage.fileSystem(p, conf);
    FileStatus status = fs.getFileStatus(p);
    if (!status.isFile()) {
      throw new FileNotFoundException(path + " is not a file");
    }
    return new Channel(fs.open(p), status.getLen());
  }

  @Override
  public String resolve(String dir, String child) {
    return new Path(new Path(dir), child).toString();
  }

  /** A read-only seekable channel over a Hadoop input stream. */
  static final class Channel implements SeekableByteChannel {
    private final FSDataInputStream in;
    private final long size;
    private final byte[] copy = new byte[1 << 16];
    private long position;
    private boolean open = true;

    Channel(FSDataInputStream in, long size) {
      this.in = in;
      this.size = size;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      if (!open) {
        throw new ClosedChannelException();
      }
      if (position >= size) {
        return -1;
      }
      int want = (int) Math.min(dst.remaining(), size - position);
      int done = 0;
      while (done < want) {
        int n = in.read(position + done, copy, 0, Math.min(copy.length, want - done));
        if (n < 0) {
          break;
        }
        dst.put(copy, 0, n);
        done += n;
      }
      position += done;
      return done == 0 && want > 0 ? -1 : done;
    }

    @Override
    public int write(ByteBuffer src) {
      throw new NonWritableChannelException();
    }

    @Override
    public long position() {
      return position;
    }

    @Override
    public SeekableByteChannel position(long newPosition) {
      position = newPosition;
      return this;
    }

    @Override
    public long size() {
      return size;
    }

    @Override
    public SeekableByteChannel truncate(long ignored) {
      throw new NonWritableChannelException();
    }

    @Override
    public boolean isOpen() {
      return open;
    }

    @Override
    public void close() throws IOException {
      open = false;
      in.close();
    }
  }
}
