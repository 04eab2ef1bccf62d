package org.longctx.trainer.recipes;

import ai.djl.Device;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.trainer.TrainConfig;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.model.Precision;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Causal language-model training on packed sequences: documents (prepared rows and/or synthetic
 * ones) are laid end to end and cut into rows of {@code seq_len} tokens with positions
 * {@code 0 … seq_len − 1}; every token predicts the next ({@code train.packing: whole} keeps
 * documents whole instead, padding rows). The model is created from {@code model.init} with a
 * seeded random initialisation (transformers' normal(0, 0.02)), or continues from
 * {@code model.path}. This is how the project makes its tiny base models.
 */
public final class PretrainRecipe implements Recipe {
  private static final Logger LOG = LoggerFactory.getLogger(PretrainRecipe.class);

  @Override
  public String name() {
    return "pretrain";
  }

  @Override
  public void validate(TrainingRun run) {
    if (run.pose() != null && run.pose().targetLen() != 0) {
      throw new IllegalArgumentException("pose.target_len: only the pose recipe uses it; leave it 0 for pretrain, got "
          + run.pose().targetLen());
    }
  }

  @Override
  public LlamaConfig modelConfig(TrainingRun run, TokenizerSpec tokenizer) throws IOException {
    LlamaConfig config;
    if (run.model().path().isEmpty()) {
      config = TrainingSession.initConfig(run.model().init(), run.rope(), tokenizer);
    } else {
      config = TrainingSession.readModelConfig(run.model().path());
      if (run.rope() != null) {
        config = config.withRope(TrainingSession.ropeFor(config, run.rope(), config.maxPositionEmbeddings()));
      }
    }
    if (run.train().seqLen() > config.maxPositionEmbeddings()) {
      LOG.warn("train.seq_len {} exceeds the model's max_position_embeddings {}", run.train().seqLen(), config.maxPositionEmbeddings());
    }
    return config;
  }

  @Override
  public LlamaModel freshModel(TrainingRun run, LlamaConfig config, Precision precision, Device device) throws IOException {
    if (!run.model().path().isEmpty()) {
      return Recipe.super.freshModel(run, config, precision, device);
    }
    double std = run.model().init() == null ? 0.02 : run.model().init().initializerRange(); // transformers' initializer_range
    return LlamaModel.random(config, precision, device, run.train().seed(), std);
  }

  @Override
  public MicroBatches start(TrainingSession session) {
    TrainConfig train = session.run().train();
    LlamaConfig config = session.model().config();
    LOG.info("pretrain: {} parameters ({} layers, hidden {}, vocab {}), {} × {} rows of {} tokens per step, {} steps{}",
        TrainingSession.parameterCount(session.model()), config.numHiddenLayers(), config.hiddenSize(), config.vocabSize(),
        train.gradAccum(), train.batchSize(), train.seqLen(), train.steps(),
        session.startStep() == 0 ? "" : ", resuming at step " + session.startStep());
    int padId = config.padTokenId() != null ? config.padTokenId() : 0;
    boolean whole = train.packing().equals("whole");
    TrainingData data = session.data();
    return scope -> {
      List<int[]> rows = new ArrayList<>(train.batchSize());
      for (int b = 0; b < train.batchSize(); b++) {
        rows.add(whole ? data.nextWholeDocuments(train.seqLen()) : data.nextTokens(train.seqLen()));
      }
      return Recipe.of(Batch.of(rows, null, padId), session.model(), scope);
    };
  }
}
