package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ArgsTest {
  private static final Set<String> FLAGS = Set.of("--resume");
  private static final Set<String> VALUED = Set.of("--config", "--set", "--tasks");

  @Test
  void parsesValuesFlagsRepeatsAndEqualsForm() {
    Args a = Args.parse(new String[] {"--config", "x.yaml", "--resume", "--set=a.b=1", "--set", "c.d=2", "word"}, FLAGS, VALUED);
    assertEquals("x.yaml", a.required("--config"));
    assertTrue(a.flag("--resume"));
    assertFalse(a.flag("--tasks"));
    assertEquals(List.of("a.b=1", "c.d=2"), a.values("--set"));
    assertEquals(List.of("word"), a.positionals());
    assertEquals(7, a.intValue("--tasks", 7));
  }

  @Test
  void unknownOptionNamesItAndTheAllowedOnes() {
    UsageException e = assertThrows(UsageException.class, () -> Args.parse(new String[] {"--confg", "x"}, FLAGS, VALUED));
    assertTrue(e.getMessage().contains("unknown option --confg"), e.getMessage());
    assertTrue(e.getMessage().contains("--config"), e.getMessage());
  }

  @Test
  void badValuesAreUsageErrors() {
    assertThrows(UsageException.class, () -> Args.parse(new String[] {"--config"}, FLAGS, VALUED));
    assertThrows(UsageException.class, () -> Args.parse(new String[] {"--resume=yes"}, FLAGS, VALUED));
    Args a = Args.parse(new String[] {"--tasks", "four", "--config", "a", "--config", "b"}, FLAGS, VALUED);
    assertTrue(assertThrows(UsageException.class, () -> a.intValue("--tasks", 1)).getMessage().contains("'four'"));
    assertThrows(UsageException.class, () -> a.value("--config"));
    assertThrows(UsageException.class, () -> a.required("--out"));
    assertThrows(UsageException.class, () -> Args.parse(new String[] {"stray"}, FLAGS, VALUED).noPositionals());
  }
}
