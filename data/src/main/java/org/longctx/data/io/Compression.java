package org.longctx.data.io;

import com.github.luben.zstd.ZstdOutputStream;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/** The compression of a shard, chosen by its file name's ending. */
public enum Compression {
  NONE(""),
  GZIP(".gz"),
  ZSTD(".zst");

  private final String suffix;

  Compression(String suffix) {
    this.suffix = suffix;
  }

  /** {@code .gz} → gzip, {@code .zst} or {@code .zstd} → zstd, anything else → plain. */
  public static Compression of(String fileName) {
    String name = fileName.toLowerCase(Locale.ROOT);
    if (name.endsWith(".gz")) {
      return GZIP;
    }
    if (name.endsWith(".zst") || name.endsWith(".zstd")) {
      return ZSTD;
    }
    return NONE;
  }

  /** The usual file name ending ({@code ""} for plain). */
  public String suffix() {
    return suffix;
  }

  /** Decompresses {@code raw}; the result throws {@link IOException} where the data is damaged. */
  public InputStream open(InputStream raw) throws IOException {
    return switch (this) {
      case NONE -> raw;
      // gzip: multi-member files (as concatenated .gz parts) read as one stream
      case GZIP -> new GZIPInputStream(new BufferedInputStream(raw, 1 << 16), 1 << 16);
      // zstd: a stream cut inside any frame fails (see ZstdFramesInputStream for why not ZstdInputStream)
      case ZSTD -> new ZstdFramesInputStream(raw);
    };
  }

  /** Compresses into {@code raw}; closing the result closes {@code raw}. */
  public OutputStream create(OutputStream raw) throws IOException {
    return switch (this) {
      case NONE -> new BufferedOutputStream(raw, 1 << 16);
      case GZIP -> new GZIPOutputStream(new BufferedOutputStream(raw, 1 << 16), 1 << 16);
      case ZSTD -> new ZstdOutputStream(new BufferedOutputStream(raw, 1 << 16), 3);
    };
  }
}
