package org.longctx.checkpoints.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.longctx.checkpoints.Storage;
import org.longctx.checkpoints.safetensors.SafetensorsWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A folder of training checkpoints on any Hadoop file system:
 *
 * <pre>
 * ROOT/step-000100/   config.json, model.safetensors (or shards + index),
 *                     optimizer.safetensors, state.json, experiment.json
 * ROOT/step-000200/   ...
 * ROOT/latest         "step-000200"
 * ROOT/.tmp-…         a save in progress, or left by a crash (ignored, removed by the next save)
 * </pre>
 *
 * <p>A save writes everything into a temporary directory, renames it to {@code step-N} (the
 * commit), and only then replaces {@code latest} (written to a temporary name and renamed over
 * the old one). A crash at any point therefore leaves every earlier step directory intact and
 * {@code latest} naming a complete one. {@code state.json} lists every other file with its size
 * and a step counts only when all of them are present at that size, so on object stores whose
 * rename is a copy (S3A) a crash during the rename itself leaves a step that is skipped. One
 * writer per root is assumed (the trainer's rank 0).
 */
public final class CheckpointStore {
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);

  static final String LATEST = "latest";
  static final String TEMP_PREFIX = ".tmp-";
  static final String STATE_FILE = "state.json";
  static final String EXPERIMENT_FILE = "experiment.json";
  static final String CONFIG_FILE = "config.json";
  static final String FORMAT = "longctx-training-state";
  static final int FORMAT_VERSION = 1;
  private static final Pattern STEP_DIR = Pattern.compile("step-(\\d+)");
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Hears each stage of a save: progress logging, and fault injection in tests. */
  @FunctionalInterface
  public interface SaveObserver {
    void reached(SaveStage stage, Path directory) throws IOException;
  }

  private final Path root;
  private final Configuration conf;
  private final FileSystem fs;
  private final long maxShardBytes;
  private final SaveObserver observer;

  private CheckpointStore(Path root, Configuration conf, long maxShardBytes, SaveObserver observer) {
    this.root = root;
    this.conf = conf;
    this.fs = Storage.fileSystem(root, conf);
    this.maxShardBytes = maxShardBytes;
    this.observer = observer;
  }

  /** A store at {@code root} (a local path or any Hadoop URI). */
  public static CheckpointStore at(String root) {
    return at(Storage.path(root), Storage.defaultConf());
  }

  public static CheckpointStore at(Path root, Configuration conf) {
    return new CheckpointStore(root, conf, SafetensorsWriter.DEFAULT_MAX_SHARD_BYTES, (s, d) -> { });
  }

  /** The same store, sharding weights past {@code bytes}. */
  public CheckpointStore withMaxShardBytes(long bytes) {
    return new CheckpointStore(root, conf, bytes, observer);
  }

  /** The same store, telling {@code observer} about every stage of each save. */
  public CheckpointStore withSaveObserver(SaveObserver observer) {
    return new CheckpointStore(root, conf, maxShardBytes, observer);
  }

  public Path root() {
    return root;
  }

  /** The directory name of a step: {@code step-000123}. */
  public static String directoryName(long step) {
    return String.format("step-%06d", step);
  }

  /**
   * Writes a checkpoint and makes it the latest. On an exception the temporary directory is
   * removed and nothing else changes; an {@link Error} (the JVM is going down) leaves it for the
   * next save to remove.
   *
   * @return the committed step directory
   */
  public Path save(CheckpointContents contents) throws IOException {
    long step = contents.state().step();
    String name = directoryName(step);
    fs.mkdirs(root);
    removeTemporaries();
    Path temp = new Path(root, TEMP_PREFIX + name + "-" + UUID.randomUUID());
    Path target = new Path(root, name);
    try {
      if (!fs.mkdirs(temp)) {
        throw new IOException("cannot create " + temp);
      }
      observer.reached(SaveStage.STARTED, temp);
      SafetensorsWriter.writeSharded(temp, "model", contents.weights(), maxShardBytes, conf);
      observer.reached(SaveStage.WEIGHTS_WRITTEN, temp);
      SafetensorsWriter.writeSharded(temp, "optimizer", contents.optimizer(), maxShardBytes, conf);
      observer.reached(SaveStage.OPTIMIZER_WRITTEN, temp);
      if (contents.modelConfig() != null) {
        Storage.writeNew(fs, new Path(temp, CONFIG_FILE), JSON.writeValueAsBytes(contents.modelConfig()));
      }
      Storage.writeNew(fs, new Path(temp, EXPERIMENT_FILE), JSON.writeValueAsBytes(contents.state().experiment()));
      // state.json last, listing every other file and its size: a directory whose files all
      // match it is complete, even where a rename copies files in no particular order (S3A)
      Storage.writeNew(fs, new Path(temp, STATE_FILE), JSON.writeValueAsBytes(stateJson(contents.state(), fileSizes(temp))));
      observer.reached(SaveStage.BEFORE_COMMIT, temp);
      commit(temp, target);
    } catch (IOException | RuntimeException e) {
      deleteQuietly(temp);
      throw e;
    }
    observer.reached(SaveStage.COMMITTED, target);
    writeLatest(name);
    observer.reached(SaveStage.LATEST_UPDATED, target);
    LOG.info("checkpoint saved: {}", target);
    return target;
  }

  private void commit(Path temp, Path target) throws IOException {
    Path displaced = null;
    if (fs.exists(target)) {
      // the same step saved again (after a resume): keep the old one until the new one is in place
      displaced = new Path(root, TEMP_PREFIX + "replaced-" + target.getName() + "-" + UUID.randomUUID());
      if (!fs.rename(target, displaced)) {
        throw new IOException("cannot move the existing " + target + " aside to " + displaced);
      }
    }
    if (!fs.rename(temp, target)) {
      if (displaced != null) {
        fs.rename(displaced, target);
      }
      throw new IOException("cannot rename " + temp + " to " + target);
    }
    if (displaced != null) {
      deleteQuietly(displaced);
    }
  }

  private void writeLatest(String name) throws IOException {
    Path latest = new Path(root, LATEST);
    Path temp = new Path(root, TEMP_PREFIX + LATEST + "-" + UUID.randomUUID());
    Storage.writeNew(fs, temp, (name + "\n").getBytes(StandardCharsets.UTF_8));
    // POSIX and most object stores replace atomically; HDFS refuses to rename onto an existing
    // file, so there the old pointer is deleted first (a crash in between leaves no pointer, and
    // loading then falls back to the newest complete step directory)
    if (!fs.rename(temp, latest)) {
      fs.delete(latest, false);
      if (!fs.rename(temp, latest)) {
        deleteQuietly(temp);
        throw new IOException("cannot update " + latest);
      }
    }
  }

  private static ObjectNode stateJson(TrainingState state, java.util.Map<String, Long> files) {
    ObjectNode node = JSON.createObjectNode();
    node.put("format", FORMAT);
    node.put("version", FORMAT_VERSION);
    node.put("step", state.step());
    node.set("rng", state.rng());
    node.set("data_cursor", state.dataCursor());
    ObjectNode sizes = node.putObject("files");
    files.forEach(sizes::put);
    return node;
  }

  private java.util.Map<String, Long> fileSizes(Path dir) throws IOException {
    java.util.Map<String, Long> sizes = new java.util.TreeMap<>();
    for (FileStatus s : fs.listStatus(dir)) {
      if (s.isFile()) {
        sizes.put(s.getPath().getName(), s.getLen());
      }
    }
    return sizes;
  }

  /**
   * Why the step directory {@code dir} is not a complete checkpoint, or null when it is: its
   * {@code state.json} must exist and every file it lists must be there with its size.
   */
  static String incompleteness(FileSystem fs, Path dir) throws IOException {
    Path state = new Path(dir, STATE_FILE);
    if (!fs.exists(state)) {
      return "it has no " + STATE_FILE;
    }
    JsonNode files = readJson(fs, state).get("files");
    if (files == null || !files.isObject()) {
      return STATE_FILE + " lists no files";
    }
    for (java.util.Map.Entry<String, JsonNode> e : files.properties()) {
      Path f = new Path(dir, e.getKey());
      if (!fs.exists(f)) {
        return e.getKey() + " is missing";
      }
      long len = fs.getFileStatus(f).getLen();
      if (len != e.getValue().asLong()) {
        return e.getKey() + " has " + len + " bytes, " + STATE_FILE + " recorded " + e.getValue().asLong();
      }
    }
    return null;
  }

  /** Removes what interrupted saves left behind. */
  public void removeTemporaries() throws IOException {
    if (!fs.exists(root)) {
      return;
    }
    for (FileStatus s : fs.listStatus(root)) {
      if (s.getPath().getName().startsWith(TEMP_PREFIX)) {
        LOG.warn("removing {} left by an interrupted checkpoint save", s.getPath());
        deleteQuietly(s.getPath());
      }
    }
  }

  private void deleteQuietly(Path p) {
    try {
      fs.delete(p, true);
    } catch (IOException e) {
      LOG.warn("could not remove {}: {}", p, e.getMessage());
    }
  }

  /** Steps with a complete directory, ascending. */
  public List<Long> steps() throws IOException {
    List<Long> steps = new ArrayList<>();
    if (!fs.exists(root)) {
      return steps;
    }
    for (FileStatus s : fs.listStatus(root)) {
      Matcher m = STEP_DIR.matcher(s.getPath().getName());
      if (s.isDirectory() && m.matches()) {
        String problem = incompleteness(fs, s.getPath());
        if (problem == null) {
          steps.add(Long.parseLong(m.group(1)));
        } else {
          LOG.warn("ignoring {}: {} (incomplete copy?)", s.getPath(), problem);
        }
      }
    }
    steps.sort(null);
    return steps;
  }

  /**
   * The step {@code latest} names, or — when it is missing or names no complete directory — the
   * newest complete step; empty when there is none.
   */
  public Optional<Long> latestStep() throws IOException {
    Path latest = new Path(root, LATEST);
    List<Long> steps = steps();
    if (fs.exists(latest)) {
      String text = new String(Storage.readAll(fs, latest), StandardCharsets.UTF_8).strip();
      Matcher m = STEP_DIR.matcher(text);
      if (m.matches() && steps.contains(Long.parseLong(m.group(1)))) {
        return Optional.of(Long.parseLong(m.group(1)));
      }
      LOG.warn("{} names '{}', which is not a complete checkpoint; using the newest complete step instead", latest, text);
    }
    return steps.isEmpty() ? Optional.empty() : Optional.of(steps.get(steps.size() - 1));
  }

  /** Opens the checkpoint of {@code step}. */
  public LoadedCheckpoint load(long step) throws IOException {
    Path dir = new Path(root, directoryName(step));
    String problem = fs.exists(dir) ? incompleteness(fs, dir) : "there is no " + dir.getName();
    if (problem != null) {
      throw new FileNotFoundException("no complete checkpoint for step " + step + " in " + root + ": " + problem
          + "; complete steps: " + steps());
    }
    return LoadedCheckpoint.open(dir, conf);
  }

  /** Opens the latest checkpoint, if any. */
  public Optional<LoadedCheckpoint> loadLatest() throws IOException {
    Optional<Long> step = latestStep();
    return step.isEmpty() ? Optional.empty() : Optional.of(load(step.get()));
  }

  /**
   * The model folder behind {@code location}: the folder itself when it holds a
   * {@code config.json} (a Hugging Face folder or one step directory), else the latest complete
   * step of the checkpoint root it is.
   */
  public static Path modelFolder(Path location, Configuration conf) throws IOException {
    FileSystem fs = Storage.fileSystem(location, conf);
    if (!fs.exists(location)) {
      throw new FileNotFoundException(location + ": no such folder");
    }
    if (fs.exists(new Path(location, CONFIG_FILE))) {
      return location;
    }
    CheckpointStore store = at(location, conf);
    Optional<Long> step = store.latestStep();
    if (step.isEmpty()) {
      throw new FileNotFoundException(location + ": holds neither a config.json (a Hugging Face model folder) nor complete step-N checkpoints");
    }
    Path dir = new Path(location, directoryName(step.get()));
    if (!fs.exists(new Path(dir, CONFIG_FILE))) {
      throw new FileNotFoundException(dir + ": the checkpoint has no config.json, so it is not a model folder");
    }
    return dir;
  }

  /** Deletes all but the newest {@code keep} complete steps (never the one {@code latest} names). */
  public void prune(int keep) throws IOException {
    if (keep < 1) {
      throw new IllegalArgumentException("keep: must be ≥ 1, got " + keep);
    }
    List<Long> steps = steps();
    Optional<Long> latest = latestStep();
    for (int i = 0; i < steps.size() - keep; i++) {
      if (latest.isPresent() && latest.get().equals(steps.get(i))) {
        continue;
      }
      Path dir = new Path(root, directoryName(steps.get(i)));
      // rename first so a crash mid-delete never leaves a half-deleted step that looks complete
      Path doomed = new Path(root, TEMP_PREFIX + "pruned-" + dir.getName());
      if (fs.rename(dir, doomed)) {
        deleteQuietly(doomed);
      }
    }
  }

  static JsonNode readJson(FileSystem fs, Path file) throws IOException {
    try {
      return JSON.readTree(Storage.readAll(fs, file));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
    }
  }
}
