package org.longctx.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLoaderTest {

  @Test
  void propertyWinsOverEnvironmentAndBlankMeansUnset() {
    assertEquals(Optional.of(Paths.get("/a/lib.so")), NativeLoader.configuredPath("/a/lib.so", "/b/lib.so"));
    assertEquals(Optional.of(Paths.get("/b/lib.so")), NativeLoader.configuredPath("  ", "/b/lib.so"));
    assertEquals(Optional.of(Paths.get("/b/lib.so")), NativeLoader.configuredPath(null, " /b/lib.so "));
    assertEquals(Optional.empty(), NativeLoader.configuredPath(null, ""));
  }

  @Test
  void nothingConfiguredIsUnavailableWithoutStartingTheEngineOrLinking() {
    List<String> calls = new ArrayList<>();
    NativeLoader loader = new NativeLoader(() -> null, () -> null, () -> calls.add("engine"), calls::add);
    assertFalse(loader.tryLoad());
    assertFalse(loader.tryLoad());
    assertTrue(calls.isEmpty(), calls.toString());
    assertTrue(loader.status().startsWith("not configured"), loader.status());
  }

  @Test
  void missingConfiguredFileIsAnErrorNamingPathAndSource(@TempDir Path dir) {
    Path missing = dir.resolve("nope.so");
    NativeLoader loader = new NativeLoader(() -> null, missing::toString, () -> {}, p -> {});
    IllegalStateException e = assertThrows(IllegalStateException.class, loader::tryLoad);
    assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    assertTrue(e.getMessage().contains(NativeLoader.ENV), e.getMessage());
  }

  @Test
  void startsTheEngineBeforeLinkingAndLoadsOnce(@TempDir Path dir) throws Exception {
    Path lib = Files.writeString(dir.resolve("lib.so"), "x");
    List<String> calls = new ArrayList<>();
    NativeLoader loader = new NativeLoader(lib::toString, () -> null, () -> calls.add("engine"),
        p -> calls.add("load " + p));
    assertTrue(loader.tryLoad());
    assertTrue(loader.tryLoad());
    assertEquals(List.of("engine", "load " + lib.toAbsolutePath().normalize()), calls);
    assertEquals("loaded from " + lib.toAbsolutePath().normalize(), loader.status());
  }

  @Test
  void aFileThatIsNoLibraryFailsWithTheLinkersReason(@TempDir Path dir) throws Exception {
    Path notElf = Files.writeString(dir.resolve("liblongctx_native.so"), "not an ELF file");
    NativeLoader loader = new NativeLoader(notElf::toString, () -> null, () -> Engine.getEngine("PyTorch"),
        System::load);
    IllegalStateException e = assertThrows(IllegalStateException.class, loader::tryLoad);
    assertTrue(e.getMessage().contains(notElf.toAbsolutePath().normalize().toString()), e.getMessage());
    assertTrue(e.getMessage().contains("-D" + NativeLoader.PROPERTY), e.getMessage());
    assertTrue(e.getCause() instanceof UnsatisfiedLinkError, String.valueOf(e.getCause()));
  }

  @Test
  void anEngineThatDoesNotStartIsReported(@TempDir Path dir) throws Exception {
    Path lib = Files.writeString(dir.resolve("lib.so"), "x");
    NativeLoader loader = new NativeLoader(lib::toString, () -> null, () -> {
      throw new IllegalArgumentException("Deep learning engine not found: PyTorch");
    }, p -> {});
    IllegalStateException e = assertThrows(IllegalStateException.class, loader::tryLoad);
    assertTrue(e.getMessage().contains("Deep learning engine not found"), e.getMessage());
  }
}
