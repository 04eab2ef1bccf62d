package org.longctx.trainer.recipes;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.checkpoints.training.CheckpointStore;
import org.longctx.checkpoints.training.LoadedCheckpoint;
import org.longctx.data.tokenizer.TextTokenizer;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.positional.PoseSample;
import org.longctx.positional.PoseSampler;
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
 * PoSE fine-tuning (positional skip-wise training, methods §2): the model trains on
 * {@code Lc = train.seq_len} tokens per example while its position ids span the target window
 * {@code Lt = train.target_len}, so it sees every relative distance up to {@code Lt − 1} at the
 * memory cost of {@code Lc}. The base model comes from {@code model.path} (a Hugging Face folder
 * or a longctx checkpoint); its rope is replaced by the {@code rope:} section (linear, ntk, yarn,
 * yarn_pose… at the target factor, {@code max_position_embeddings = Lt}), and that rope is what
 * checkpoints and the final export carry in {@code config.json}.
 *
 * <p>Each example is one document (prepared rows with {@code data.layout: documents} and/or
 * synthetic documents), cut to its first {@code 5·Lc} tokens as the reference tokenizes it;
 * {@link PoseSampler} picks the chunks and their skips: with {@code train.pose_chunks = 2} the
 * reference code's rule, otherwise the paper's N-chunk rule. The draws of document {@code i}
 * come from its own seeded generator, so a resumed run repeats them exactly. Documents shorter
 * than {@code Lc} give shorter examples, padded within the batch and masked out of the loss.
 *
 * <p>The step is {@link PretrainRecipe}'s: {@code grad_accum} micro-batches of
 * {@code batch_size} examples, then {@link OptimizerStep} (unscale, clip, skip non-finite,
 * AdamW, zero gradients).
 */
public final class PoseRecipe {
  private static final Logger LOG = LoggerFactory.getLogger(PoseRecipe.class);

  /** Salt of the per-document generator that draws PoSE's chunks and skips. */
  static final long POSE_SALT = 0x504F5345L; // "POSE"

  private PoseRecipe() {}

  public static TrainingResult run(TrainingRun run) throws IOException {
    TrainConfig train = run.train();
    Precision dtype = TrainingSupport.computeType(run.model());
    if (run.model().path().isEmpty()) {
      throw new IllegalArgumentException("model.path: the pose recipe extends an existing model; give a Hugging Face folder "
          + "or a longctx checkpoint (train one with train.recipe: pretrain)");
    }
    CheckpointStore store = TrainingSupport.store(run);
    Optional<LoadedCheckpoint> resumed = TrainingSupport.checkpointToResume(run, store);
    try (LoadedCheckpoint ckpt = resumed.orElse(null)) {
      TokenizerSpec tokenizerSpec = TrainingSupport.tokenizer(run.data(), TrainingSupport.modelFolder(run.model().path()),
          run.tokenizerDir());
      LlamaConfig base = TrainingSupport.readModelConfig(run.model().path());
      int lc = train.seqLen();
      int lt = train.targetLen();
      LlamaConfig config = base.withRope(TrainingSupport.ropeFor(base, run.rope(), lt));
      if (run.rope() == null) {
        LOG.warn("no rope: section: PoSE trains the model's own {} rope on positions up to {} without frequency scaling",
            base.rope().ropeType(), lt - 1);
      }
      checkTargetFactor(config, base, lc, lt);
      PoseSampler sampler = new PoseSampler(lc, lt);
      int padId = config.padTokenId() != null ? config.padTokenId() : 0;
      try (LlamaModel model = ckpt != null ? ModelWeights.load(config, ckpt.weights(), dtype, ai.djl.engine.Engine.getInstance().defaultDevice())
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
          LOG.info("pose: {} parameters; Lc {} → Lt {} (×{}), rope {} {}, {} chunks, {} × {} examples per step, {} steps{}",
              TrainingSupport.parameterCount(model), lc, lt, String.format("%.2f", lt / (double) lc), config.rope().ropeType(),
              config.rope().toConfig().keys(), train.poseChunks(), train.gradAccum(), train.batchSize(), train.steps(),
              ckpt == null ? "" : ", resuming at step " + step);
          LOG.info("data: synthetic {} of documents {}, prepared {}", train.synthetic().fraction(), data.taskShares(),
              data.prepared() == null ? "none" : data.prepared().location() + " (" + data.prepared().rows() + " rows)");
          return TrainingLoop.run("pose", run, store, ckpt, model, adamw, scaler, data, manager, () -> {
            List<int[]> rows = new ArrayList<>(train.batchSize());
            List<long[]> positions = new ArrayList<>(train.batchSize());
            for (int b = 0; b < train.batchSize(); b++) {
              TrainingData.Document doc = data.nextDocument();
              while (doc.tokens().length < 2) { // nothing to predict
                doc = data.nextDocument();
              }
              int[] ids = doc.tokens().length > TrainingSupport.POSE_DOCUMENT_FACTOR * lc
                  ? Arrays.copyOf(doc.tokens(), TrainingSupport.POSE_DOCUMENT_FACTOR * lc) : doc.tokens();
              SplittableRandom random = data.random(doc.index(), POSE_SALT);
              int chunks = Math.min(train.poseChunks(), Math.min(ids.length, lc));
              PoseSample sample = chunks == 2 ? sampler.sampleReference(ids.length, random) : sampler.sample(ids.length, chunks, random);
              rows.add(sample.select(ids));
              positions.add(sample.positionIds());
            }
            return Batch.of(rows, positions, padId);
          });
        }
      }
    }
  }

  /**
   * Warns when the rope's own factor does not match {@code Lt / L0}: PoSE pairs the skipped
   * positions with frequency scaling at the target factor (methods §2).
   */
  private static void checkTargetFactor(LlamaConfig config, LlamaConfig base, int lc, int lt) {
    Double factor = config.rope().toConfig().factor();
    double wanted = lt / (double) base.maxPositionEmbeddings();
    if (factor != null && Math.abs(factor - wanted) > 1e-6 * wanted) {
      LOG.warn("rope.factor {} differs from target_len / max_position_embeddings of the base model = {} / {} = {}",
          factor, lt, base.maxPositionEmbeddings(), wanted);
    }
    if (lc > base.maxPositionEmbeddings()) {
      LOG.warn("train.seq_len {} exceeds the base model's window {}", lc, base.maxPositionEmbeddings());
    }
  }
}
