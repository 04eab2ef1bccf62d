package org.longctx.kernels;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Finds and loads {@code liblongctx_native.so} once. The path comes from the system property
 * {@value #PROPERTY} or, when that is unset or blank, the environment variable {@value #ENV};
 * with neither the kernels are simply absent. A configured path that is missing or fails to load
 * is an error, never a silent fallback: whoever set it expects the native path.
 *
 * <p>DJL's PyTorch engine must be initialised first, so that libtorch (which the extension links
 * against and shares tensors with) is already in the process: loading the extension first gave
 * "CUDA error: invalid resource handle" on the first CUDA call (measured; docs/gpu.md, "API").
 */
final class NativeLoader {
  static final String PROPERTY = "longctx.native.lib";
  static final String ENV = "LONGCTX_NATIVE_LIB";

  private enum State { NOT_TRIED, LOADED, ABSENT }

  private final Supplier<String> propertyValue;
  private final Supplier<String> envValue;
  private final Runnable engineStarter;
  private final Consumer<String> linker;
  private State state = State.NOT_TRIED;
  private Path loadedFrom;

  NativeLoader(Supplier<String> propertyValue, Supplier<String> envValue, Runnable engineStarter,
      Consumer<String> linker) {
    this.propertyValue = propertyValue;
    this.envValue = envValue;
    this.engineStarter = engineStarter;
    this.linker = linker;
  }

  /** The configured library path: the property if set and not blank, else the environment variable. */
  static Optional<Path> configuredPath(String property, String env) {
    if (property != null && !property.isBlank()) {
      return Optional.of(Paths.get(property.trim()));
    }
    if (env != null && !env.isBlank()) {
      return Optional.of(Paths.get(env.trim()));
    }
    return Optional.empty();
  }

  /**
   * Loads the library on the first call. Returns false when none is configured; throws
   * {@link IllegalStateException} (naming the path and the cause) when a configured one cannot
   * be loaded, then again on every later call.
   */
  synchronized boolean tryLoad() {
    if (state == State.LOADED) {
      return true;
    }
    if (state == State.ABSENT) {
      return false;
    }
    Optional<Path> configured = configuredPath(propertyValue.get(), envValue.get());
    if (configured.isEmpty()) {
      state = State.ABSENT;
      return false;
    }
    Path path = configured.get().toAbsolutePath().normalize();
    if (!Files.isRegularFile(path)) {
      throw new IllegalStateException("native kernel library " + path + " (from " + source()
          + ") does not exist or is not a file; build it with tools/gpu/bundle.sh --build-native or"
          + " unset " + source());
    }
    try {
      engineStarter.run();
    } catch (RuntimeException e) {
      throw new IllegalStateException("cannot load native kernels from " + path
          + ": DJL's PyTorch engine did not start (" + e.getMessage() + ")", e);
    }
    try {
      linker.accept(path.toString());
    } catch (UnsatisfiedLinkError e) {
      throw new IllegalStateException("cannot load native kernel library " + path + " (from " + source()
          + "): " + e.getMessage() + "; it must be built against the libtorch that DJL loaded", e);
    }
    state = State.LOADED;
    loadedFrom = path;
    return true;
  }

  synchronized String status() {
    switch (state) {
      case LOADED:
        return "loaded from " + loadedFrom;
      case ABSENT:
        return "not configured (set -D" + PROPERTY + "=PATH or " + ENV + ")";
      default:
        return configuredPath(propertyValue.get(), envValue.get())
            .map(p -> "configured as " + p + ", not loaded yet")
            .orElse("not configured (set -D" + PROPERTY + "=PATH or " + ENV + ")");
    }
  }

  private String source() {
    String property = propertyValue.get();
    return property != null && !property.isBlank() ? "-D" + PROPERTY : ENV;
  }
}
