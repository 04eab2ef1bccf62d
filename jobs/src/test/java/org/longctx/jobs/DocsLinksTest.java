package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * README.md and every docs/*.md: each relative link must name a file that exists, and each
 * {@code #anchor} a heading of the target file, by GitHub's anchor rules. Also checks that every
 * subcommand's {@code --help} ends with the docs file that describes it. The checker itself is
 * tested on a small in-memory example, so a checker that finds nothing cannot pass silently.
 */
class DocsLinksTest {

  /** The repository root: tests run in the module folder ({@code jobs/}). */
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  void readmeAndDocsLinksAndAnchorsResolve() throws IOException {
    Map<Path, String> files = new TreeMap<>();
    files.put(Path.of("README.md"), read(ROOT.resolve("README.md")));
    try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
      for (Path p : docs.filter(p -> p.toString().endsWith(".md")).sorted().toList()) {
        files.put(ROOT.relativize(p), read(p));
      }
    }
    assertTrue(files.size() > 5, "expected README.md and the docs/ files, found " + files.keySet());
    List<String> problems = LinkChecker.problems(files,
        p -> Files.exists(ROOT.resolve(p)),
        p -> Files.isRegularFile(ROOT.resolve(p)) ? Optional.of(read(ROOT.resolve(p))) : Optional.empty());
    assertEquals(List.of(), problems, "broken links:\n" + String.join("\n", problems));
  }

  @Test
  void checkerReportsBrokenFilesAndAnchors() {
    Map<Path, String> files = new HashMap<>();
    files.put(Path.of("README.md"), """
        # Title One
        ## The `data:` keys
        [ok](#title-one) [ok too](#the-data-keys) [other](docs/b.md#b-head) [up](docs/b.md)
        [bad anchor](#nope) [missing file](docs/c.md) [bad anchor there](docs/b.md#zzz)
        [web](https://example.com/#whatever) `[code span](#ignored)`
        ```
        [fenced](#ignored-too)
        ```
        """);
    files.put(Path.of("docs/b.md"), """
        # B head
        [back](../README.md#title-one) [back, wrong](../README.md#title-two)
        """);
    List<String> problems = LinkChecker.problems(files, files::containsKey, p -> Optional.ofNullable(files.get(p)));
    assertEquals(4, problems.size(), String.join("\n", problems));
    assertTrue(problems.stream().anyMatch(s -> s.startsWith("README.md") && s.contains("(#nope)")), problems.toString());
    assertTrue(problems.stream().anyMatch(s -> s.contains("(docs/c.md)") && s.contains("no such file")), problems.toString());
    assertTrue(problems.stream().anyMatch(s -> s.contains("(docs/b.md#zzz)")), problems.toString());
    assertTrue(problems.stream().anyMatch(s -> s.startsWith("docs/b.md") && s.contains("#title-two")), problems.toString());
  }

  @Test
  void anchorsFollowGithubRules() {
    assertEquals("the-data-keys", LinkChecker.slug("The `data:` keys"));
    assertEquals("train-keys", LinkChecker.slug("`train:` keys"));
    assertEquals("the-tiny-base-model-modelstiny-base", LinkChecker.slug("The tiny base model (`models/tiny-base`)"));
    assertEquals("5-selfextend-grouped-attention-without-training",
        LinkChecker.slug("5. SelfExtend: grouped attention without training"));
    assertEquals("snake_case-and-dash-kept", LinkChecker.slug("snake_case and-dash kept"));
    assertEquals("a--b", LinkChecker.slug("A × B"));
    assertEquals("see-there", LinkChecker.slug("See [there](x.md)"));
    assertEquals(Set.of("x", "x-1", "x-2"), LinkChecker.anchors("# x\n## x\n### X\n"));
  }

  @Test
  void everySubcommandHelpEndsWithItsDocsFile() {
    for (Cli.Entry entry : Cli.COMMANDS) {
      Subcommand c = entry.load();
      String docs = Subcommand.DOCS.get(c.name());
      assertTrue(docs != null, c.name() + " has no entry in Subcommand.DOCS");
      assertTrue(Files.isRegularFile(ROOT.resolve(docs)), c.name() + ": " + docs + " does not exist");
      List<String> lines = c.help().lines().toList();
      assertEquals("See " + docs + ".", lines.get(lines.size() - 1), c.name());
    }
  }

  private static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Finds relative links and anchors in Markdown that do not resolve. */
  static final class LinkChecker {
    private static final Pattern FENCE = Pattern.compile("^\\s{0,3}(```|~~~)");
    private static final Pattern HEADING = Pattern.compile("^\\s{0,3}#{1,6}\\s+(.*?)\\s*#*\\s*$");
    private static final Pattern HTML_ANCHOR = Pattern.compile("<a\\s+(?:name|id)=\"([^\"]+)\"");
    private static final Pattern INLINE_LINK = Pattern.compile("!?\\[(?:[^\\[\\]]|\\[[^\\]]*\\])*\\]\\(\\s*<?([^)\\s>]*)>?(?:\\s+\"[^\"]*\")?\\s*\\)");
    private static final Pattern REFERENCE_DEFINITION = Pattern.compile("^\\s{0,3}\\[[^\\]]+\\]:\\s*<?(\\S+?)>?(?:\\s.*)?$");
    private static final Pattern CODE_SPAN = Pattern.compile("(`+)(?:(?!\\1).)+?\\1");
    private static final Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:");
    /** GitHub keeps letters, marks, digits, connector punctuation ('_'), spaces and '-'. */
    private static final Pattern DROPPED = Pattern.compile("[^\\p{L}\\p{M}\\p{N}\\p{Pc} -]");

    private LinkChecker() {}

    /**
     * Every broken link in {@code files} (repository-relative path → Markdown), one line each:
     * {@code FILE:LINE: (TARGET) reason}.
     */
    static List<String> problems(Map<Path, String> files, Predicate<Path> exists, Function<Path, Optional<String>> read) {
      List<String> problems = new ArrayList<>();
      Map<Path, Set<String>> anchorCache = new HashMap<>();
      for (Map.Entry<Path, String> file : new TreeMap<>(files).entrySet()) {
        List<String> lines = withoutCode(file.getValue());
        for (int i = 0; i < lines.size(); i++) {
          for (String target : linksIn(lines.get(i))) {
            String problem = check(file.getKey(), target, files, exists, read, anchorCache);
            if (problem != null) {
              problems.add(file.getKey().toString().replace('\\', '/') + ":" + (i + 1) + ": (" + target + ") " + problem);
            }
          }
        }
      }
      return problems;
    }

    private static String check(Path from, String target, Map<Path, String> files, Predicate<Path> exists,
        Function<Path, Optional<String>> read, Map<Path, Set<String>> anchorCache) {
      if (target.isEmpty() || SCHEME.matcher(target).find() || target.startsWith("//")) {
        return null; // external (or empty): not ours to check
      }
      int hash = target.indexOf('#');
      String pathPart = hash < 0 ? target : target.substring(0, hash);
      String anchor = hash < 0 ? null : target.substring(hash + 1);
      Path resolved = pathPart.isEmpty() ? from : from.resolveSibling(pathPart).normalize();
      if (resolved.startsWith("..")) {
        return "points outside the repository";
      }
      if (!pathPart.isEmpty() && !exists.test(resolved)) {
        return "no such file: " + resolved.toString().replace('\\', '/');
      }
      if (anchor == null || !resolved.toString().endsWith(".md")) {
        return null;
      }
      Set<String> anchors = anchorCache.computeIfAbsent(resolved,
          p -> Optional.ofNullable(files.get(p)).or(() -> read.apply(p)).map(LinkChecker::anchors).orElse(Set.of()));
      return anchors.contains(anchor) ? null
          : "no heading with anchor #" + anchor + " in " + resolved.toString().replace('\\', '/');
    }

    /** The link targets on one line (inline links, images and reference definitions). */
    static List<String> linksIn(String line) {
      List<String> targets = new ArrayList<>();
      Matcher m = INLINE_LINK.matcher(line);
      while (m.find()) {
        targets.add(m.group(1));
      }
      Matcher def = REFERENCE_DEFINITION.matcher(line);
      if (def.matches()) {
        targets.add(def.group(1));
      }
      return targets;
    }

    /** The lines with fenced code blocks blanked and code spans removed (line numbers kept). */
    static List<String> withoutCode(String markdown) {
      List<String> out = new ArrayList<>();
      String fence = null;
      for (String line : markdown.split("\n", -1)) {
        Matcher f = FENCE.matcher(line);
        if (fence == null && f.find()) {
          fence = f.group(1);
          out.add("");
        } else if (fence != null) {
          if (line.strip().startsWith(fence)) {
            fence = null;
          }
          out.add("");
        } else {
          out.add(CODE_SPAN.matcher(line).replaceAll(""));
        }
      }
      return out;
    }

    /** The anchors GitHub makes for a file's headings (duplicates get -1, -2, ...) and HTML anchors. */
    static Set<String> anchors(String markdown) {
      Set<String> anchors = new LinkedHashSet<>();
      Map<String, Integer> seen = new HashMap<>();
      String fence = null;
      for (String line : markdown.split("\n", -1)) {
        Matcher f = FENCE.matcher(line);
        if (fence == null && f.find()) {
          fence = f.group(1);
          continue;
        }
        if (fence != null) {
          if (line.strip().startsWith(fence)) {
            fence = null;
          }
          continue;
        }
        Matcher h = HEADING.matcher(line);
        if (h.matches()) {
          String slug = slug(h.group(1));
          int n = seen.merge(slug, 1, Integer::sum) - 1;
          anchors.add(n == 0 ? slug : slug + "-" + n);
        }
        Matcher a = HTML_ANCHOR.matcher(line);
        while (a.find()) {
          anchors.add(a.group(1));
        }
      }
      return anchors;
    }

    /** GitHub's anchor for a heading: its text, lowercased, punctuation dropped, spaces → '-'. */
    static String slug(String heading) {
      String text = heading
          .replaceAll("!?\\[([^\\]]*)\\]\\([^)]*\\)", "$1") // a link keeps its text
          .replaceAll("<[^>]+>", "") // HTML tags
          .replace("`", "");
      text = DROPPED.matcher(text.toLowerCase(Locale.ROOT)).replaceAll("");
      return text.replace(' ', '-');
    }
  }
}
