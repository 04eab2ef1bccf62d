package org.longctx.search;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.longctx.positional.RopeConfig;

/**
 * {@code factors.json}: a searched LongRoPE factor set and what it was searched for, reusable
 * wherever a rope goes (a {@code rope:} section, an eval method, export). docs/methods.md §7
 * notes that the reference never published its long-target factor files; this is ours.
 *
 * @param targetLength L, the window the long factors were searched for
 * @param originalLength L0
 * @param mscale the attention-factor rule ({@code su} or {@code yarn})
 * @param longFactor λ used beyond L0 (d/2 values)
 * @param shortFactor λ used up to L0 (ones unless a short-factor search set them)
 * @param startTokens n̂ (0 = none)
 * @param model where the model was read from, and its SHA-256 ({@code id}, {@code sha256})
 * @param perplexity at the target on the search's documents: {@code start}, {@code pi}, {@code yarn}, {@code best}
 * @param search facts of the run (seed, generations, candidates, documents, ...)
 */
public record FactorFile(
    int targetLength,
    int originalLength,
    String mscale,
    List<Double> longFactor,
    List<Double> shortFactor,
    int startTokens,
    Map<String, String> model,
    Map<String, Double> perplexity,
    Map<String, Object> search) {

  public static final String FORMAT = "longctx-longrope-factors";

  public FactorFile {
    if (originalLength < 1 || targetLength <= originalLength) {
      throw new IllegalArgumentException("target_length: must exceed original_length (" + originalLength + "), got " + targetLength);
    }
    if (!SearchConfig.MSCALES.contains(mscale)) {
      throw new IllegalArgumentException("mscale: '" + mscale + "' is not an attention-factor rule; allowed: "
          + String.join(", ", SearchConfig.MSCALES));
    }
    longFactor = List.copyOf(longFactor);
    shortFactor = shortFactor == null || shortFactor.isEmpty() ? Collections.nCopies(longFactor.size(), 1.0) : List.copyOf(shortFactor);
    if (shortFactor.size() != longFactor.size()) {
      throw new IllegalArgumentException("short_factor: must have as many values as long_factor (" + longFactor.size() + "), got "
          + shortFactor.size());
    }
    model = model == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(model));
    perplexity = perplexity == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(perplexity));
    search = search == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(search));
  }

  /** s = L / L0. */
  public double scale() {
    return (double) targetLength / originalLength;
  }

  /** The attention factor the factors were searched with. */
  public double attentionFactor() {
    return Factors.attentionFactor(mscale, scale(), originalLength);
  }

  /**
   * The rope these factors describe: transformers' longrope with {@code factor = s},
   * {@code original_max_position_embeddings = L0}, the attention factor made explicit (so it
   * does not depend on the model's {@code max_position_embeddings}) and n̂ as {@code start_tokens}.
   *
   * @param length the target to serve; below the searched one the long factors are rescaled
   *     (docs/methods.md §3, {@link Factors#rescale}); 0 = the searched target
   */
  public RopeConfig toRopeConfig(int length) {
    List<Double> lambda = longFactor;
    int target = targetLength;
    if (length != 0 && length != targetLength) {
      if (length > targetLength || length <= originalLength) {
        throw new IllegalArgumentException("length: factors searched for " + targetLength + " tokens can be rescaled to a length in ("
            + originalLength + ", " + targetLength + "], got " + length);
      }
      double[] f = longFactor.stream().mapToDouble(Double::doubleValue).toArray();
      lambda = java.util.Arrays.stream(Factors.rescale(f, originalLength, targetLength, length)).boxed().toList();
      target = length;
    }
    double s = (double) target / originalLength;
    return RopeConfig.builder("longrope")
        .shortFactor(shortFactor)
        .longFactor(lambda)
        .factor(s)
        .originalMaxPositionEmbeddings(originalLength)
        .attentionFactor(Factors.attentionFactor(mscale, s, originalLength))
        .startTokens(startTokens == 0 ? null : startTokens)
        .build();
  }

  /** The same set with {@code shortFactor} as its short factors (a short-factor search's candidate or result). */
  public FactorFile withShortFactor(List<Double> shortFactor, Map<String, String> model, Map<String, Double> perplexity,
      Map<String, Object> search) {
    return new FactorFile(targetLength, originalLength, mscale, longFactor, shortFactor, startTokens, model, perplexity, search);
  }

  /** λ as an array. */
  public double[] longFactors() {
    return longFactor.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /** Writes the file (atomically: beside it, then renamed over it). */
  public void write(Path file) throws IOException {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("format", FORMAT);
    out.put("version", 1);
    out.put("target_length", targetLength);
    out.put("original_length", originalLength);
    out.put("scale", scale());
    out.put("mscale", mscale);
    out.put("attention_factor", attentionFactor());
    out.put("start_tokens", startTokens);
    out.put("long_factor", longFactor);
    out.put("short_factor", shortFactor);
    out.put("model", model);
    out.put("perplexity", perplexity);
    out.put("search", search);
    Path parent = file.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Path temp = parent.resolve("." + file.getFileName() + ".tmp");
    Files.write(temp, StateFile.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(out));
    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /**
   * Reads a factor file.
   *
   * @throws IllegalArgumentException naming the file and the key when it is not one
   */
  public static FactorFile read(Path file) {
    JsonNode json;
    try {
      json = StateFile.JSON.readTree(Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("factors: file not found: " + file);
    } catch (IOException e) {
      throw new IllegalArgumentException("factors: " + file + " is not JSON: " + e.getMessage());
    }
    if (!FORMAT.equals(json.path("format").asText())) {
      throw new IllegalArgumentException("factors: " + file + " is not a factor file (format must be '" + FORMAT + "', written by longctx search)");
    }
    try {
      return new FactorFile(
          json.path("target_length").asInt(),
          json.path("original_length").asInt(),
          json.path("mscale").asText("su"),
          numbers(json, "long_factor"),
          json.has("short_factor") ? numbers(json, "short_factor") : List.of(),
          json.path("start_tokens").asInt(0),
          section(json, "model", new TypeReference<Map<String, String>>() {}),
          section(json, "perplexity", new TypeReference<Map<String, Double>>() {}),
          section(json, "search", new TypeReference<Map<String, Object>>() {}));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("factors: " + file + ": " + e.getMessage(), e);
    }
  }

  private static <T> T section(JsonNode json, String key, TypeReference<T> type) {
    return json.path(key).isObject() ? StateFile.JSON.convertValue(json.get(key), type) : null;
  }

  private static List<Double> numbers(JsonNode json, String key) {
    JsonNode list = json.path(key);
    if (!list.isArray() || list.isEmpty()) {
      throw new IllegalArgumentException(key + ": must be a non-empty list of numbers");
    }
    List<Double> out = new ArrayList<>();
    list.forEach(v -> {
      if (!v.isNumber()) {
        throw new IllegalArgumentException(key + ": must be a list of numbers, got " + v);
      }
      out.add(v.asDouble());
    });
    return out;
  }
}
