package org.longctx.checkpoints;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** {@link Storage} on the local disk; accepts plain paths and {@code file:} URIs. */
public final class LocalStorage implements Storage {

  static Path path(String location) {
    return location.startsWith("file:") ? Path.of(URI.create(location)) : Path.of(location);
  }

  @Override
  public boolean exists(String path) {
    return Files.exists(path(path));
  }

  @Override
  public List<String> list(String dir) throws IOException {
    try (Stream<Path> files = Files.list(path(dir))) {
      return files.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  @Override
  public byte[] readAll(String path) throws IOException {
    return Files.readAllBytes(path(path));
  }

  @Override
  public SeekableByteChannel openChannel(String path) throws IOException {
    return FileChannel.open(path(path), StandardOpenOption.READ);
  }

  @Override
  public String resolve(String dir, String child) {
    if (dir.startsWith("file:")) {
      return path(dir).resolve(child).toUri().toString();
    }
    return path(dir).resolve(child).toString();
  }
}
