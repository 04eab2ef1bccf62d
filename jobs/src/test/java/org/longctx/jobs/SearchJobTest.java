package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where a search may write: a new folder, its own folder again (to continue), or anything with --overwrite. */
class SearchJobTest {
  @TempDir Path dir;

  @Test
  void continuesItsOwnFolderRefusesOthersOverwriteRemovesOnlyItsFiles() throws Exception {
    assertDoesNotThrow(() -> SearchJob.prepareOutput(dir.resolve("new"), false));
    Path other = Files.createDirectories(dir.resolve("other"));
    Files.writeString(other.resolve("notes.txt"), "x");
    UsageException e = assertThrows(UsageException.class, () -> SearchJob.prepareOutput(other, false));
    assertTrue(e.getMessage().contains("is not empty"), e.getMessage());

    Path search = Files.createDirectories(dir.resolve("search"));
    Files.writeString(search.resolve(SearchJob.STATE), "{}");
    Files.writeString(search.resolve(SearchJob.CANDIDATES), "{}");
    Files.writeString(search.resolve("notes.txt"), "x");
    assertDoesNotThrow(() -> SearchJob.prepareOutput(search, false), "a folder with a search state continues");
    assertTrue(Files.exists(search.resolve(SearchJob.STATE)));
    SearchJob.prepareOutput(search, true);
    assertFalse(Files.exists(search.resolve(SearchJob.STATE)));
    assertFalse(Files.exists(search.resolve(SearchJob.CANDIDATES)));
    assertTrue(Files.exists(search.resolve("notes.txt")), "--overwrite removes the search's files only");
  }
}
