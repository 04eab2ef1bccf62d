package org.longctx.data.reader;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.longctx.data.DataConfig.Layout;
import org.longctx.data.io.ShardReader;
import org.longctx.checkpoints.Storage;

/**
 * A finished prepare output opened for reading: its manifest, its parts, and random access
 * to any row by a global index (rows of {@code part-00000.arrow} first, then the next part).
 * Opening fails unless {@code _SUCCESS} exists, so a half-written output is never read.
 * Parts are opened on demand and at most {@link #OPEN_PARTS} stay open.
 */
public final class PreparedDataset implements AutoCloseable {
  static final int OPEN_PARTS = 8;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String location;
  private final Storage storage;
  private final JsonNode manifest;
  private final String fingerprint;
  private final Layout layout;
  private final List<String> parts = new ArrayList<>();
  /** {@code partStart[p]} = global index of part p's first row; last entry = total rows. */
  private final long[] partStart;
  private final Map<Integer, ShardReader> open = new LinkedHashMap<>(16, 0.75f, true);

  private PreparedDataset(String location, Storage storage) throws IOException {
    this.location = location;
    this.storage = storage;
    if (!storage.exists(storage.resolve(location, "_SUCCESS"))) {
      throw new IOException(location + " is not a finished prepare output (no _SUCCESS); run 'longctx prepare' first");
    }
    byte[] bytes = storage.readAll(storage.resolve(location, "manifest.json"));
    this.manifest = JSON.readTree(bytes);
    this.fingerprint = sha256(bytes).substring(0, 16);
    this.layout = Layout.valueOf(manifest.path("layout").asText("documents").toUpperCase(Locale.ROOT));
    JsonNode list = manifest.path("output").path("parts");
    this.partStart = new long[list.size() + 1];
    for (int p = 0; p < list.size(); p++) {
      parts.add(list.get(p).path("shard").asText());
      partStart[p + 1] = partStart[p] + list.get(p).path("rows").asLong();
    }
  }

  /** Opens the prepared output at {@code location} (a local path or any Hadoop URI). */
  public static PreparedDataset open(String location) throws IOException {
    return new PreparedDataset(location, Storage.forLocation(location));
  }

  /** Opens it through {@code storage}. */
  public static PreparedDataset open(String location, Storage storage) throws IOException {
    return new PreparedDataset(location, storage);
  }

  public String location() {
    return location;
  }

  /** The parsed {@code manifest.json}. */
  public JsonNode manifest() {
    return manifest;
  }

  /** Identifies this dataset's content: the first 16 hex digits of its manifest's SHA-256. */
  public String fingerprint() {
    return fingerprint;
  }

  public Layout layout() {
    return layout;
  }

  public long rows() {
    return partStart[partStart.length - 1];
  }

  /** Total tokens over all rows (from the manifest). */
  public long tokens() {
    return manifest.path("output").path("tokens").asLong();
  }

  /** The {@code tokenizer.json} fingerprint the shards were made with. */
  public String tokenizerSha256() {
    return manifest.path("tokenizer").path("sha256").asText();
  }

  /** The EOS id used when the data was prepared, or -1. */
  public int eosId() {
    return manifest.path("tokenizer").path("eos_id").asInt(-1);
  }

  /** The BOS id used when the data was prepared, or -1. */
  public int bosId() {
    return manifest.path("tokenizer").path("bos_id").asInt(-1);
  }

  public List<String> parts() {
    return List.copyOf(parts);
  }

  /** Row {@code index} of the whole dataset. */
  public synchronized ShardReader.Row row(long index) {
    if (index < 0 || index >= rows()) {
      throw new IndexOutOfBoundsException("row " + index + " of a dataset with " + rows() + " rows");
    }
    int b = java.util.Arrays.binarySearch(partStart, index);
    int part = b >= 0 ? b : -b - 2;
    while (partStart[part + 1] == partStart[part]) {
      part++; // skip empty parts
    }
    try {
      return reader(part).row(index - partStart[part]);
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + parts.get(part) + " of " + location, e);
    }
  }

  private ShardReader reader(int part) throws IOException {
    ShardReader r = open.get(part);
    if (r != null) {
      return r;
    }
    if (open.size() >= OPEN_PARTS) {
      Map.Entry<Integer, ShardReader> eldest = open.entrySet().iterator().next();
      open.remove(eldest.getKey());
      eldest.getValue().close();
    }
    String path = storage.resolve(location, parts.get(part));
    r = new ShardReader(storage.openChannel(path));
    long expected = partStart[part + 1] - partStart[part];
    if (r.rowCount() != expected || r.layout() != layout) {
      r.close();
      throw new IOException(path + " holds " + r.rowCount() + " " + r.layout() + " rows; the manifest says "
          + expected + " " + layout);
    }
    open.put(part, r);
    return r;
  }

  @Override
  public synchronized void close() throws IOException {
    IOException first = null;
    for (ShardReader r : open.values()) {
      try {
        r.close();
      } catch (IOException e) {
        first = first == null ? e : first;
      }
    }
    open.clear();
    if (first != null) {
      throw first;
    }
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
