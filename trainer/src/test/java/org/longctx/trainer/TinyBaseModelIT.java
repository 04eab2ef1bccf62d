package org.longctx.trainer;

import org.longctx.trainer.model.Precision;
import org.longctx.trainer.model.ModelWeights;
import org.longctx.trainer.model.LlamaModel;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.longctx.data.tokenizer.TextTokenizer;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.trainer.eval.PasskeyPrompt;
import org.longctx.trainer.eval.PasskeyScore;

/**
 * The committed tiny base model ({@code models/tiny-base}, window 512) retrieves pass keys
 * inside its window: greedy decoding, exact match of the key, on prompts it never saw (seed 777;
 * its training data used other seeds) over 300–512 tokens and key depths 0–1.
 */
@Tag("integration")
class TinyBaseModelIT {
  static final Path MODEL = Path.of("..", "models", "tiny-base");
  static final int[] LENGTHS = {300, 350, 400, 450, 512};
  static final double[] DEPTHS = {0.0, 0.33, 0.67, 1.0};
  static final int TRIALS = 2;

  @Test
  void retrievesPassKeysInsideItsWindow() throws Exception {
    TokenizerSpec spec = TokenizerSpec.of(Files.readAllBytes(MODEL.resolve("tokenizer.json")),
        Files.readAllBytes(MODEL.resolve("tokenizer_config.json")), MODEL.toString(), "", "");
    List<String> misses = new ArrayList<>();
    int prompts = 0;
    try (LlamaModel model = ModelWeights.load(MODEL.toString(), Precision.FLOAT32);
        TextTokenizer tokenizer = TextTokenizer.create(spec, true)) {
      assertTrue(model.config().maxPositionEmbeddings() == 512, "the tiny base's window is 512");
      PasskeyPrompt.Encoder encoder = PasskeyPrompt.Encoder.of(tokenizer, spec.bosId());
      for (int length : LENGTHS) {
        for (double depth : DEPTHS) {
          for (int trial = 0; trial < TRIALS; trial++) {
            PasskeyPrompt prompt = PasskeyPrompt.create(encoder, 777, length, depth, trial, 5);
            int[] generated = Generator.greedy(model, prompt.ids(), PasskeyPrompt.maxNewTokens(5), spec.eosId());
            String answer = tokenizer.decode(generated);
            prompts++;
            if (!PasskeyScore.isCorrect(answer, prompt.key())) {
              misses.add(length + " tokens, depth " + depth + ": key " + prompt.key() + ", answered '" + answer + "'");
            }
          }
        }
      }
    }
    double accuracy = 1.0 - misses.size() / (double) prompts;
    assertTrue(accuracy >= 0.9, "accuracy " + accuracy + " over " + prompts + " prompts; misses: " + misses);
  }
}
