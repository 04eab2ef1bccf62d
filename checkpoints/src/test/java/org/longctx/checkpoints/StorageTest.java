package org.longctx.checkpoints;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StorageTest {

  @Test
  void deleteTreeRemovesAFolderWithEverythingInItAndNothingBeside(@TempDir Path dir) throws IOException {
    Path tree = dir.resolve("run");
    Files.createDirectories(tree.resolve("checkpoints/step-000001"));
    Files.writeString(tree.resolve("checkpoints/step-000001/state.json"), "{}");
    Files.writeString(tree.resolve("metrics.jsonl"), "");
    Files.writeString(dir.resolve("run-other"), "kept");
    Storage.deleteTree(tree);
    assertFalse(Files.exists(tree));
    assertEquals("kept", Files.readString(dir.resolve("run-other")));
    Storage.deleteTree(tree); // already gone: nothing to do
    Storage.deleteTree(dir.resolve("run-other"));
    assertFalse(Files.exists(dir.resolve("run-other")), "a single file is deleted too");
    assertTrue(Files.isDirectory(dir));
  }

  @Test
  void localLocationsReadThroughJavaNioOthersThroughHadoop() {
    assertTrue(Storage.forLocation("/data/prepared") instanceof LocalStorage);
    assertTrue(Storage.forLocation("file:/data/prepared") instanceof LocalStorage);
    assertTrue(Storage.forLocation("hdfs://nn:8020/data/prepared") instanceof HadoopStorage);
    assertNull(Storage.scheme("C:\\data"));
  }
}
