package org.longctx.jobs;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.longctx.jobs.config.ConfigException;
import org.longctx.jobs.config.ExperimentConfig;
import org.longctx.positional.HfRopeConfig;
import org.longctx.positional.Rope;
import org.longctx.positional.RopeConfig;
import org.longctx.positional.RopeFrequencies;
import org.longctx.positional.Ropes;
import org.longctx.positional.RotaryEmbedding;

/**
 * Prints what a rope configuration computes — inverse frequencies, attention factor and, on
 * request, cos/sin rows — so a config can be checked against transformers before spending GPU
 * hours on it.
 *
 * <pre>Usage: longctx rope --hf-config PATH/config.json [--seq-len N] [--positions 0,5,4095]
 *        longctx rope --config X.yaml [--set rope.key=value]... [--hf-config PATH/config.json]
 *                     [--head-dim D --rope-theta B --max-position-embeddings M] [--seq-len N] [--positions ...]</pre>
 */
public final class RopeJob {

  static final String USAGE = """
      Usage: longctx rope --hf-config PATH/config.json [--seq-len N] [--positions P,P,...]
             longctx rope --config X.yaml [--set rope.KEY=VALUE]... [--hf-config PATH/config.json]
                          [--head-dim D --rope-theta B --max-position-embeddings M]
                          [--seq-len N] [--positions P,P,...]

      Prints one JSON object to stdout:
        {"rope_type": "...", "inv_freq": [head_dim/2 float32 values], "attention_factor": x}
      and, with --positions, "cos" and "sin": one row of head_dim values per position
      (attention factor applied, float32), as transformers' rotary embedding computes them.

      --hf-config PATH   a model's config.json (or its folder): transformers 4.x (rope_scaling +
                         rope_theta, "type" alias) and 5.x (rope_parameters) forms are both read
      --config X.yaml    take the rope from the experiment's rope: section instead (rope_type
                         default, linear, dynamic, yarn, longrope, llama3, ntk, yarn_pose); the
                         model's head_dim, rope_theta and max_position_embeddings come from
                         --hf-config if given, else from model.path/config.json, else from
                         --head-dim, --rope-theta (default 10000) and --max-position-embeddings.
                         Without a rope: section the model's config.json rope is shown.
      --seq-len N        the sequence length the model is running at: picks dynamic NTK's
                         scaling (beyond max_position_embeddings) and longrope's short/long
                         factors (long beyond original_max_position_embeddings). Default:
                         max(positions) + 1 with --positions (what transformers uses), else
                         max_position_embeddings.
      --positions LIST   comma-separated positions to print cos/sin rows for, e.g. 0,5,4095
      --set rope.KEY=V   override a key of the rope: section (with --config)

      A bad rope (e.g. factor 0.5 for yarn, longrope lists not head_dim/2 long) fails with a
      message naming the key; exit status 2.
      """;

  public static final Subcommand COMMAND = new Subcommand(
      "rope", USAGE,
      Set.of(), Set.of("--hf-config", "--config", "--set", "--seq-len", "--positions", "--head-dim", "--rope-theta",
          "--max-position-embeddings"),
      RopeJob::run);

  private static final ObjectMapper JSON = new ObjectMapper();

  private RopeJob() {}

  public static void main(String[] args) {
    Subcommand.main(COMMAND, args);
  }

  static int run(Args args) throws JsonProcessingException {
    args.noPositionals();
    Rope rope = resolve(args);
    long[] positions = args.value("--positions").map(RopeJob::parsePositions).orElse(null);
    long seqLen = args.value("--seq-len").isPresent()
        ? positiveLong(args.value("--seq-len").get(), "--seq-len")
        : positions != null ? max(positions) + 1 : rope.maxPositionEmbeddings();
    System.out.println(JSON.writeValueAsString(report(rope, seqLen, positions)));
    return 0;
  }

  /** The JSON object the command prints. */
  static ObjectNode report(Rope rope, long seqLen, long[] positions) {
    RopeFrequencies f = rope.frequencies(seqLen);
    ObjectNode out = JSON.createObjectNode();
    out.put("rope_type", rope.ropeType());
    ArrayNode inv = out.putArray("inv_freq");
    for (float v : f.invFreq()) {
      inv.add(v);
    }
    out.put("attention_factor", f.attentionFactor());
    if (positions != null) {
      try (NDManager manager = NDManager.newBaseManager(Device.cpu());
          RotaryEmbedding rotary = new RotaryEmbedding(rope)) {
        RotaryEmbedding.CosSin cs = rotary.cosSin(manager.create(new long[][] {positions}), seqLen, DataType.FLOAT32,
            Device.cpu());
        out.set("cos", rows(cs.cos().toFloatArray(), rope.headDim()));
        out.set("sin", rows(cs.sin().toFloatArray(), rope.headDim()));
      }
    }
    return out;
  }

  /** The rope the command line names; a bad config becomes a {@link ConfigException} naming the key. */
  static Rope resolve(Args args) {
    Optional<String> hfConfig = args.value("--hf-config");
    boolean explicit = args.value("--head-dim").isPresent() || args.value("--rope-theta").isPresent()
        || args.value("--max-position-embeddings").isPresent();
    if (args.value("--config").isEmpty()) {
      if (!args.values("--set").isEmpty() || explicit) {
        throw new UsageException("--set, --head-dim, --rope-theta and --max-position-embeddings go with --config X.yaml");
      }
      String path = hfConfig.orElseThrow(() -> new UsageException("give --hf-config PATH/config.json or --config X.yaml"));
      Path file = configJsonPath(path);
      JsonNode config = readJson(file);
      try {
        return HfRopeConfig.parse(config);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(file + ": " + e.getMessage(), e);
      }
    }
    ExperimentConfig experiment = Subcommand.loadConfig(args);
    String source = args.value("--config").get();
    Path modelJson = hfConfig.map(RopeJob::configJsonPath)
        .or(() -> modelConfigJson(experiment.model().path()))
        .orElse(null);
    if (modelJson != null && explicit) {
      throw new UsageException("--head-dim, --rope-theta and --max-position-embeddings are for models without a "
          + "config.json; this one reads " + modelJson);
    }
    RopeConfig rope = experiment.rope();
    try {
      if (modelJson != null) {
        JsonNode config = readJson(modelJson);
        if (rope == null) {
          return HfRopeConfig.parse(config);
        }
        double modelTheta = HfRopeConfig.toRopeConfig(config).ropeTheta();
        return Ropes.create(rope, HfRopeConfig.headDim(config), modelTheta, HfRopeConfig.maxPositionEmbeddings(config));
      }
      if (rope == null) {
        throw new ConfigException(source + ": no rope: section and no model config.json to read one from "
            + "(give --hf-config PATH/config.json or set model.path)");
      }
      int headDim = (int) positiveLong(args.value("--head-dim").orElseThrow(() -> new UsageException(
          "no config.json for the model (--hf-config or model.path): give --head-dim D and --max-position-embeddings M")),
          "--head-dim");
      int maxPositions = (int) positiveLong(args.value("--max-position-embeddings").orElseThrow(() -> new UsageException(
          "no config.json for the model (--hf-config or model.path): give --max-position-embeddings M")),
          "--max-position-embeddings");
      double theta = args.value("--rope-theta").map(v -> number(v, "--rope-theta")).orElse(Ropes.DEFAULT_THETA);
      return Ropes.create(rope, headDim, theta, maxPositions);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(source + ": rope." + e.getMessage(), e);
    }
  }

  private static Path configJsonPath(String path) {
    Path p = Path.of(path);
    return Files.isDirectory(p) ? p.resolve("config.json") : p;
  }

  private static Optional<Path> modelConfigJson(String modelPath) {
    if (modelPath == null || modelPath.isBlank()) {
      return Optional.empty();
    }
    Path p = configJsonPath(modelPath);
    return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
  }

  private static JsonNode readJson(Path file) {
    try {
      return JSON.readTree(Files.readString(file));
    } catch (NoSuchFileException e) {
      throw new ConfigException("config.json not found: " + file);
    } catch (JsonProcessingException e) {
      throw new ConfigException(file + ": not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new ConfigException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static ArrayNode rows(float[] flat, int headDim) {
    ArrayNode rows = JSON.createArrayNode();
    for (int r = 0; r < flat.length / headDim; r++) {
      ArrayNode row = rows.addArray();
      for (int j = 0; j < headDim; j++) {
        row.add(flat[r * headDim + j]);
      }
    }
    return rows;
  }

  static long[] parsePositions(String text) {
    List<Long> out = new ArrayList<>();
    for (String part : text.split(",")) {
      if (!part.isBlank()) {
        long p;
        try {
          p = Long.parseLong(part.trim());
        } catch (NumberFormatException e) {
          throw new UsageException("--positions must be comma-separated integers ≥ 0, got '" + part.trim() + "'");
        }
        if (p < 0) {
          throw new UsageException("--positions must be ≥ 0, got " + p);
        }
        out.add(p);
      }
    }
    if (out.isEmpty()) {
      throw new UsageException("--positions needs at least one position, e.g. 0,5,4095");
    }
    return out.stream().mapToLong(Long::longValue).toArray();
  }

  private static long max(long[] values) {
    long m = values[0];
    for (long v : values) {
      m = Math.max(m, v);
    }
    return m;
  }

  private static long positiveLong(String text, String option) {
    try {
      long v = Long.parseLong(text.trim());
      if (v >= 1 && v <= Integer.MAX_VALUE) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new UsageException(option + " must be an integer in [1, " + Integer.MAX_VALUE + "], got '" + text + "'");
  }

  private static double number(String text, String option) {
    try {
      return Double.parseDouble(text.trim());
    } catch (NumberFormatException e) {
      throw new UsageException(option + " must be a number, got '" + text + "'");
    }
  }
}
