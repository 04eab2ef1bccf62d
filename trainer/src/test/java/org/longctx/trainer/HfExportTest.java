package org.longctx.trainer;

import org.longctx.trainer.model.Precision;
import org.longctx.trainer.model.ModelWeights;
import org.longctx.trainer.model.LlamaModel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.checkpoints.Storage;
import org.longctx.checkpoints.safetensors.HalfFloats;
import org.longctx.checkpoints.safetensors.SafetensorsDtype;
import org.longctx.checkpoints.safetensors.SafetensorsReader;
import org.longctx.checkpoints.training.CheckpointContents;
import org.longctx.checkpoints.training.CheckpointStore;
import org.longctx.checkpoints.training.TrainingState;

class HfExportTest {
  @TempDir Path dir;

  private HfExport.Result export(Path from, Path to, String dtype, long shard) throws IOException {
    return HfExport.export(Storage.path(from), Storage.path(to), dtype, shard, null, Storage.defaultConf());
  }

  private static List<String> files(Path folder) throws IOException {
    try (Stream<Path> s = Files.list(folder)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void float32ExportReimportsWithIdenticalLogits() throws IOException {
    Path out = dir.resolve("llama-out");
    HfExport.Result r = export(Golden.folder("llama-gqa-yarn"), out, "float32", 100_000);
    assertEquals(List.of("config.json", "generation_config.json", "model-00001-of-00003.safetensors",
        "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors", "model.safetensors.index.json"), files(out));
    assertEquals(r.files().size(), files(out).size());
    JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
    assertEquals("yarn", config.get("rope_parameters").get("rope_type").asText());
    assertEquals("yarn", config.get("rope_scaling").get("rope_type").asText());
    assertEquals(4.0, config.get("rope_scaling").get("factor").asDouble());
    assertEquals(16, config.get("rope_parameters").get("original_max_position_embeddings").asInt());
    assertEquals(10000.0, config.get("rope_theta").asDouble());
    assertEquals("float32", config.get("torch_dtype").asText());
    Golden.Case c = Golden.find("llama-gqa-yarn", "long");
    try (LlamaModel original = ModelWeights.load(Golden.folder("llama-gqa-yarn").toString(), Precision.FLOAT32);
        LlamaModel again = ModelWeights.load(out.toString(), Precision.FLOAT32)) {
      assertArrayEquals(LlamaModelParityTest.logits(original, c.inputIds(), null), LlamaModelParityTest.logits(again, c.inputIds(), null));
      assertTrue(Golden.maxAbsDiff(c.logits(), LlamaModelParityTest.logits(again, c.inputIds(), null)) <= 1e-4);
    }
  }

  @Test
  void bfloat16ExportRoundsEachWeightToNearestEven() throws IOException {
    Path out = dir.resolve("bf16");
    export(Golden.folder("qwen2-bias-tied"), out, "bfloat16", Long.MAX_VALUE);
    assertEquals(List.of("config.json", "generation_config.json", "model.safetensors"), files(out));
    try (SafetensorsReader original = SafetensorsReader.open(Golden.folder("qwen2-bias-tied"));
        SafetensorsReader exported = SafetensorsReader.open(out);
        ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
      assertEquals(original.names().stream().sorted().toList(), exported.names().stream().sorted().toList());
      for (String name : List.of("model.embed_tokens.weight", "model.layers.1.self_attn.k_proj.bias")) {
        assertEquals(SafetensorsDtype.BF16, exported.info(name).dtype());
        float[] f32 = original.read(m, name, DataType.FLOAT32).toFloatArray();
        java.nio.ByteBuffer raw = exported.bytes(name);
        for (int i = 0; i < f32.length; i++) {
          assertEquals(HalfFloats.floatToBf16(f32[i]), raw.getShort(2 * i), name + "[" + i + "]");
        }
      }
    }
    try (LlamaModel again = ModelWeights.load(out.toString(), Precision.FLOAT32)) {
      Golden.Case c = Golden.find("qwen2-bias-tied", "long");
      double diff = Golden.maxAbsDiff(c.logits(), LlamaModelParityTest.logits(again, c.inputIds(), null));
      assertTrue(diff > 1e-6 && diff < 0.5, "bfloat16 weights move the logits a little: " + diff);
    }
  }

  @Test
  void bfloat16SourceExportsExactlyToFloat32() throws IOException {
    Path out = dir.resolve("f32");
    export(Golden.folder("llama3-bf16"), out, "float32", Long.MAX_VALUE);
    try (LlamaModel again = ModelWeights.load(out.toString(), Precision.FLOAT32)) {
      assertEquals("llama3", again.config().rope().ropeType());
      Golden.Case c = Golden.find("llama3-bf16", "long");
      assertTrue(Golden.maxAbsDiff(c.logits(), LlamaModelParityTest.logits(again, c.inputIds(), null)) <= 1e-4);
    }
  }

  @Test
  void exportsTheLatestTrainingCheckpointWithItsTokenizer() throws IOException {
    Path root = dir.resolve("checkpoints");
    try (LlamaModel model = ModelWeights.load(Golden.folder("mistral-sharded").toString(), Precision.FLOAT32)) {
      JsonNode config = model.config().toHuggingFace("float32");
      CheckpointStore store = CheckpointStore.at(root.toString());
      store.save(new CheckpointContents(new TrainingState(5, null, null, null), config,
          ModelWeights.huggingFaceTensors(model, SafetensorsDtype.F32), List.of()));
      Path tokenizer = Files.createDirectories(dir.resolve("tok"));
      Files.writeString(tokenizer.resolve("tokenizer.json"), "{\"version\": \"1.0\"}");
      Path out = dir.resolve("from-checkpoint");
      HfExport.export(Storage.path(root), Storage.path(out), "float32", Long.MAX_VALUE, Storage.path(tokenizer), Storage.defaultConf());
      assertEquals(List.of("config.json", "generation_config.json", "model.safetensors", "tokenizer.json"), files(out));
      try (LlamaModel again = ModelWeights.load(out.toString(), Precision.FLOAT32)) {
        Golden.Case c = Golden.find("mistral-sharded", "long");
        assertArrayEquals(LlamaModelParityTest.logits(model, c.inputIds(), null), LlamaModelParityTest.logits(again, c.inputIds(), null));
      }
    }
  }

  @Test
  void anInMemoryModelSavesAsAHuggingFaceFolder() throws IOException {
    try (LlamaModel model = LlamaModelTest.model(LlamaModelTest.config(), 8)) {
      Path out = dir.resolve("saved");
      List<String> written = ModelWeights.saveHuggingFace(model, Storage.path(out), "float32", Long.MAX_VALUE, Storage.defaultConf());
      assertEquals(List.of("model.safetensors", "config.json", "generation_config.json"), written);
      long[] ids = LlamaModelTest.ids(19, 3);
      try (LlamaModel again = ModelWeights.load(out.toString(), Precision.FLOAT32)) {
        assertEquals("Qwen2ForCausalLM", again.config().architecture().className());
        assertArrayEquals(LlamaModelParityTest.logits(model, ids, null), LlamaModelParityTest.logits(again, ids, null));
      }
    }
  }

  @Test
  void refusesToWriteIntoAFolderWithFiles() throws IOException {
    Path out = Files.createDirectories(dir.resolve("busy"));
    Files.writeString(out.resolve("keep.txt"), "mine");
    IOException e = assertThrows(IOException.class, () -> export(Golden.folder("llama-gqa-yarn"), out, "float32", Long.MAX_VALUE));
    assertTrue(e.getMessage().contains("already exists and is not an empty folder"), e.getMessage());
    assertEquals(List.of("keep.txt"), files(out));
    assertEquals(List.of("busy"), files(dir), "no temporary folder left behind");
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> export(Golden.folder("llama-gqa-yarn"), dir.resolve("x"), "int8", 1));
    assertEquals("dtype: 'int8' is not allowed; allowed: float32, float16, bfloat16", bad.getMessage());
  }

  @Test
  void mismatchedWeightsAreNamed() throws IOException {
    Path broken = dir.resolve("broken");
    Files.createDirectories(broken);
    Files.copy(Golden.folder("qwen2-bias-tied").resolve("model.safetensors"), broken.resolve("model.safetensors"));
    // the same weights described as an untied Llama without biases
    com.fasterxml.jackson.databind.node.ObjectNode cfg = (com.fasterxml.jackson.databind.node.ObjectNode)
        new ObjectMapper().readTree(Golden.folder("qwen2-bias-tied").resolve("config.json").toFile());
    cfg.set("architectures", JsonNodeFactory.instance.arrayNode().add("LlamaForCausalLM"));
    cfg.put("tie_word_embeddings", false);
    Files.writeString(broken.resolve("config.json"), cfg.toString());
    IOException e = assertThrows(IOException.class, () -> ModelWeights.load(broken.toString(), Precision.FLOAT32));
    assertTrue(e.getMessage().contains("missing [lm_head.weight]"), e.getMessage());
    // six bias tensors: the message names the first five and the count
    assertTrue(e.getMessage().contains("not expected 6 tensors, the first 5: [model.layers.0.self_attn.k_proj.bias"), e.getMessage());
  }

  @Test
  void sizesParseLikeTransformers() {
    assertEquals(5_000_000_000L, HfExport.parseSize("5GB"));
    assertEquals(100_000L, HfExport.parseSize("100KB"));
    assertEquals(2L << 30, HfExport.parseSize("2GiB"));
    assertEquals(12345L, HfExport.parseSize("12345"));
    assertThrows(IllegalArgumentException.class, () -> HfExport.parseSize("lots"));
  }
}
