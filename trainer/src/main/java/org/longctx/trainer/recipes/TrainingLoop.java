package org.longctx.trainer.recipes;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.longctx.checkpoints.training.CheckpointStore;
import org.longctx.checkpoints.training.LoadedCheckpoint;
import org.longctx.trainer.LlamaModel;
import org.longctx.trainer.TrainConfig;
import org.longctx.trainer.metrics.MetricsLog;
import org.longctx.trainer.optim.AdamW;
import org.longctx.trainer.optim.LossScaler;
import org.longctx.trainer.optim.LrSchedule;
import org.longctx.trainer.optim.OptimizerStep;
import org.longctx.trainer.optim.StepOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The step loop every recipe shares; a recipe only says how a micro-batch is made. One step =
 * {@code grad_accum} micro-batches, each forward/backward in its own array scope and gradient
 * collector, then {@link OptimizerStep} (unscale, clip, skip on non-finite, AdamW, zero
 * gradients), metrics, checkpoints every {@code checkpoint_every} steps, at the end and on a
 * stop request, and the Hugging Face export at the end.
 */
final class TrainingLoop {
  private static final Logger LOG = LoggerFactory.getLogger(TrainingLoop.class);

  private TrainingLoop() {}

  /**
   * Runs from the checkpoint's step (0 without one) to {@code train.steps}.
   *
   * @param recipe the recipe's name, for the result
   * @param nextBatch the next micro-batch of the recipe's data
   */
  static TrainingResult run(String recipe, TrainingRun run, CheckpointStore store, LoadedCheckpoint ckpt, LlamaModel model,
      AdamW adamw, LossScaler scaler, TrainingData data, NDManager manager, Supplier<Batch> nextBatch) throws IOException {
    TrainConfig train = run.train();
    OptimizerStep optimizer = new OptimizerStep(adamw, scaler, train.clippingThreshold());
    LrSchedule schedule = TrainingSupport.schedule(train);
    long step = ckpt == null ? 0 : ckpt.state().step();
    List<Double> losses = new ArrayList<>();
    Path lastCheckpoint = ckpt == null ? null : run.checkpointDir().resolve(ckpt.directory().getName());
    long savedStep = ckpt == null ? -1 : step;
    MetricsLog metrics = step < train.steps() ? MetricsLog.open(run.outputDir(), train.steps(), step, train.logEvery()) : null;
    try (CpuThreads threads = CpuThreads.use(train.cpuThreads())) {
      while (step < train.steps() && !run.stop().requested()) {
        double lossSum = 0;
        long tokens = 0;
        for (int micro = 0; micro < train.gradAccum(); micro++) {
          Batch batch = nextBatch.get();
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
      return new TrainingResult(recipe, step, train.steps(), run.stop().reason(), lastCheckpoint, export, losses,
          metrics == null ? null : metrics.finish());
    } finally {
      if (metrics != null) {
        metrics.close();
      }
    }
  }
}
