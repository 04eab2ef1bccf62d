package org.longctx.data.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SynthTasksTest {

  @Test
  void passkeyHidesTheKeyAtTheAskedDepthAndEndsWithIt() {
    for (double depth : new double[] {0, 0.25, 0.5, 0.75, 1}) {
      SynthSample s = SynthTasks.passkey(3, 17, 8000, 5, depth);
      String text = s.text();
      String key = (String) s.meta().get("answer");
      assertEquals(5, key.length());
      assertEquals(8000, text.length());
      int prompt = (Integer) s.meta().get("prompt_chars");
      assertEquals(" " + key + ".", text.substring(prompt));
      assertTrue(text.substring(0, prompt).endsWith("What is the pass key? The pass key is"));
      int needle = text.indexOf("The pass key is " + key + ". Remember it.");
      assertEquals(s.meta().get("needle_chars"), needle);
      // the needle sits at the asked fraction of the filler (to within one filler sentence)
      int fillerStart = SynthTasks.PASSKEY_INTRO.length();
      int fillerChars = prompt - fillerStart - ("The pass key is " + key + ". Remember it. " + key + " is the pass key. ").length()
          - "What is the pass key? The pass key is".length();
      double at = (needle - fillerStart) / (double) fillerChars;
      assertTrue(Math.abs(at - depth) < 0.02, "depth " + depth + " placed at " + at);
      assertEquals(s, SynthTasks.passkey(3, 17, 8000, 5, depth), "deterministic");
    }
    assertNotEquals(SynthTasks.passkey(3, 17, 8000, 5, 0.5).meta().get("answer"),
        SynthTasks.passkey(3, 18, 8000, 5, 0.5).meta().get("answer"));
  }

  @Test
  void multikeyAsksForOneOfSeveralKeys() {
    SynthSample s = SynthTasks.multikey(1, 2, 6000, 6, 5);
    Matcher m = Pattern.compile("The pass key for (the [a-z ]+?) is (\\d{6})\\. Remember it\\.").matcher(s.text());
    Map<String, String> keys = new HashMap<>();
    while (m.find()) {
      keys.put(m.group(1), m.group(2));
    }
    assertEquals(5, keys.size());
    String asked = (String) s.meta().get("asked");
    assertEquals(keys.get(asked), s.meta().get("answer"));
    int prompt = (Integer) s.meta().get("prompt_chars");
    assertTrue(s.text().substring(0, prompt).endsWith("The pass key for " + asked + " is"));
    assertEquals(" " + keys.get(asked) + ".", s.text().substring(prompt));
  }

  @Test
  void copyDocumentsRepeatEverySpanRightAfterIt() {
    SynthSample s = SynthTasks.copy(7, 3, 2000);
    String text = s.text();
    assertTrue(text.length() >= 2000 && text.length() < 2000 + 160, "length " + text.length());
    Matcher m = Pattern.compile("Say ([a-z0-9 ]+)\\. Again: ([a-z0-9 ]+)\\. ").matcher(text);
    int spans = 0;
    int end = 0;
    java.util.Set<String> distinct = new java.util.HashSet<>();
    while (m.find()) {
      assertEquals(end, m.start(), "spans follow each other with nothing between");
      assertEquals(m.group(1), m.group(2));
      int items = m.group(1).split(" ").length;
      assertTrue(items >= 2 && items <= 11, m.group(1));
      distinct.add(m.group(1));
      end = m.end();
      spans++;
    }
    assertEquals(text.length(), end, "the document is made of whole spans");
    assertEquals(s.meta().get("spans"), spans);
    assertEquals(spans, distinct.size(), "random spans do not repeat across the document");
    assertTrue(text.matches(".*\\b\\d+\\b.*") && text.matches(".*\\b[a-z]+\\b.*"), "numbers and words");
    assertEquals(s, SynthTasks.copy(7, 3, 2000), "deterministic");
    assertNotEquals(s.text(), SynthTasks.copy(7, 4, 2000).text());
  }

  @Test
  void dependentDocumentsLookUpOnlyWhatTheyDefinedEarlier() {
    SynthSample s = SynthTasks.dependent(5, 0, 20_000, 0);
    String text = s.text();
    assertTrue(text.length() >= 20_000);
    Map<String, String> defined = new HashMap<>();
    Map<String, Integer> definedAt = new HashMap<>();
    Matcher d = Pattern.compile("Record \\d+: the code of ([a-z]+-[a-z]+) is (\\d{4})\\.").matcher(text);
    while (d.find()) {
      defined.put(d.group(1), d.group(2));
      definedAt.put(d.group(1), d.start());
    }
    assertEquals(s.meta().get("records"), defined.size());
    Matcher l = Pattern.compile("Lookup: the code of ([a-z]+-[a-z]+) is (\\d{4})\\.").matcher(text);
    int lookups = 0;
    int definitionChars = (Integer) s.meta().get("definition_chars");
    while (l.find()) {
      lookups++;
      assertEquals(defined.get(l.group(1)), l.group(2), l.group());
      assertTrue(l.start() >= definitionChars && definedAt.get(l.group(1)) < l.start());
    }
    assertEquals(s.meta().get("lookups"), lookups);
    assertTrue(lookups > 50, "lookups " + lookups);
    assertTrue(text.chars().allMatch(c -> c < 128), "ASCII only: a character is a byte-level token");
  }

  @Test
  void samplesAreValidPileLines() throws Exception {
    SynthSample s = SynthTasks.passkey(0, 0, 500, 5, 0.5);
    var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(s.toJsonLine());
    assertEquals(s.text(), node.get("text").asText());
    assertEquals("synth_passkey", node.get("meta").get("pile_set_name").asText());
    assertEquals(s.meta().get("answer"), node.get("meta").get("answer").asText());
  }
}
