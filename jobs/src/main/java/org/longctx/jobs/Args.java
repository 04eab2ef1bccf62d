package org.longctx.jobs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A parsed command line: {@code --name value}, {@code --name=value}, bare flags and
 * positional words. Which names are flags (take no value) is declared by the caller, so
 * {@code --resume --config x.yaml} parses without guessing.
 */
public final class Args {
  private final Map<String, List<String>> options;
  private final List<String> positionals;

  private Args(Map<String, List<String>> options, List<String> positionals) {
    this.options = options;
    this.positionals = positionals;
  }

  /**
   * Parses {@code argv}: names in {@code flags} take no value, names in {@code valued} take the
   * next word (or what follows {@code =}); any other {@code --name} is an error.
   */
  public static Args parse(String[] argv, Set<String> flags, Set<String> valued) {
    Map<String, List<String>> options = new LinkedHashMap<>();
    List<String> positionals = new ArrayList<>();
    for (int i = 0; i < argv.length; i++) {
      String word = argv[i];
      if (!word.startsWith("--") || word.equals("--")) {
        positionals.add(word);
        continue;
      }
      String name = word;
      String value = null;
      int eq = word.indexOf('=');
      if (eq > 0) {
        name = word.substring(0, eq);
        value = word.substring(eq + 1);
      }
      if (!flags.contains(name) && !valued.contains(name)) {
        Set<String> allowed = new TreeSet<>(flags);
        allowed.addAll(valued);
        throw new UsageException("unknown option " + name + "; allowed: " + String.join(" ", allowed));
      }
      if (flags.contains(name)) {
        if (value != null) {
          throw new UsageException(name + " takes no value, got '" + value + "'");
        }
        value = "true";
      } else if (value == null) {
        if (i + 1 >= argv.length || argv[i + 1].startsWith("--")) {
          throw new UsageException(name + " needs a value");
        }
        value = argv[++i];
      }
      options.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
    }
    return new Args(options, positionals);
  }

  /** Fails on positional words, for subcommands that take only options. */
  public Args noPositionals() {
    if (!positionals.isEmpty()) {
      throw new UsageException("unexpected argument '" + positionals.get(0) + "'");
    }
    return this;
  }

  public boolean flag(String name) {
    return options.containsKey(name);
  }

  /** The single value of {@code name}; repeating it is an error. */
  public Optional<String> value(String name) {
    List<String> values = options.get(name);
    if (values == null) {
      return Optional.empty();
    }
    if (values.size() > 1) {
      throw new UsageException(name + " given " + values.size() + " times; give it once");
    }
    return Optional.of(values.get(0));
  }

  public String required(String name) {
    return value(name).orElseThrow(() -> new UsageException("missing " + name));
  }

  /** Every value of a repeatable option such as {@code --set}, in order. */
  public List<String> values(String name) {
    return List.copyOf(options.getOrDefault(name, List.of()));
  }

  public int intValue(String name, int defaultValue) {
    Optional<String> v = value(name);
    if (v.isEmpty()) {
      return defaultValue;
    }
    try {
      return Integer.parseInt(v.get());
    } catch (NumberFormatException e) {
      throw new UsageException(name + " must be an integer, got '" + v.get() + "'");
    }
  }

  public List<String> positionals() {
    return List.copyOf(positionals);
  }
}
