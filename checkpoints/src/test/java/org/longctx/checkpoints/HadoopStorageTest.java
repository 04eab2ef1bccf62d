package org.longctx.checkpoints;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HadoopStorageTest {

  @Test
  void onlySettingsBeyondTheDefaultsAreShippedAndTheyComeBack() {
    Configuration driver = new Configuration();
    driver.set("fs.s3a.endpoint", "http://minio:9000");
    driver.set("io.file.buffer.size", "131072");
    Map<String, String> changes = HadoopStorage.changes(driver);
    assertEquals(Map.of("fs.s3a.endpoint", "http://minio:9000", "io.file.buffer.size", "131072"), changes);
    Configuration executor = HadoopStorage.configuration(changes);
    assertEquals("http://minio:9000", executor.get("fs.s3a.endpoint"));
    assertEquals(131072, executor.getInt("io.file.buffer.size", 0));
    assertEquals(new Configuration().get("fs.defaultFS"), executor.get("fs.defaultFS"));
  }

  @Test
  void readsListsAndSeeksLikeTheLocalStorage(@TempDir Path dir) throws IOException {
    byte[] data = new byte[200_000];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i * 31);
    }
    Files.write(dir.resolve("b.bin"), data);
    Files.writeString(dir.resolve("a.txt"), "x");
    Files.createDirectory(dir.resolve("sub"));
    for (Storage s : List.of(new LocalStorage(), new HadoopStorage(new Configuration()))) {
      String root = s instanceof HadoopStorage ? dir.toUri().toString() : dir.toString();
      assertEquals(List.of("a.txt", "b.bin"), s.list(root), s.getClass().getSimpleName());
      String file = s.resolve(root, "b.bin");
      assertTrue(s.exists(file));
      assertArrayEquals(data, s.readAll(file));
      try (SeekableByteChannel c = s.openChannel(file)) {
        assertEquals(data.length, c.size());
        c.position(150_000);
        ByteBuffer buf = ByteBuffer.allocate(100_000);
        int n = 0;
        while (buf.hasRemaining()) {
          int r = c.read(buf);
          if (r < 0) {
            break;
          }
          n += r;
        }
        assertEquals(50_000, n);
        assertEquals(data[150_000], buf.get(0));
        assertEquals(data[199_999], buf.get(49_999));
      }
    }
  }
}
