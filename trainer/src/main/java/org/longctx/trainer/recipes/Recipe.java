package org.longctx.trainer.recipes;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.model.Precision;

/**
 * A training procedure, plugged into the shared {@link TrainingSession} (store, resume,
 * tokenizer, model, optimizer, loss scaler, data) and the one step loop ({@link TrainingLoop}).
 * A recipe supplies only what differs: its checks, the architecture and rope it trains, how a
 * fresh model is made, and its micro-batches with their loss. A new recipe is one class here
 * plus one line in {@link Recipes}.
 */
public interface Recipe {

  /** The {@code train.recipe} value that selects it. */
  String name();

  /** Checks the run's config sections before anything is loaded; throws naming the key. */
  void validate(TrainingRun run);

  /** The architecture and rope this run trains (what checkpoints and the export carry). */
  LlamaConfig modelConfig(TrainingRun run, TokenizerSpec tokenizer) throws IOException;

  /** The model to start from when there is no checkpoint to resume: by default {@code model.path}'s weights. */
  default LlamaModel freshModel(TrainingRun run, LlamaConfig config, Precision precision, Device device) throws IOException {
    return TrainingSession.loadWeights(run.model().path(), config, precision, device);
  }

  /** Starts this run's micro-batches; the source may keep state from one micro-batch to the next. */
  MicroBatches start(TrainingSession session);

  /** A recipe's micro-batches, one per call, each with its loss. */
  interface MicroBatches {
    /**
     * The next micro-batch's loss: a float32 scalar in {@code scope}, differentiable in the
     * model's parameters. Arrays made from Java data must live in {@code scope}, which stays
     * open until backward has run (see {@link org.longctx.trainer.model.Scalars}).
     */
    Loss next(NDManager scope);
  }

  /**
   * @param value the mean loss of the micro-batch
   * @param tokens real (unpadded) input tokens it held
   */
  record Loss(NDArray value, long tokens) {}

  /** A micro-batch of a {@link Batch}: its mean next-token cross-entropy. */
  static Loss of(Batch batch, LlamaModel model, NDManager scope) {
    return new Loss(batch.loss(model, scope), batch.tokens());
  }
}
