package org.longctx.trainer.recipes;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.checkpoints.training.CheckpointStore;
import org.longctx.checkpoints.training.LoadedCheckpoint;
import org.longctx.data.tokenizer.TextTokenizer;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.model.Precision;
import org.longctx.trainer.model.ModelWeights;
import org.longctx.trainer.TrainConfig;
import org.longctx.trainer.optim.AdamW;
import org.longctx.trainer.optim.LossScaler;
import org.longctx.trainer.optim.NamedParameter;
import org.longctx.trainer.optim.OptimizerStep;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Causal language-model training on packed sequences: documents (prepared rows and/or synthetic
 * ones) are laid end to end and cut into rows of {@code seq_len} tokens with positions
 * {@code 0 … seq_len − 1}; every token predicts the next ({@code train.packing: whole} keeps
 * documents whole instead, padding rows). The model is created from
 * {@code model.init} with a seeded random initialisation (transformers' normal(0, 0.02)), or
 * continues from {@code model.path}. This is how the project makes its tiny base models.
 *
 * <p>One step = {@code grad_accum} micro-batches of {@code batch_size} rows, each in its own
 * array scope and gradient collector, then {@link OptimizerStep}: unscale, global-norm clip,
 * skip on a non-finite loss or gradient, AdamW at the scheduled learning rate, zero gradients.
 * {@code optimizer.apply}'s hook is where gradients of several replicas would be all-reduced.
 */
public final class PretrainRecipe {
  private static final Logger LOG = LoggerFactory.getLogger(PretrainRecipe.class);

  private PretrainRecipe() {}

  public static TrainingResult run(TrainingRun run) throws IOException {
    TrainConfig train = run.train();
    Precision dtype = TrainingSupport.computeType(run.model());
    CheckpointStore store = TrainingSupport.store(run);
    Optional<LoadedCheckpoint> resumed = TrainingSupport.checkpointToResume(run, store);
    try (LoadedCheckpoint ckpt = resumed.orElse(null)) {
      boolean fromScratch = run.model().path().isEmpty();
      TokenizerSpec tokenizerSpec = TrainingSupport.tokenizer(run.data(),
          fromScratch ? null : TrainingSupport.modelFolder(run.model().path()), run.tokenizerDir());
      LlamaConfig config = fromScratch
          ? TrainingSupport.initConfig(run.model().init(), run.rope(), tokenizerSpec)
          : TrainingSupport.readModelConfig(run.model().path());
      if (!fromScratch && run.rope() != null) {
        config = config.withRope(TrainingSupport.ropeFor(config, run.rope(), config.maxPositionEmbeddings()));
      }
      if (train.seqLen() > config.maxPositionEmbeddings()) {
        LOG.warn("train.seq_len {} exceeds the model's max_position_embeddings {}", train.seqLen(), config.maxPositionEmbeddings());
      }
      int padId = config.padTokenId() != null ? config.padTokenId() : 0;
      try (LlamaModel model = ckpt != null ? ModelWeights.load(config, ckpt.weights(), dtype, ai.djl.engine.Engine.getInstance().defaultDevice())
              : fromScratch ? LlamaModel.random(config, dtype, train.seed(), initStd(run))
              : TrainingSupport.loadWeights(run.model().path(), config, dtype);
          TextTokenizer tokenizer = TextTokenizer.create(tokenizerSpec, run.data().splitSpecialTokens());
          TrainingData data = TrainingData.open(train, run.data(), tokenizer, ckpt == null ? null : ckpt.state().dataCursor());
          NDManager manager = NDManager.newBaseManager()) {
        model.setAttentionChunk(run.model().attentionChunk());
        TrainingSupport.checkTokenizer(data, tokenizerSpec);
        List<NamedParameter> params = TrainingSupport.trainableParameters(model);
        try (AdamW adamw = TrainingSupport.adamW(train, params)) {
          LossScaler scaler = LossScaler.forParameterType(dtype.dataType());
          if (ckpt != null) {
            TrainingSupport.restore(ckpt, adamw, scaler);
          }
          long step = ckpt == null ? 0 : ckpt.state().step();
          LOG.info("pretrain: {} parameters ({} layers, hidden {}, vocab {}), {} × {} rows of {} tokens per step, {} steps{}",
              TrainingSupport.parameterCount(model), config.numHiddenLayers(), config.hiddenSize(), config.vocabSize(),
              train.gradAccum(), train.batchSize(), train.seqLen(), train.steps(), ckpt == null ? "" : ", resuming at step " + step);
          LOG.info("data: synthetic {} of documents {}, prepared {}", train.synthetic().fraction(), data.taskShares(),
              data.prepared() == null ? "none" : data.prepared().location() + " (" + data.prepared().rows() + " rows)");
          boolean whole = train.packing().equals("whole");
          return TrainingLoop.run("pretrain", run, store, ckpt, model, adamw, scaler, data, manager, () -> {
            List<int[]> rows = new ArrayList<>(train.batchSize());
            for (int b = 0; b < train.batchSize(); b++) {
              rows.add(whole ? data.nextWholeDocuments(train.seqLen()) : data.nextTokens(train.seqLen()));
            }
            return Batch.of(rows, null, padId);
          });
        }
      }
    }
  }

  /** transformers' initializer_range for a model from scratch. */
  private static double initStd(TrainingRun run) {
    return run.model().init() == null ? 0.02 : run.model().init().initializerRange();
  }
}
