package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CliTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... argv) {
    return Cli.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void helpListsEverySubcommand() {
    assertEquals(0, run("help"));
    for (Cli.Entry c : Cli.COMMANDS) {
      assertTrue(out.toString(StandardCharsets.UTF_8).contains(c.name()), c.name());
    }
  }

  @Test
  void everySubcommandPrintsUsageOnHelp() {
    for (Cli.Entry c : Cli.COMMANDS) {
      out.reset();
      assertEquals(0, run(c.name(), "--help"), c.name());
      assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("Usage: longctx " + c.name()), c.name() + ": " + out);
    }
  }

  @Test
  void everySubcommandRejectsAnUnknownOptionWithOneLine() {
    for (Cli.Entry c : Cli.COMMANDS) {
      err.reset();
      assertEquals(2, run(c.name(), "--no-such-option", "1"), c.name());
      String message = err.toString(StandardCharsets.UTF_8);
      assertEquals(1, message.strip().lines().count(), message);
      assertTrue(message.contains("--no-such-option"), message);
    }
  }

  @Test
  void unknownSubcommandFails() {
    assertEquals(2, run("trian"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown subcommand 'trian'"));
  }

  @Test
  void badConfigIsExitTwoWithTheKey() {
    assertEquals(2, run("config", "--print", "../configs/cluster-check.yaml", "--set", "train.stepz=3"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("did you mean 'train.steps'"), err.toString());
  }
}
