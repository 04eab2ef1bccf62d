package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fresh machine has only a JDK: the build runs through the Maven Wrapper, CI runs README's test
 * command, and a machine without Java is told in one line how to get it.
 */
class RepositoryScriptsTest {

  private static final Path ROOT = Path.of(System.getProperty("longctx.root", "..")).toAbsolutePath().normalize();

  @Test
  void ciRunsExactlyReadmesTestCommand() throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"));
    Matcher quickStart = Pattern.compile("# 2\\. run the full test suite[^\\n]*\\n([^\\n]+)\\n").matcher(readme);
    assertTrue(quickStart.find(), "README's Quick start names no test command");
    String readmeCommand = quickStart.group(1).trim();
    assertTrue(readmeCommand.startsWith("./mvnw "), "README's test command must use the wrapper: " + readmeCommand);

    List<String> commands = new ArrayList<>();
    for (String line : Files.readAllLines(ROOT.resolve(".ci/run"))) {
      String t = line.trim();
      if (!t.isEmpty() && !t.startsWith("#")) {
        commands.add(t);
      }
    }
    assertEquals(readmeCommand, commands.get(commands.size() - 1), ".ci/run must end with README's test command");
    for (String c : commands) {
      assertFalse(c.matches("(.*[\\s;|&(])?mvn\\s.*") || c.startsWith("mvn "), ".ci/run calls a system Maven: " + c);
    }
  }

  @Test
  void wrapperPinsMaven39FromCentralWithoutAJar() throws IOException {
    Path mvnw = ROOT.resolve("mvnw");
    assertTrue(Files.isExecutable(mvnw), "mvnw must exist and be executable");
    Properties p = wrapperProperties();
    assertEquals("only-script", p.getProperty("distributionType"));
    assertTrue(p.getProperty("distributionUrl", "").matches(
        "https://repo\\.maven\\.apache\\.org/maven2/org/apache/maven/apache-maven/3\\.9\\.\\d+/apache-maven-3\\.9\\.\\d+-bin\\.zip"),
        "distributionUrl must pin a Maven 3.9.x on Maven Central: " + p.getProperty("distributionUrl"));
    assertFalse(Files.exists(ROOT.resolve(".mvn/wrapper/maven-wrapper.jar")), "only-script needs no wrapper jar");
    String launcher = Files.readString(ROOT.resolve("bin/longctx"));
    assertTrue(launcher.contains("./mvnw "), "bin/longctx must build through the wrapper");
    assertFalse(Pattern.compile("(^|[\\s;|&(])mvn\\s", Pattern.MULTILINE).matcher(launcher.replaceAll("(?m)#.*$", "")).find(),
        "bin/longctx calls a system Maven");
  }

  /** A machine with a JDK and no Maven: the wrapper still yields the pinned Maven. */
  @Test
  void wrapperRunsWithoutMavenOnThePath(@TempDir Path tmp) throws Exception {
    Path bin = pathWithout(tmp.resolve("bin"), Set.of("mvn", "mvnDebug", "mvnyjp"));
    Result r = run(List.of(ROOT.resolve("mvnw").toString(), "--version"), bin, 300);
    String version = wrapperProperties().getProperty("distributionUrl").replaceAll(".*/apache-maven-([0-9.]+)-bin\\.zip", "$1");
    assertEquals(0, r.exit, r.output);
    assertTrue(r.output.contains("Apache Maven " + version), r.output);
  }

  /** A machine without Java: one line that says how to install JDK 17, exit status 2. */
  @Test
  void launcherWithoutJavaSaysHowToInstallIt(@TempDir Path tmp) throws Exception {
    Path bin = pathWithout(tmp.resolve("bin"), Set.of("java", "javac", "mvn", "mvnDebug"));
    Result r = run(List.of("bash", ROOT.resolve("bin/longctx").toString(), "help"), bin, 60);
    assertEquals(2, r.exit, r.output);
    assertEquals(1, r.output.strip().lines().count(), "one line: " + r.output);
    assertTrue(r.output.contains("java not found") && r.output.contains("install JDK 17"), r.output);
  }

  private static Properties wrapperProperties() throws IOException {
    Properties p = new Properties();
    try (var in = Files.newInputStream(ROOT.resolve(".mvn/wrapper/maven-wrapper.properties"))) {
      p.load(in);
    }
    return p;
  }

  /** A folder of links to every program on PATH except the named ones: a machine without them. */
  private static Path pathWithout(Path dir, Set<String> missing) throws IOException {
    Files.createDirectories(dir);
    for (String entry : System.getenv("PATH").split(":")) {
      Path d = Path.of(entry);
      if (!Files.isDirectory(d)) {
        continue;
      }
      try (Stream<Path> files = Files.list(d)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          String name = f.getFileName().toString();
          Path link = dir.resolve(name);
          if (!missing.contains(name) && !Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)
              && Files.isExecutable(f) && !Files.isDirectory(f)) {
            Files.createSymbolicLink(link, f.toRealPath());
          }
        }
      }
    }
    return dir;
  }

  private record Result(int exit, String output) {}

  private static Result run(List<String> command, Path pathDir, long timeoutS) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true);
    pb.environment().put("PATH", pathDir.toString());
    pb.environment().remove("JAVA_HOME");
    pb.environment().remove("MAVEN_HOME");
    pb.environment().remove("M2_HOME");
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(timeoutS, TimeUnit.SECONDS), "timed out: " + command);
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }
}
