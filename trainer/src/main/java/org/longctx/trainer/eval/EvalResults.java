package org.longctx.trainer.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.longctx.positional.SelfExtend;
import org.longctx.trainer.EvalConfig;

/**
 * The scored outcome of an evaluation: one row per passkey prompt and per scored document
 * prefix for every method, with the aggregates the report shows, and its {@code results.json}
 * form ({@link #toJson()}, read back by {@link #fromJson}).
 *
 * @param methods what was compared, in the config's order
 * @param passkeyLengths the passkey grid's lengths
 * @param depths the passkey grid's depths
 * @param trials prompts per cell
 * @param keyDigits digits per key
 * @param passkey one row per method × prompt
 * @param perplexityLengths lengths of the perplexity curve
 * @param perplexityData where the documents came from
 * @param perplexity one row per method × length × document
 * @param run facts about the run (seed, master, timings...), written as given
 */
public record EvalResults(
    List<MethodInfo> methods,
    List<Integer> passkeyLengths,
    List<Double> depths,
    int trials,
    int keyDigits,
    List<PasskeyResult> passkey,
    List<Integer> perplexityLengths,
    String perplexityData,
    List<PerplexityResult> perplexity,
    Map<String, Object> run) {

  public static final String FORMAT = "longctx-eval";
  public static final int VERSION = 1;
  private static final ObjectMapper JSON = new ObjectMapper();

  public EvalResults {
    methods = List.copyOf(methods);
    passkeyLengths = List.copyOf(passkeyLengths);
    depths = List.copyOf(depths);
    passkey = List.copyOf(passkey);
    perplexityLengths = List.copyOf(perplexityLengths);
    perplexity = List.copyOf(perplexity);
    run = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(run));
  }

  /**
   * A compared method as the report describes it.
   *
   * @param name the method's name
   * @param model where its model was read from
   * @param rope the rope override's keys (empty: the model's own rope)
   * @param selfExtend SelfExtend settings, or null
   * @param window the model's original context window (the rope's pre-extension length), 0 if unknown
   */
  public record MethodInfo(String name, String model, Map<String, Object> rope, SelfExtend selfExtend, int window) {
    public MethodInfo {
      rope = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(rope));
    }
  }

  /**
   * One answered passkey prompt.
   *
   * @param tokens the prompt's actual length in tokens
   * @param answer the decoded continuation the model generated
   * @param correct whether it states exactly the key ({@link PasskeyScore})
   */
  public record PasskeyResult(String method, int length, int tokens, double depth, int trial, String key, String answer,
      boolean correct, double seconds) {}

  /**
   * One scored document prefix.
   *
   * @param predicted tokens predicted (length − 1)
   * @param nllSum their summed negative log-likelihood (natural log)
   */
  public record PerplexityResult(String method, int length, int document, int predicted, double nllSum, double seconds) {}

  /**
   * Scores raw outputs: decodes each generated continuation with {@code decoder} and checks it
   * against the prompt's key.
   */
  public static EvalResults assemble(EvalConfig config, EvalPlan plan, List<EvalOutput> outputs, List<MethodInfo> methods,
      Function<int[], String> decoder, Map<String, Object> run) {
    List<PasskeyResult> passkey = new ArrayList<>();
    List<PerplexityResult> perplexity = new ArrayList<>();
    for (EvalOutput o : outputs) {
      EvalItem item = o.item();
      if (item.kind() == EvalItem.Kind.PASSKEY) {
        PasskeyPrompt p = plan.inputs().prompts().get(item.index());
        String answer = decoder.apply(o.generated());
        passkey.add(new PasskeyResult(o.method(), p.length(), p.ids().length, p.depth(), p.trial(), p.key(), answer,
            PasskeyScore.isCorrect(answer, p.key()), o.seconds()));
      } else {
        perplexity.add(new PerplexityResult(o.method(), item.length(), item.index(), o.predicted(), o.nllSum(), o.seconds()));
      }
    }
    List<String> order = methods.stream().map(MethodInfo::name).toList();
    Comparator<String> byMethod = Comparator.comparingInt(order::indexOf);
    passkey.sort(Comparator.comparing(PasskeyResult::method, byMethod).thenComparingInt(PasskeyResult::length)
        .thenComparingDouble(PasskeyResult::depth).thenComparingInt(PasskeyResult::trial));
    perplexity.sort(Comparator.comparing(PerplexityResult::method, byMethod).thenComparingInt(PerplexityResult::length)
        .thenComparingInt(PerplexityResult::document));
    return new EvalResults(methods, config.lengths(), config.lengths().isEmpty() ? List.of() : config.depths(), config.trials(),
        config.keyDigits(), passkey, plan.inputs().documents().isEmpty() ? List.of() : config.resolvedPerplexityLengths(),
        config.perplexityData(), perplexity, run);
  }

  /**
   * Parts of one evaluation scored apart, as one: the same settings but their methods and
   * passkey lengths (the demo evaluates a method at a length the others skip). Methods and rows
   * keep the parts' order; the passkey lengths are all the parts' lengths in increasing order, a
   * method without prompts at one of them has no figure there.
   *
   * @param run facts about the whole run, replacing the parts'
   */
  public static EvalResults combine(List<EvalResults> parts, Map<String, Object> run) {
    if (parts.isEmpty()) {
      throw new IllegalArgumentException("parts: nothing to combine");
    }
    List<MethodInfo> methods = new ArrayList<>();
    java.util.SortedSet<Integer> lengths = new java.util.TreeSet<>();
    List<PasskeyResult> passkey = new ArrayList<>();
    List<PerplexityResult> perplexity = new ArrayList<>();
    EvalResults settings = parts.stream().filter(p -> !p.passkeyLengths().isEmpty()).findFirst().orElse(parts.get(0));
    EvalResults documents = parts.stream().filter(p -> !p.perplexityLengths().isEmpty()).findFirst().orElse(parts.get(0));
    for (EvalResults part : parts) {
      methods.addAll(part.methods());
      lengths.addAll(part.passkeyLengths());
      passkey.addAll(part.passkey());
      perplexity.addAll(part.perplexity());
    }
    return new EvalResults(methods, List.copyOf(lengths), settings.depths(), settings.trials(), settings.keyDigits(), passkey,
        documents.perplexityLengths(), documents.perplexityData(), perplexity, run);
  }

  public List<String> methodNames() {
    return methods.stream().map(MethodInfo::name).toList();
  }

  /** The passkey lengths at which {@code method} answered prompts, in grid order (a method may skip some). */
  public List<Integer> passkeyLengths(String method) {
    return passkeyLengths.stream().filter(l -> passkey.stream().anyMatch(r -> r.method().equals(method) && r.length() == l)).toList();
  }

  /** Share of correct answers of {@code method} at (length, depth); NaN when there were none. */
  public double passkeyAccuracy(String method, int length, double depth) {
    return mean(passkey.stream().filter(r -> r.method().equals(method) && r.length() == length && r.depth() == depth).toList());
  }

  /** Share of correct answers of {@code method} at {@code length}, over all depths; NaN when none. */
  public double passkeyAccuracy(String method, int length) {
    return mean(passkey.stream().filter(r -> r.method().equals(method) && r.length() == length).toList());
  }

  private static double mean(List<PasskeyResult> rows) {
    return rows.isEmpty() ? Double.NaN : rows.stream().filter(PasskeyResult::correct).count() / (double) rows.size();
  }

  /**
   * Perplexity of {@code method} at {@code length}: exp of the mean negative log-likelihood per
   * predicted token over all documents (token-weighted, as corpus perplexity is defined); NaN
   * when nothing was scored.
   */
  public double perplexity(String method, int length) {
    double nll = 0;
    long tokens = 0;
    for (PerplexityResult r : perplexity) {
      if (r.method().equals(method) && r.length() == length) {
        nll += r.nllSum();
        tokens += r.predicted();
      }
    }
    return tokens == 0 ? Double.NaN : Math.exp(nll / tokens);
  }

  // ---- results.json ----

  /** The {@code results.json} tree: settings, aggregates, and every row. */
  public ObjectNode toJson() {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("version", VERSION);
    root.set("run", JSON.valueToTree(run));
    ArrayNode ms = root.putArray("methods");
    for (MethodInfo m : methods) {
      ObjectNode n = ms.addObject();
      n.put("name", m.name());
      n.put("model", m.model());
      n.set("rope", m.rope().isEmpty() ? null : JSON.valueToTree(m.rope()));
      if (m.selfExtend() == null) {
        n.putNull("self_extend");
      } else {
        ObjectNode se = n.putObject("self_extend");
        se.put("group_size", m.selfExtend().groupSize());
        se.put("window_size", m.selfExtend().windowSize());
        se.put("scale_base", m.selfExtend().scaleBase());
      }
      n.put("window", m.window());
    }
    ObjectNode pk = root.putObject("passkey");
    pk.set("lengths", JSON.valueToTree(passkeyLengths));
    pk.set("depths", JSON.valueToTree(depths));
    pk.put("trials", trials);
    pk.put("key_digits", keyDigits);
    ObjectNode accuracy = pk.putObject("accuracy");
    for (String method : methodNames()) {
      ObjectNode a = accuracy.putObject(method);
      ObjectNode byLength = a.putObject("by_length");
      ObjectNode byCell = a.putObject("by_length_depth");
      for (int length : passkeyLengths) {
        putNumber(byLength, String.valueOf(length), passkeyAccuracy(method, length));
        ObjectNode row = byCell.putObject(String.valueOf(length));
        for (double depth : depths) {
          putNumber(row, String.valueOf(depth), passkeyAccuracy(method, length, depth));
        }
      }
    }
    ArrayNode rows = pk.putArray("results");
    for (PasskeyResult r : passkey) {
      ObjectNode n = rows.addObject();
      n.put("method", r.method());
      n.put("length", r.length());
      n.put("tokens", r.tokens());
      n.put("depth", r.depth());
      n.put("trial", r.trial());
      n.put("key", r.key());
      n.put("answer", r.answer());
      n.put("correct", r.correct());
      n.put("seconds", round(r.seconds()));
    }
    ObjectNode pp = root.putObject("perplexity");
    pp.set("lengths", JSON.valueToTree(perplexityLengths));
    pp.put("data", perplexityData);
    ObjectNode byMethod = pp.putObject("by_method");
    for (String method : methodNames()) {
      ObjectNode m = byMethod.putObject(method);
      for (int length : perplexityLengths) {
        putNumber(m, String.valueOf(length), perplexity(method, length));
      }
    }
    ArrayNode prow = pp.putArray("results");
    for (PerplexityResult r : perplexity) {
      ObjectNode n = prow.addObject();
      n.put("method", r.method());
      n.put("length", r.length());
      n.put("document", r.document());
      n.put("predicted", r.predicted());
      n.put("nll_sum", r.nllSum());
      n.put("seconds", round(r.seconds()));
    }
    return root;
  }

  /** Reads a {@code results.json} tree back (aggregates are recomputed from the rows). */
  @SuppressWarnings("unchecked")
  public static EvalResults fromJson(JsonNode root) {
    if (!FORMAT.equals(root.path("format").asText()) || root.path("version").asInt() != VERSION) {
      throw new IllegalArgumentException("results.json: format must be " + FORMAT + " version " + VERSION + ", got "
          + root.path("format").asText() + " version " + root.path("version").asText());
    }
    List<MethodInfo> methods = new ArrayList<>();
    for (JsonNode m : root.path("methods")) {
      Map<String, Object> rope = m.path("rope").isObject() ? JSON.convertValue(m.get("rope"), Map.class) : Map.of();
      JsonNode se = m.path("self_extend");
      methods.add(new MethodInfo(m.path("name").asText(), m.path("model").asText(), rope,
          se.isObject() ? new SelfExtend(se.path("group_size").asInt(), se.path("window_size").asInt(),
              se.path("scale_base").asDouble()) : null,
          m.path("window").asInt()));
    }
    JsonNode pk = root.path("passkey");
    List<PasskeyResult> passkey = new ArrayList<>();
    for (JsonNode r : pk.path("results")) {
      passkey.add(new PasskeyResult(r.path("method").asText(), r.path("length").asInt(), r.path("tokens").asInt(),
          r.path("depth").asDouble(), r.path("trial").asInt(), r.path("key").asText(), r.path("answer").asText(),
          r.path("correct").asBoolean(), r.path("seconds").asDouble()));
    }
    JsonNode pp = root.path("perplexity");
    List<PerplexityResult> perplexity = new ArrayList<>();
    for (JsonNode r : pp.path("results")) {
      perplexity.add(new PerplexityResult(r.path("method").asText(), r.path("length").asInt(), r.path("document").asInt(),
          r.path("predicted").asInt(), r.path("nll_sum").asDouble(), r.path("seconds").asDouble()));
    }
    Map<String, Object> run = root.path("run").isObject() ? JSON.convertValue(root.get("run"), Map.class) : Map.of();
    return new EvalResults(methods, ints(pk.path("lengths")), doubles(pk.path("depths")), pk.path("trials").asInt(),
        pk.path("key_digits").asInt(), passkey, ints(pp.path("lengths")), pp.path("data").asText(), perplexity, run);
  }

  private static List<Integer> ints(JsonNode array) {
    List<Integer> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asInt()));
    return out;
  }

  private static List<Double> doubles(JsonNode array) {
    List<Double> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asDouble()));
    return out;
  }

  /** JSON has no NaN: a missing aggregate is written as null. */
  private static void putNumber(ObjectNode node, String key, double value) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      node.putNull(key);
    } else {
      node.put(key, value);
    }
  }

  private static double round(double seconds) {
    return Math.round(seconds * 1000) / 1000.0;
  }
}
