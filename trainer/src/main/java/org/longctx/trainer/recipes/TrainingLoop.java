package org.longctx.trainer.recipes;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.longctx.checkpoints.training.CheckpointStore;
import org.longctx.positional.HostReads;
import org.longctx.trainer.TrainConfig;
import org.longctx.trainer.distributed.Collective;
import org.longctx.trainer.metrics.MetricsLog;
import org.longctx.trainer.metrics.TrainSummary;
import org.longctx.trainer.optim.LossScaler;
import org.longctx.trainer.optim.LrSchedule;
import org.longctx.trainer.optim.OptimizerStep;
import org.longctx.trainer.optim.StepOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one step loop of every recipe. A step:
 * <pre>
 *   for each of grad_accum micro-batches:          (own array scope and gradient collector)
 *     loss = recipe's micro-batch loss; backward(loss · scale / grad_accum)
 *   collective.averageGradients                    (replicas agree on the gradient)
 *   unscale → clip → skip if non-finite → AdamW → zero gradients   ({@link OptimizerStep})
 *   metrics; checkpoint every checkpoint_every steps          (rank 0 writes)
 * </pre>
 * then a checkpoint at the end or on a stop request, and the Hugging Face export at the end.
 * The losses are read back to the host once per step, after the last backward, so the device
 * is never waited for in the middle of a step.
 */
final class TrainingLoop {
  private static final Logger LOG = LoggerFactory.getLogger(TrainingLoop.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private TrainingLoop() {}

  static TrainingResult run(TrainingSession session, Recipe.MicroBatches microBatches) throws IOException {
    TrainingRun run = session.run();
    TrainConfig train = run.train();
    Collective collective = session.collective();
    LossScaler scaler = session.scaler();
    OptimizerStep optimizer = new OptimizerStep(session.optimizer(), scaler, train.clippingThreshold());
    LrSchedule schedule = TrainingSession.schedule(train);
    long step = session.startStep();
    List<Double> losses = new ArrayList<>();
    Path lastCheckpoint = session.resumedFrom();
    long savedStep = lastCheckpoint == null ? -1 : step;
    boolean writes = collective.writes();
    MetricsLog metrics = null;
    if (writes && step < train.steps()) {
      RemoteMetrics.fetch(run);
      metrics = MetricsLog.open(run.metricsDir(), train.steps(), step, train.logEvery());
    }
    try (CpuThreads threads = CpuThreads.use(train.cpuThreads())) {
      while (step < train.steps() && !run.stop().requested()) {
        long tokens = 0;
        try (NDManager stepScope = session.manager().newSubManager()) {
          NDArray lossSum = null; // float32 scalar on the device, kept out of the graph
          for (int micro = 0; micro < train.gradAccum(); micro++) {
            try (NDManager scope = session.manager().newSubManager();
                GradientCollector collector = Engine.getInstance().newGradientCollector()) {
              Recipe.Loss loss = microBatches.next(scope);
              tokens += loss.tokens();
              NDArray detached = loss.value().stopGradient();
              detached.attach(stepScope);
              lossSum = lossSum == null ? detached : lossSum.add(detached);
              collector.backward(scaler.scaleLoss(loss.value(), train.gradAccum()));
            }
          }
          // replicas may hold different token counts (padding): the step's tokens are their sum
          long stepTokens = Math.round(collective.average(tokens) * collective.worldSize());
          double lr = schedule.lr(step);
          NDArray stepLoss = lossSum;
          // the loss is read (on a GPU, a wait for the device) once the optimizer has queued its gradient work
          StepOutcome outcome = optimizer.apply(() -> collective.average(HostReads.scalar(stepLoss) / train.gradAccum()), lr,
              collective::averageGradients);
          double loss = outcome.loss();
          step++;
          losses.add(loss);
          if (metrics != null) {
            metrics.record(step, loss, lr, stepTokens, outcome);
          }
        }
        if (train.checkpointEvery() > 0 && step % train.checkpointEvery() == 0) {
          lastCheckpoint = save(session, step, metrics != null);
          savedStep = step;
        }
      }
      if (savedStep != step) {
        lastCheckpoint = save(session, step, metrics != null);
      }
      Path export = null;
      if (run.stop().requested()) {
        LOG.warn("stopped by {} after step {} of {}; checkpoint {}; continue with --resume", run.stop().reason(), step,
            train.steps(), lastCheckpoint);
      } else if (train.exportAtEnd() && writes) {
        export = TrainingSession.export(run, lastCheckpoint);
      }
      TrainSummary summary = metrics == null ? null : metrics.finish();
      if (metrics != null) {
        RemoteMetrics.publish(run); // with the summary
      }
      return new TrainingResult(session.recipe().name(), step, train.steps(), run.stop().reason(), lastCheckpoint, export, losses,
          summary);
    } finally {
      if (metrics != null) {
        metrics.close();
      }
    }
  }

  /**
   * Rank 0 writes the checkpoint, with every replica's data cursor (each replica reads its own
   * shard); every replica waits for it, so none runs ahead of a checkpoint it may resume from.
   */
  private static Path save(TrainingSession session, long step, boolean publishMetrics) throws IOException {
    Collective collective = session.collective();
    List<String> cursors = collective.allGather(session.data().cursor().toString());
    Path dir;
    if (collective.writes()) {
      List<JsonNode> parsed = new ArrayList<>(cursors.size());
      for (String c : cursors) {
        parsed.add(JSON.readTree(c));
      }
      dir = session.save(step, TrainingData.combine(parsed));
      if (publishMetrics) {
        RemoteMetrics.publish(session.run()); // OUT's metrics reach the checkpoint a resume would start from
      }
    } else {
      dir = new Path(session.run().checkpointDir(), CheckpointStore.directoryName(step));
    }
    collective.barrier();
    return dir;
  }
}
