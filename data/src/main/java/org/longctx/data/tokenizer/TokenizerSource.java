package org.longctx.data.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.longctx.checkpoints.Storage;

/**
 * A tokenizer's files as found: {@code tokenizer.json} and the {@code tokenizer_config.json}
 * beside it (which names BOS and EOS), read from the first of the places a job looks in. Every
 * job that picks a tokenizer (train, prepare, eval, bench) looks through {@link #find}, so "a
 * {@code tokenizer.json} or the folder holding it, local or on any Hadoop file system" means
 * the same everywhere.
 *
 * @param key the config key or option the tokenizer came from, for messages
 *     ({@code data.tokenizer}, {@code eval.tokenizer}, ...)
 * @param source where {@code tokenizer.json} was read (a path or URI), or {@link #BUILT_IN}
 * @param json the {@code tokenizer.json} bytes
 * @param configJson the {@code tokenizer_config.json} bytes, or null when there is none
 */
public record TokenizerSource(String key, String source, byte[] json, byte[] configJson) {

  /** The {@link #source} of the built-in byte-level tokenizer. */
  public static final String BUILT_IN = "byte-level (built in)";

  static final String TOKENIZER_JSON = "tokenizer.json";
  static final String TOKENIZER_CONFIG_JSON = "tokenizer_config.json";

  /**
   * A place to look for a tokenizer.
   *
   * @param key the config key or option naming it, for messages
   * @param location a {@code tokenizer.json}, or the folder holding it; local path or any Hadoop
   *     URI; empty = not set, skipped
   * @param required true: the user named it, so finding no tokenizer there is an error; false:
   *     it may have none (a model folder), so the next place is tried
   */
  public record Place(String key, String location, boolean required) {

    public Place {
      location = location == null ? "" : location.strip();
    }

    /** A place the user named: it must hold a tokenizer (when set at all). */
    public static Place named(String key, String location) {
      return new Place(key, location, true);
    }

    /** A place that may hold a tokenizer, such as a model folder. */
    public static Place ifPresent(String key, String location) {
      return new Place(key, location, false);
    }
  }

  /** The built-in byte-level tokenizer (ids 0–255 bytes, 256 {@code <s>}, 257 {@code </s>}, 258 {@code <pad>}). */
  public static TokenizerSource builtIn() {
    return new TokenizerSource("byte-level", BUILT_IN, ByteLevelTokenizer.tokenizerJson().getBytes(StandardCharsets.UTF_8),
        ByteLevelTokenizer.tokenizerConfigJson(1 << 20).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The tokenizer of the first place that has one; places whose location is empty are skipped.
   *
   * @return empty when no place has a tokenizer
   * @throws IllegalArgumentException {@code "KEY: ..."} when a {@linkplain Place#required
   *     required} place has none
   */
  public static Optional<TokenizerSource> find(List<Place> places, Configuration conf) throws IOException {
    for (Place place : places) {
      if (place.location().isEmpty()) {
        continue;
      }
      Path path = Storage.path(place.location());
      FileSystem fs = Storage.fileSystem(path, conf);
      if (!fs.exists(path)) {
        if (place.required()) {
          throw new IllegalArgumentException(place.key() + ": " + path + " does not exist; give a tokenizer.json or the folder "
              + "holding it ('longctx tokenizer byte-level --out DIR' writes one)");
        }
        continue;
      }
      if (fs.getFileStatus(path).isDirectory()) {
        path = new Path(path, TOKENIZER_JSON);
        if (!fs.exists(path)) {
          if (place.required()) {
            throw new IllegalArgumentException(place.key() + ": folder " + path.getParent() + " has no " + TOKENIZER_JSON);
          }
          continue;
        }
      }
      Path config = new Path(path.getParent(), TOKENIZER_CONFIG_JSON);
      return Optional.of(new TokenizerSource(place.key(), path.toString(), Storage.readAll(fs, path),
          fs.exists(config) ? Storage.readAll(fs, config) : null));
    }
    return Optional.empty();
  }

  /** {@link #find}, else the {@linkplain #builtIn built-in byte-level tokenizer}. */
  public static TokenizerSource findOrBuiltIn(List<Place> places, Configuration conf) throws IOException {
    return find(places, conf).orElseGet(TokenizerSource::builtIn);
  }

  /**
   * The tokenizer as data.
   *
   * @param bosToken BOS text from the config; empty to take it from {@code tokenizer_config.json}
   *     or the usual names
   * @param eosToken EOS text, likewise
   */
  public TokenizerSpec spec(String bosToken, String eosToken) {
    return TokenizerSpec.of(json, configJson, source, bosToken, eosToken);
  }

  /** Writes {@code tokenizer.json}, and {@code tokenizer_config.json} when there is one, into {@code dir}. */
  public void writeTo(java.nio.file.Path dir) throws IOException {
    writeTo(Storage.path(dir), Storage.defaultConf());
  }

  /** {@link #writeTo(java.nio.file.Path)} into a folder of any Hadoop file system, replacing the files. */
  public void writeTo(Path dir, Configuration conf) throws IOException {
    FileSystem fs = Storage.fileSystem(dir, conf);
    fs.mkdirs(dir);
    write(fs, new Path(dir, TOKENIZER_JSON), json);
    if (configJson != null) {
      write(fs, new Path(dir, TOKENIZER_CONFIG_JSON), configJson);
    }
  }

  private static void write(FileSystem fs, Path file, byte[] bytes) throws IOException {
    try (FSDataOutputStream out = fs.create(file, true)) {
      out.write(bytes);
    }
  }
}
