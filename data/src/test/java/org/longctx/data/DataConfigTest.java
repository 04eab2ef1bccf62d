package org.longctx.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.longctx.data.DataConfig.Layout;

class DataConfigTest {

  private static DataConfig with(Layout layout, List<String> allow, List<String> deny, int min, int max, int truncate,
      boolean addEos, int seqLen, int maxLine, String textField) {
    DataConfig d = DataConfig.defaults();
    return new DataConfig(List.of("x"), "t", "o", layout, textField, d.sourceFields(), allow, deny, true, min, max,
        truncate, true, addEos, "", "", true, seqLen, maxLine);
  }

  private static String problem(Runnable make) {
    return assertThrows(IllegalArgumentException.class, make::run).getMessage();
  }

  @Test
  void defaultsAreValidAndReadyOnlyWithPaths() {
    DataConfig d = DataConfig.defaults();
    assertEquals("data.inputs: give at least one shard glob, e.g. data/pile/*.jsonl.zst", problem(d::checkReadyToPrepare));
    d.withPaths(List.of("a/*.jsonl"), "tok", "out").checkReadyToPrepare();
  }

  @Test
  void problemsNameTheirKey() {
    assertEquals("min_tokens: must be <= max_tokens (10), got 20",
        problem(() -> with(Layout.DOCUMENTS, List.of(), List.of(), 20, 10, 0, true, 8, 1024, "text")));
    assertEquals("truncate_tokens: must be <= max_tokens (100), else every cut document is dropped as too long; got 200",
        problem(() -> with(Layout.DOCUMENTS, List.of(), List.of(), 0, 100, 200, true, 8, 1024, "text")));
    assertEquals("truncate_tokens: must be 0 (never cut) or > 2 (room for content after BOS/EOS), got 2",
        problem(() -> with(Layout.DOCUMENTS, List.of(), List.of(), 0, 0, 2, true, 8, 1024, "text")));
    assertEquals("allow_sources and deny_sources both name [ArXiv]; a source may be in at most one of them",
        problem(() -> with(Layout.DOCUMENTS, List.of("ArXiv", "Github"), List.of("ArXiv"), 0, 0, 0, true, 8, 1024, "text")));
    assertEquals("add_eos: the packed layout joins documents with EOS, so it must be true",
        problem(() -> with(Layout.PACKED, List.of(), List.of(), 0, 0, 0, false, 8, 1024, "text")));
    assertEquals("seq_len: must be >= 2, got 1",
        problem(() -> with(Layout.PACKED, List.of(), List.of(), 0, 0, 0, true, 1, 1024, "text")));
    assertEquals("max_line_bytes: must be in [64, " + DataConfig.MAX_LINE_BYTES_LIMIT + "], got 10",
        problem(() -> with(Layout.DOCUMENTS, List.of(), List.of(), 0, 0, 0, true, 8, 10, "text")));
    assertEquals("text_field: must be a dotted JSON path such as text or meta.pile_set_name, got 'meta..text'",
        problem(() -> with(Layout.DOCUMENTS, List.of(), List.of(), 0, 0, 0, true, 8, 1024, "meta..text")));
  }
}
