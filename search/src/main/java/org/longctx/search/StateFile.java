package org.longctx.search;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * The search state as a JSON file, replaced atomically (written beside it, then renamed over
 * it), so a crash leaves either the previous generation's state or the new one, never half.
 */
public final class StateFile implements EvolutionarySearch.Store {
  static final ObjectMapper JSON = JsonMapper.builder()
      .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS) // a diverged candidate's perplexity may be Infinity
      .disable(SerializationFeature.INDENT_OUTPUT)
      .build();

  private final Path file;

  public StateFile(Path file) {
    this.file = file;
  }

  public Path path() {
    return file;
  }

  @Override
  public Optional<SearchState> load() throws IOException {
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    try {
      return Optional.of(JSON.readValue(file.toFile(), SearchState.class));
    } catch (IOException e) {
      throw new IOException(file + ": not a search state (" + e.getMessage() + "); delete it to start the search again", e);
    }
  }

  @Override
  public void save(SearchState state) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Path temp = parent.resolve("." + file.getFileName() + ".tmp");
    Files.write(temp, JSON.writeValueAsBytes(state));
    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
