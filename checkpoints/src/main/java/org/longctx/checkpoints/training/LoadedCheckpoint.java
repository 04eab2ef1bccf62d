package org.longctx.checkpoints.training;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.Closeable;
import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.longctx.checkpoints.Storage;
import org.longctx.checkpoints.safetensors.SafetensorsReader;

/**
 * One committed checkpoint, open for reading: its state, its model config, and readers for the
 * weights and the optimizer state (tensor by tensor).
 */
public final class LoadedCheckpoint implements Closeable {
  private final Path directory;
  private final TrainingState state;
  private final JsonNode modelConfig;
  private final SafetensorsReader weights;
  private final SafetensorsReader optimizer;

  private LoadedCheckpoint(Path directory, TrainingState state, JsonNode modelConfig, SafetensorsReader weights, SafetensorsReader optimizer) {
    this.directory = directory;
    this.state = state;
    this.modelConfig = modelConfig;
    this.weights = weights;
    this.optimizer = optimizer;
  }

  static LoadedCheckpoint open(Path dir, Configuration conf) throws IOException {
    FileSystem fs = Storage.fileSystem(dir, conf);
    JsonNode stateJson = CheckpointStore.readJson(fs, new Path(dir, CheckpointStore.STATE_FILE));
    if (!CheckpointStore.FORMAT.equals(stateJson.path("format").asText())) {
      throw new IOException(dir + "/" + CheckpointStore.STATE_FILE + ": not a longctx training state (format '"
          + stateJson.path("format").asText() + "', expected '" + CheckpointStore.FORMAT + "')");
    }
    int version = stateJson.path("version").asInt(-1);
    if (version != CheckpointStore.FORMAT_VERSION) {
      throw new IOException(dir + "/" + CheckpointStore.STATE_FILE + ": state format version " + version
          + " is not supported; this build reads version " + CheckpointStore.FORMAT_VERSION);
    }
    long step = stateJson.path("step").asLong(-1);
    if (!dir.getName().equals(CheckpointStore.directoryName(step))) {
      throw new IOException(dir + ": its state.json says step " + step + ", which does not match the directory name");
    }
    Path experimentFile = new Path(dir, CheckpointStore.EXPERIMENT_FILE);
    JsonNode experiment = fs.exists(experimentFile) ? CheckpointStore.readJson(fs, experimentFile) : null;
    Path configFile = new Path(dir, CheckpointStore.CONFIG_FILE);
    JsonNode modelConfig = fs.exists(configFile) ? CheckpointStore.readJson(fs, configFile) : null;
    TrainingState state = new TrainingState(step, stateJson.get("rng"), stateJson.get("data_cursor"), experiment);
    SafetensorsReader weights = SafetensorsReader.open(dir, "model", conf);
    SafetensorsReader optimizer;
    try {
      optimizer = SafetensorsReader.open(dir, "optimizer", conf);
    } catch (IOException | RuntimeException e) {
      weights.close();
      throw e;
    }
    return new LoadedCheckpoint(dir, state, modelConfig, weights, optimizer);
  }

  public Path directory() {
    return directory;
  }

  public TrainingState state() {
    return state;
  }

  /** The model's {@code config.json}, or null when the checkpoint has none. */
  public JsonNode modelConfig() {
    return modelConfig == null ? null : modelConfig.deepCopy();
  }

  public SafetensorsReader weights() {
    return weights;
  }

  public SafetensorsReader optimizer() {
    return optimizer;
  }

  @Override
  public void close() throws IOException {
    try {
      weights.close();
    } finally {
      optimizer.close();
    }
  }
}
