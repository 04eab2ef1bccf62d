package org.longctx.jobs.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.EnumFeature;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.longctx.positional.RopeConfig;
import org.longctx.search.FactorFile;

/**
 * Reads experiment YAML into {@link ExperimentConfig}: the file, then {@code --set key=value}
 * overrides, checked against the records' own components (an unknown key is an error that
 * suggests the closest valid one), laid over the defaults, and bound with strict types. The
 * records validate their own ranges; their messages come back prefixed with the section.
 */
public final class ConfigLoader {

  private static final PropertyNamingStrategies.NamingBase SNAKE =
      (PropertyNamingStrategies.NamingBase) PropertyNamingStrategies.SNAKE_CASE;

  /** Binds trees to records: snake_case keys, no silent float→int or null→0 coercions. */
  private static final ObjectMapper MAPPER = JsonMapper.builder()
      .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
      .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
      .configure(EnumFeature.WRITE_ENUMS_TO_LOWERCASE, true)
      .build();

  private static final ObjectMapper YAML = new ObjectMapper(
      YAMLFactory.builder()
          .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
          .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
          .build());

  private ConfigLoader() {}

  /**
   * Largest config accepted, in bytes. Experiment files are a few kB; the bound keeps a wrong
   * file (a corpus shard, a 20 MB value) from costing a minute and a GB of parsing before the
   * error it would end in anyway.
   */
  public static final long MAX_CONFIG_BYTES = 1 << 20;

  /** Loads a YAML file and applies {@code overrides} ({@code section.key=value}). */
  public static ExperimentConfig load(Path file, List<String> overrides) {
    String text;
    try {
      long size = Files.size(file);
      if (size > MAX_CONFIG_BYTES) {
        throw new ConfigException(file + ": " + size + " bytes is too large for a config file (at most " + MAX_CONFIG_BYTES
            + " bytes); is it the right file?");
      }
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException("config file not found: " + file);
    } catch (IOException e) {
      throw new ConfigException("cannot read config " + file + ": " + e.getMessage(), e);
    }
    if (readYaml(text, file.toString()).isEmpty()) {
      // an empty file is more likely a mistake (wrong file, failed write) than a request for defaults
      throw new ConfigException(file + ": the config file is empty (no keys); give at least one, e.g. 'name: my-run',"
          + " or leave out --config to use the defaults");
    }
    return parse(text, file.toString(), overrides);
  }

  /** The defaults with {@code overrides} applied (a job run without {@code --config}). */
  public static ExperimentConfig fromOverrides(List<String> overrides) {
    return parse("", "(defaults)", overrides);
  }

  /** Parses YAML text (empty text: the defaults); {@code source} names it in error messages. */
  public static ExperimentConfig parse(String yamlText, String source, List<String> overrides) {
    if (yamlText.length() > MAX_CONFIG_BYTES) {
      throw new ConfigException(source + ": " + yamlText.length() + " characters is too large for a config (at most "
          + MAX_CONFIG_BYTES + ")");
    }
    ObjectNode user = readYaml(yamlText, source);
    liftSparkProperties(user);
    for (String override : overrides) {
      applyOverride(user, override);
    }
    expandFactorFiles(user, "");
    checkKeys(user, ExperimentConfig.class, "");
    ObjectNode merged = MAPPER.valueToTree(ExperimentConfig.defaults());
    merge(merged, user);
    try {
      return MAPPER.treeToValue(merged, ExperimentConfig.class);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw translate(e, source, merged);
    }
  }

  /** The fully resolved config as YAML, loadable again; unset optional keys are left out. */
  public static String toYaml(ExperimentConfig config) {
    ObjectNode tree = MAPPER.valueToTree(config);
    ObjectNode spark = (ObjectNode) tree.get("spark");
    JsonNode conf = spark.remove("conf");
    conf.fields().forEachRemaining(e -> spark.set(e.getKey(), e.getValue()));
    removeNulls(tree);
    try {
      return YAML.writeValueAsString(tree);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ObjectNode readYaml(String text, String source) {
    JsonNode node;
    try {
      checkAliasesAndDuplicates(text, source, "");
      node = YAML.readTree(text);
    } catch (JsonProcessingException e) {
      throw new ConfigException(source + ": not valid YAML: " + e.getOriginalMessage()
          + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
    }
    // a document marker alone ("---") reads as an empty string
    if (node == null || node.isMissingNode() || node.isNull() || node.isTextual() && node.asText().isEmpty()) {
      return JsonNodeFactory.instance.objectNode();
    }
    if (!node.isObject()) {
      throw new ConfigException(source + ": must be a mapping of sections (spark, data, model, rope, train, pose, distributed, eval, search, longrope, output), got " + node.getNodeType());
    }
    return (ObjectNode) node;
  }

  /**
   * Refuses what Jackson's YAML reading would silently get wrong: an alias ({@code *m}) reads
   * as the anchor's name (the string {@code m}), not the anchored value, and a repeated key
   * keeps only its last value. Both are refused with the key's full name and line.
   *
   * @param prefix the key the text is the value of ({@code --set train.steps=...}), or empty
   */
  private static void checkAliasesAndDuplicates(String text, String source, String prefix) throws JsonProcessingException {
    try (YAMLParser p = (YAMLParser) YAML.getFactory().createParser(text)) {
      Deque<Map<String, Integer>> keysByObject = new ArrayDeque<>();
      for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
        if (t == JsonToken.START_OBJECT) {
          keysByObject.push(new HashMap<>());
        } else if (t == JsonToken.END_OBJECT) {
          keysByObject.pop();
        } else if (t == JsonToken.FIELD_NAME) {
          int line = p.currentLocation().getLineNr();
          Integer earlier = keysByObject.peek().putIfAbsent(p.currentName(), line);
          if (earlier != null) {
            throw new ConfigException(source + ": " + keyPath(prefix, p.getParsingContext()) + ": the key appears twice"
                + " (lines " + earlier + " and " + line + "); keep one");
          }
        }
        if (p.isCurrentAlias()) {
          String key = keyPath(prefix, p.getParsingContext());
          throw new ConfigException(source + ": " + (key.isEmpty() ? "" : key + ": ") + "YAML aliases (*" + p.getText()
              + ") are not supported; write the value itself (line " + p.currentLocation().getLineNr() + ")");
        }
      }
    } catch (JsonProcessingException e) {
      throw e;
    } catch (IOException e) {
      throw new IllegalStateException("reading a string cannot fail", e);
    }
  }

  /** {@code train.synthetic.tasks}, {@code eval.lengths[1]}: where the parser is, as a config key. */
  private static String keyPath(String prefix, JsonStreamContext context) {
    Deque<String> parts = new ArrayDeque<>();
    for (JsonStreamContext c = context; c != null && !c.inRoot(); c = c.getParent()) {
      if (c.inObject() && c.getCurrentName() != null) {
        parts.push(c.getCurrentName());
      } else if (c.inArray()) {
        parts.push("[" + Math.max(0, c.getCurrentIndex()) + "]");
      }
    }
    StringBuilder sb = new StringBuilder(prefix);
    for (String part : parts) {
      sb.append(part.startsWith("[") || sb.length() == 0 ? "" : ".").append(part);
    }
    return sb.toString();
  }

  /** In YAML, {@code spark.*} keys sit next to {@code master}; the record keeps them in {@code conf}. */
  private static void liftSparkProperties(ObjectNode user) {
    JsonNode spark = user.get("spark");
    if (spark == null || !spark.isObject()) {
      return;
    }
    ObjectNode conf = JsonNodeFactory.instance.objectNode();
    List<String> keys = new ArrayList<>();
    spark.fieldNames().forEachRemaining(keys::add);
    for (String key : keys) {
      if (key.startsWith("spark.")) {
        JsonNode value = ((ObjectNode) spark).remove(key);
        conf.put(key, value.isValueNode() ? value.asText() : value.toString());
      }
    }
    if (!conf.isEmpty()) {
      ((ObjectNode) spark).set("conf", conf);
    }
  }

  /**
   * Applies {@code a.b.c=value}; the value is read as YAML, so numbers, booleans and lists
   * ({@code [1, 2]}) keep their types. {@code spark.<property>=v} sets a Spark property.
   */
  static void applyOverride(ObjectNode root, String override) {
    int eq = override.indexOf('=');
    if (eq <= 0) {
      throw new ConfigException("--set needs key=value (for example train.lr=3e-5), got '" + override + "'");
    }
    String path = override.substring(0, eq).trim();
    String raw = override.substring(eq + 1);
    JsonNode value;
    try {
      if (!raw.isEmpty()) {
        checkAliasesAndDuplicates(raw, "--set", path);
      }
      value = raw.isEmpty() ? NullNode.getInstance() : YAML.readTree(raw);
    } catch (JsonProcessingException e) {
      throw new ConfigException("--set " + path + ": cannot read value '" + raw + "': " + e.getOriginalMessage());
    }
    if (value == null || value.isMissingNode()) {
      value = NullNode.getInstance();
    }
    String[] parts = path.split("\\.");
    if (parts.length > 2 && parts[0].equals("spark")) {
      // --set spark.executor.memory=4g names the Spark property itself
      ObjectNode spark = childObject(root, "spark", "spark");
      childObject(spark, "conf", "spark.conf").put(path, value.isValueNode() ? value.asText() : value.toString());
      return;
    }
    ObjectNode node = root;
    for (int i = 0; i < parts.length - 1; i++) {
      node = childObject(node, parts[i], String.join(".", List.of(parts).subList(0, i + 1)));
    }
    node.set(parts[parts.length - 1], value);
  }

  private static ObjectNode childObject(ObjectNode parent, String key, String path) {
    JsonNode child = parent.get(key);
    if (child == null || child.isNull()) {
      return parent.putObject(key);
    }
    if (!child.isObject()) {
      throw new ConfigException(path + ": is a value, not a section");
    }
    return (ObjectNode) child;
  }

  /**
   * A {@code rope:} section (top level or an eval method's) may be {@code {factors: FILE}}, or
   * {@code {factors: FILE, length: N}} to rescale the factors to a shorter target
   * (docs/methods.md §3): it stands for the longrope rope the factor file written by
   * {@code longctx search} describes, and is replaced by that rope's keys here, so everything
   * downstream sees a plain longrope section.
   */
  static void expandFactorFiles(JsonNode node, String path) {
    if (node.isObject()) {
      ObjectNode object = (ObjectNode) node;
      List<String> keys = new ArrayList<>();
      object.fieldNames().forEachRemaining(keys::add);
      for (String key : keys) {
        JsonNode value = object.get(key);
        String here = path.isEmpty() ? key : path + "." + key;
        if (key.equals("rope") && value.isObject() && value.has("factors")) {
          object.set(key, factorRope((ObjectNode) value, here));
        } else {
          expandFactorFiles(value, here);
        }
      }
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        expandFactorFiles(node.get(i), path + "[" + i + "]");
      }
    }
  }

  private static JsonNode factorRope(ObjectNode rope, String path) {
    List<String> keys = new ArrayList<>();
    rope.fieldNames().forEachRemaining(keys::add);
    for (String key : keys) {
      if (!key.equals("factors") && !key.equals("length")) {
        throw new ConfigException(path + "." + key + ": not used with factors (a factor file sets the whole rope); keys with factors: factors, length");
      }
    }
    JsonNode file = rope.get("factors");
    JsonNode length = rope.path("length");
    if (!file.isTextual() || file.asText().isBlank()) {
      throw new ConfigException(path + ".factors: expected the path of a factors.json written by longctx search, got " + file);
    }
    if (!length.isMissingNode() && !length.isInt()) {
      throw new ConfigException(path + ".length: expected an integer, got " + length);
    }
    try {
      RopeConfig resolved = FactorFile.read(Path.of(file.asText())).toRopeConfig(length.asInt(0));
      return MAPPER.valueToTree(resolved.keys());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(path + "." + e.getMessage());
    }
  }

  /** Keys that moved to another section, old → new; an old config gets an error naming the new place. */
  private static final Map<String, String> MOVED = Map.of(
      "train.target_len", "pose.target_len",
      "train.pose_chunks", "pose.chunks");

  /** Every key must be a component of the record it configures (maps take any key). */
  private static void checkKeys(JsonNode node, Class<?> recordType, String prefix) {
    if (!node.isObject()) {
      return;
    }
    RecordComponent[] components = recordType.getRecordComponents();
    List<String> known = new ArrayList<>();
    for (RecordComponent c : components) {
      known.add(SNAKE.translate(c.getName()));
    }
    Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      String key = field.getKey();
      int index = known.indexOf(key);
      String moved = MOVED.get(prefix + key);
      if (index < 0 && moved != null) {
        throw new ConfigException("'" + prefix + key + "' moved: it is '" + moved + "' now (recipe keys live in the recipe's own section)");
      }
      if (index < 0) {
        String suggestion = closest(key, known);
        throw new ConfigException("unknown key '" + prefix + key + "'"
            + (suggestion == null ? "" : "; did you mean '" + prefix + suggestion + "'?")
            + " (valid keys" + (prefix.isEmpty() ? "" : " in " + prefix.substring(0, prefix.length() - 1))
            + ": " + String.join(", ", known) + ")");
      }
      Class<?> type = components[index].getType();
      if (type.isRecord()) {
        checkKeys(field.getValue(), type, prefix + key + ".");
      }
      // a list of records (longrope.stages): each element's keys, named with its index
      if (components[index].getGenericType() instanceof ParameterizedType p && p.getActualTypeArguments()[0] instanceof Class<?> element
          && element.isRecord() && field.getValue().isArray()) {
        for (int i = 0; i < field.getValue().size(); i++) {
          checkKeys(field.getValue().get(i), element, prefix + key + "[" + i + "].");
        }
      }
      checkIntegerRange(field.getValue(), components[index].getGenericType(), prefix + key);
    }
  }

  /**
   * An integer too large for its key's type: Jackson reports it without the key ("Numeric value
   * out of range of int"), so it is caught here where the key is known.
   */
  private static void checkIntegerRange(JsonNode value, Type type, String key) {
    if (type instanceof ParameterizedType p && List.class.isAssignableFrom((Class<?>) p.getRawType()) && value.isArray()) {
      for (int i = 0; i < value.size(); i++) {
        checkIntegerRange(value.get(i), p.getActualTypeArguments()[0], key + "[" + i + "]");
      }
      return;
    }
    if (!value.isIntegralNumber()) {
      return;
    }
    boolean isInt = type == int.class || type == Integer.class;
    boolean isLong = type == long.class || type == Long.class;
    if (isInt && !value.canConvertToInt() || isLong && !value.canConvertToLong()) {
      throw new ConfigException(key + ": " + value.asText() + " is out of range (an integer from "
          + (isInt ? Integer.MIN_VALUE + " to " + Integer.MAX_VALUE : Long.MIN_VALUE + " to " + Long.MAX_VALUE) + ")");
    }
  }

  /** The known key nearest to {@code key} by edit distance, if near enough to be a typo. */
  static String closest(String key, List<String> known) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : known) {
      int d = editDistance(key, candidate);
      if (d < bestDistance) {
        best = candidate;
        bestDistance = d;
      }
    }
    return bestDistance <= Math.max(2, key.length() / 3) ? best : null;
  }

  static int editDistance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitute, Math.min(previous[j] + 1, current[j - 1] + 1));
      }
      int[] t = previous;
      previous = current;
      current = t;
    }
    return previous[b.length()];
  }

  /** Objects merge key by key; anything else (scalars, lists, null) replaces. */
  private static void merge(ObjectNode base, JsonNode overlay) {
    overlay.fields().forEachRemaining(e -> {
      JsonNode existing = base.get(e.getKey());
      if (existing != null && existing.isObject() && e.getValue().isObject()) {
        merge((ObjectNode) existing, e.getValue());
      } else {
        base.set(e.getKey(), e.getValue());
      }
    });
  }

  private static void removeNulls(JsonNode node) {
    if (node.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> it = node.fields();
      while (it.hasNext()) {
        JsonNode value = it.next().getValue();
        if (value.isNull()) {
          it.remove();
        } else {
          removeNulls(value);
        }
      }
    }
  }

  private static ConfigException translate(Exception e, String source, JsonNode merged) {
    if (e instanceof ValueInstantiationException vie) {
      // a record's own check: "lr: must be in (0, 1), got 2.0" → "train.lr: ..."
      Throwable cause = vie.getCause() == null ? vie : vie.getCause();
      String section = path(vie);
      String message = cause.getMessage();
      // a nested record names its own key ("synthetic.tasks.passkey: ..."); do not repeat it
      String last = section.substring(section.lastIndexOf('.') + 1);
      if (!last.isEmpty() && message != null && (message.startsWith(last + ".") || message.startsWith(last + ":"))) {
        section = section.substring(0, Math.max(0, section.lastIndexOf('.')));
      }
      return new ConfigException(source + ": " + (section.isEmpty() ? "" : section + ".") + message, e);
    }
    if (e instanceof InvalidFormatException ife) {
      return new ConfigException(source + ": " + path(ife) + ": expected " + describe(ife.getTargetType())
          + ", got '" + ife.getValue() + "'", e);
    }
    if (e instanceof MismatchedInputException mie) {
      JsonNode given = merged.at("/" + path(mie).replace('.', '/'));
      return new ConfigException(source + ": " + path(mie) + ": expected " + describe(mie.getTargetType())
          + ", got " + (given.isMissingNode() ? "something else" : given.isObject() ? "a section" : "'" + given.asText() + "'"), e);
    }
    if (e instanceof JsonMappingException jme && jme.getCause() instanceof IllegalArgumentException iae) {
      return new ConfigException(source + ": " + path(jme) + ": " + iae.getMessage(), e);
    }
    String message = e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
    return new ConfigException(source + ": " + message, e);
  }

  private static String path(JsonMappingException e) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        sb.append(sb.length() == 0 ? "" : ".").append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        sb.append('[').append(ref.getIndex()).append(']');
      }
    }
    return sb.toString();
  }

  private static String describe(Type type) {
    if (type instanceof ParameterizedType p) {
      type = p.getRawType();
    }
    if (!(type instanceof Class<?> c)) {
      return String.valueOf(type);
    }
    if (c == int.class || c == Integer.class || c == long.class || c == Long.class) {
      return "an integer";
    }
    if (c == double.class || c == Double.class || c == float.class || c == Float.class) {
      return "a number";
    }
    if (c == boolean.class || c == Boolean.class) {
      return "true or false";
    }
    if (c == String.class) {
      return "a string";
    }
    if (List.class.isAssignableFrom(c)) {
      return "a list";
    }
    if (Map.class.isAssignableFrom(c) || c.isRecord()) {
      return "a section (key: value pairs)";
    }
    if (c.isEnum()) {
      List<String> names = new ArrayList<>();
      for (Object constant : c.getEnumConstants()) {
        names.add(constant.toString().toLowerCase(java.util.Locale.ROOT));
      }
      return "one of " + String.join(", ", names);
    }
    return c.getSimpleName();
  }
}
