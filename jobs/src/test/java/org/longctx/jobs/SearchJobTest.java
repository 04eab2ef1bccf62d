package org.longctx.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.jobs.config.SparkSettings;
import org.longctx.jobs.spark.SparkSessions;
import org.longctx.trainer.eval.EvalDocument;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * Where a search may write: a new folder, its own folder again (to continue), or anything with
 * --overwrite; and documents that an executor can read back.
 */
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

  /**
   * An executor of a real cluster reads the documents broadcast through Kryo, with the job's
   * settings (local mode never does, so only this test and a cluster show it).
   */
  @Test
  void documentsSurviveKryoAsOnAnExecutor() {
    SerializerInstance kryo = new KryoSerializer(SparkSessions.conf(SparkSettings.defaults(), "test")).newInstance();
    ClassTag<List<EvalDocument>> tag = ClassTag$.MODULE$.apply(List.class);
    List<EvalDocument> documents = List.of(new EvalDocument(0, "synth:copy", new int[] {256, 7, 8, 9}),
        new EvalDocument(1, "synth:copy", new int[] {256, 5}));
    ByteBuffer bytes = kryo.serialize(SearchJob.broadcastable(documents), tag);
    List<EvalDocument> back = kryo.deserialize(bytes, tag);
    assertEquals(2, back.size());
    assertArrayEquals(new int[] {256, 7, 8, 9}, back.get(0).ids());
    assertEquals("synth:copy", back.get(1).source());
    // what broke on the cluster: an immutable list cannot be rebuilt by Kryo
    assertThrows(Exception.class, () -> kryo.deserialize(kryo.serialize(documents, tag), tag));
  }
}
