package org.longctx.trainer.recipes;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.checkpoints.training.CheckpointStore;
import org.longctx.checkpoints.training.LoadedCheckpoint;
import org.longctx.data.tokenizer.TextTokenizer;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.trainer.LlamaModel;
import org.longctx.trainer.ModelWeights;
import org.longctx.trainer.TrainConfig;
import org.longctx.trainer.metrics.MetricsLog;
import org.longctx.trainer.optim.AdamW;
import org.longctx.trainer.optim.LossScaler;
import org.longctx.trainer.optim.LrSchedule;
import org.longctx.trainer.optim.NamedParameter;
import org.longctx.trainer.optim.OptimizerStep;
import org.longctx.trainer.optim.StepOutcome;
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
    DataType dtype = TrainingSupport.computeType(run.model());
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
      try (LlamaModel model = ckpt != null ? ModelWeights.load(config, ckpt.weights(), dtype)
              : fromScratch ? LlamaModel.random(config, dtype, train.seed(), initStd(run))
              : TrainingSupport.loadWeights(run.model().path(), config, dtype);
          TextTokenizer tokenizer = TextTokenizer.create(tokenizerSpec, run.data().splitSpecialTokens());
          TrainingData data = TrainingData.open(train, run.data(), tokenizer, ckpt == null ? null : ckpt.state().dataCursor());
          NDManager manager = NDManager.newBaseManager()) {
        model.setAttentionChunk(run.model().attentionChunk());
        TrainingSupport.checkTokenizer(data, tokenizerSpec);
        List<NamedParameter> params = TrainingSupport.trainableParameters(model);
        try (AdamW adamw = TrainingSupport.adamW(train, params)) {
          LossScaler scaler = LossScaler.forParameterType(dtype);
          if (ckpt != null) {
            TrainingSupport.restore(ckpt, adamw, scaler);
          }
          OptimizerStep optimizer = new OptimizerStep(adamw, scaler, train.clippingThreshold());
          LrSchedule schedule = TrainingSupport.schedule(train);
          long step = ckpt == null ? 0 : ckpt.state().step();
          LOG.info("pretrain: {} parameters ({} layers, hidden {}, vocab {}), {} × {} rows of {} tokens per step, {} steps{}",
              TrainingSupport.parameterCount(model), config.numHiddenLayers(), config.hiddenSize(), config.vocabSize(),
              train.gradAccum(), train.batchSize(), train.seqLen(), train.steps(), ckpt == null ? "" : ", resuming at step " + step);
          LOG.info("data: synthetic {} of documents {}, prepared {}", train.synthetic().fraction(), data.taskShares(),
              data.prepared() == null ? "none" : data.prepared().location() + " (" + data.prepared().rows() + " rows)");

          List<Double> losses = new ArrayList<>();
          Path lastCheckpoint = ckpt == null ? null : run.checkpointDir().resolve(ckpt.directory().getName());
          long savedStep = ckpt == null ? -1 : step;
          MetricsLog metrics = step < train.steps() ? MetricsLog.open(run.outputDir(), train.steps(), step, train.logEvery()) : null;
          try {
            while (step < train.steps() && !run.stop().requested()) {
              double lossSum = 0;
              long tokens = 0;
              for (int micro = 0; micro < train.gradAccum(); micro++) {
                List<int[]> rows = new ArrayList<>(train.batchSize());
                for (int b = 0; b < train.batchSize(); b++) {
                  rows.add(train.packing().equals("whole") ? data.nextWholeDocuments(train.seqLen()) : data.nextTokens(train.seqLen()));
                }
                Batch batch = Batch.of(rows, null, padId);
                try (NDManager scope = manager.newSubManager();
                    GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                  NDArray loss = batch.loss(model, scope); // float32 scalar
                  lossSum += loss.getFloat();
                  tokens += batch.tokens();
                  collector.backward(scaler.scaleLoss(loss, train.gradAccum()));
                }
              }
              double loss = lossSum / train.gradAccum();
              double lr = schedule.lr(step);
              StepOutcome outcome = optimizer.apply(loss, lr);
              step++;
              losses.add(loss);
              metrics.record(step, loss, lr, tokens, outcome);
              if (train.checkpointEvery() > 0 && step % train.checkpointEvery() == 0) {
                lastCheckpoint = TrainingSupport.save(run, store, step, model, adamw, scaler, data);
                savedStep = step;
              }
            }
            if (savedStep != step) {
              lastCheckpoint = TrainingSupport.save(run, store, step, model, adamw, scaler, data);
            }
            Path export = null;
            if (run.stop().requested()) {
              LOG.warn("stopped by {} after step {} of {}; checkpoint {}; continue with --resume", run.stop().reason(), step,
                  train.steps(), lastCheckpoint);
            } else if (train.exportAtEnd()) {
              export = TrainingSupport.export(run, lastCheckpoint);
            }
            return new TrainingResult("pretrain", step, train.steps(), run.stop().reason(), lastCheckpoint, export, losses,
                metrics == null ? null : metrics.finish());
          } finally {
            if (metrics != null) {
              metrics.close();
            }
          }
        }
      }
    }
  }

  /** transformers' initializer_range for a model from scratch. */
  private static double initStd(TrainingRun run) {
    return run.model().init() == null ? 0.02 : run.model().init().initializerRange();
  }
}
