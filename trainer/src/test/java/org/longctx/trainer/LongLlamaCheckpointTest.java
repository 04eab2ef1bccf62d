package org.longctx.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.checkpoints.MemoryLayers;
import org.longctx.checkpoints.Storage;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.model.ModelWeights;
import org.longctx.trainer.model.Precision;

/** LongLLaMA checkpoints out and back in, and the plain-Llama export that drops the memory. */
class LongLlamaCheckpointTest {
  @TempDir Path dir;

  @Test
  void aLongLlamaCheckpointReadsBackIdenticallyAndThePlainExportDropsOnlyTheMemory() throws IOException {
    MemoryLayers memory = new MemoryLayers(List.of(1), MemoryAttentionTest.LAST, 2, 4, "bfloat16");
    long[] longInput = MemoryAttentionTest.ids(40, 9); // longer than the window: memory is used
    long[] shortInput = MemoryAttentionTest.ids(MemoryAttentionTest.LAST, 10); // no memory needed
    Path saved = dir.resolve("saved");
    Path exported = dir.resolve("longllama");
    Path plain = dir.resolve("plain");
    try (LlamaModel base = MemoryAttentionTest.model(2, 13); LlamaModel model = base.withMemory(memory)) {
      Files.createDirectories(saved);
      ModelWeights.saveHuggingFace(model, Storage.path(saved), "float32", Long.MAX_VALUE, Storage.defaultConf());
      HfExport.export(Storage.path(saved), Storage.path(exported), "float32", Long.MAX_VALUE, null, Storage.defaultConf());
      HfExport.export(Storage.path(saved), Storage.path(plain), "float32", Long.MAX_VALUE, null, Storage.defaultConf(), null, 0,
          true);
      ObjectMapper json = new ObjectMapper();
      JsonNode config = json.readTree(exported.resolve("config.json").toFile());
      assertEquals("LongLlamaForCausalLM", config.get("architectures").get(0).asText());
      assertEquals("[1]", config.get("mem_layers").toString());
      assertEquals("LlamaForCausalLM", json.readTree(plain.resolve("config.json").toFile()).get("architectures").get(0).asText());
      try (LlamaModel again = ModelWeights.load(exported.toString(), Precision.FLOAT32);
          LlamaModel plainAgain = ModelWeights.load(plain.toString(), Precision.FLOAT32)) {
        assertEquals(model.config(), again.config(), "the config reads back identically");
        for (Map.Entry<String, ai.djl.ndarray.NDArray> p : model.parameters().entrySet()) {
          assertArrayEquals(p.getValue().toFloatArray(), again.parameters().get(p.getKey()).toFloatArray(), p.getKey());
          assertArrayEquals(p.getValue().toFloatArray(), plainAgain.parameters().get(p.getKey()).toFloatArray(), p.getKey());
        }
        assertArrayEquals(MemoryAttentionTest.logits(model, longInput), MemoryAttentionTest.logits(again, longInput));
        assertNull(plainAgain.config().memory());
        assertEquals(model.config().withMemory(null), plainAgain.config());
        float[] remembering = MemoryAttentionTest.logits(model, shortInput);
        float[] plainLogits = MemoryAttentionTest.logits(plainAgain, shortInput);
        for (int i = 0; i < remembering.length; i++) { // the grouping chunks the queries: float rounding only
          assertEquals(remembering[i], plainLogits[i], 1e-5, "within the last context the memory model is the plain one");
        }
      }
    }
  }
}
