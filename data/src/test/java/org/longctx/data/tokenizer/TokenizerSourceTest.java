package org.longctx.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.checkpoints.Storage;
import org.longctx.data.tokenizer.TokenizerSource.Place;

class TokenizerSourceTest {
  @TempDir Path dir;

  private Optional<TokenizerSource> find(Place... places) throws IOException {
    return TokenizerSource.find(List.of(places), Storage.defaultConf());
  }

  @Test
  void aFileOrItsFolderGiveTheFileAndTheConfigBesideIt() throws IOException {
    Path file = ByteLevelTokenizer.writeTo(dir.resolve("tok"));
    for (String location : List.of(file.toString(), dir.resolve("tok").toString(), dir.resolve("tok").toUri().toString())) {
      TokenizerSource s = find(Place.named("data.tokenizer", location)).orElseThrow();
      assertEquals("data.tokenizer", s.key());
      assertTrue(s.source().endsWith("tok/tokenizer.json"), s.source());
      assertArrayEquals(Files.readAllBytes(file), s.json());
      assertArrayEquals(Files.readAllBytes(dir.resolve("tok/tokenizer_config.json")), s.configJson());
    }
    Files.delete(dir.resolve("tok/tokenizer_config.json"));
    assertNull(find(Place.named("data.tokenizer", file.toString())).orElseThrow().configJson(), "no config beside it");
  }

  @Test
  void theFirstPlaceWithATokenizerWinsAndUnsetOrEmptyOptionalPlacesAreSkipped() throws IOException {
    Files.createDirectories(dir.resolve("model"));
    ByteLevelTokenizer.writeTo(dir.resolve("data"));
    TokenizerSource s = find(Place.named("eval.tokenizer", ""), Place.ifPresent("the model folder", dir.resolve("model").toString()),
        Place.ifPresent("the other model", dir.resolve("absent").toString()),
        Place.ifPresent("data.tokenizer", dir.resolve("data").toString())).orElseThrow();
    assertEquals("data.tokenizer", s.key());
    assertEquals(Optional.empty(), find(Place.ifPresent("the model folder", dir.resolve("model").toString())));
    assertEquals(TokenizerSource.BUILT_IN,
        TokenizerSource.findOrBuiltIn(List.of(Place.ifPresent("m", dir.resolve("model").toString())), Storage.defaultConf()).source());
  }

  @Test
  void aNamedPlaceWithoutATokenizerIsAnErrorNamingItsKey() {
    String missing = assertThrows(IllegalArgumentException.class,
        () -> find(Place.named("eval.tokenizer", dir.resolve("nope").toString()))).getMessage();
    assertTrue(missing.startsWith("eval.tokenizer: ") && missing.contains("does not exist"), missing);
    String empty = assertThrows(IllegalArgumentException.class, () -> find(Place.named("data.tokenizer", dir.toString()))).getMessage();
    assertTrue(empty.startsWith("data.tokenizer: folder ") && empty.endsWith("has no tokenizer.json"), empty);
  }

  @Test
  void theBuiltInIsTheByteLevelTokenizerAndWritesBothFiles() throws IOException {
    TokenizerSource builtIn = TokenizerSource.builtIn();
    TokenizerSpec spec = builtIn.spec("", "");
    assertEquals(ByteLevelTokenizer.BOS_ID, spec.bosId());
    assertEquals(ByteLevelTokenizer.EOS_ID, spec.eosId());
    assertEquals(TokenizerSpec.byteLevel().sha256(), spec.sha256());
    builtIn.writeTo(dir.resolve("out"));
    assertEquals(ByteLevelTokenizer.tokenizerJson(), Files.readString(dir.resolve("out/tokenizer.json"), StandardCharsets.UTF_8));
    TokenizerSource back = find(Place.named("k", dir.resolve("out").toString())).orElseThrow();
    assertEquals(spec.sha256(), back.spec("", "").sha256());
    assertEquals(spec.bosId(), back.spec("", "").bosId(), "the config written beside it names the same BOS");
  }
}
