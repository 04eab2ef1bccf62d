package org.longctx.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.longctx.data.synth.SynthTasks;
import org.longctx.data.tokenizer.ByteLevelTokenizer;

class EvalDocumentTest {

  /** What the byte-level tokenizer with BOS makes of a text, written out here: BOS, then the UTF-8 bytes. */
  private static int[] bosAndBytes(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    int[] ids = new int[bytes.length + 1];
    ids[0] = ByteLevelTokenizer.BOS_ID;
    for (int i = 0; i < bytes.length; i++) {
      ids[i + 1] = bytes[i] & 0xFF;
    }
    return ids;
  }

  @Test
  void theNamedKindsAreReadInOrder() {
    assertEquals(List.of("dependent"), EvalDocument.synthTasks("synth"));
    assertEquals(List.of("copy"), EvalDocument.synthTasks("synth:copy"));
    assertEquals(List.of("copy", "passkey"), EvalDocument.synthTasks("synth:copy+passkey"));
    assertEquals(List.of("passkey", "dependent", "copy"), EvalDocument.synthTasks("synth:passkey+dependent+copy"));
    assertNull(EvalDocument.synthTasks("runs/demo/prepared"));
  }

  @Test
  void aMixedListTakesTheKindsInTurnEachFromItsOwnFirstDocuments() throws Exception {
    int minTokens = 200;
    long seed = 5;
    List<EvalDocument> docs = EvalDocument.of("synth:copy+passkey", PasskeyPromptTest.byteLevel(true), seed, 5, minTokens, minTokens);
    assertEquals(5, docs.size());
    // document i is kind i % 2, that kind's document i / 2; the synth stage writes minTokens + 64 characters
    int chars = minTokens + 64;
    String[] texts = {
        SynthTasks.copy(seed, 0, chars).text(), SynthTasks.passkey(seed, 0, chars, 5, 0.5).text(),
        SynthTasks.copy(seed, 1, chars).text(), SynthTasks.passkey(seed, 1, chars, 5, 0.5).text(),
        SynthTasks.copy(seed, 2, chars).text()};
    for (int i = 0; i < texts.length; i++) {
      assertEquals(i, docs.get(i).index());
      assertArrayEquals(bosAndBytes(texts[i]), docs.get(i).ids(), "document " + i);
      assertTrue(docs.get(i).ids().length >= minTokens);
    }
    assertEquals("synth-copy:5:1", docs.get(2).source());
    assertEquals("synth-passkey:5:1", docs.get(3).source());
    // a single kind gives the same documents as before: one kind's list is the mixed list's every other one
    List<EvalDocument> copies = EvalDocument.of("synth:copy", PasskeyPromptTest.byteLevel(true), seed, 2, minTokens, minTokens);
    assertArrayEquals(copies.get(1).ids(), docs.get(2).ids());
  }

  @Test
  void unknownOrRepeatedKindsAreRefusedNamingTheAllowedValues() {
    for (String bad : List.of("synth:poem", "synth:copy+poem", "synth:copy+copy", "synth:", "synth:copy+")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EvalDocument.synthTasks(bad), bad);
      assertTrue(e.getMessage().contains("synth:copy+passkey") && e.getMessage().contains("synth:dependent"), e.getMessage());
    }
  }
}
