package org.longctx.trainer.recipes;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.positional.PoseSample;
import org.longctx.positional.PoseSampler;
import org.longctx.trainer.PoseConfig;
import org.longctx.trainer.TrainConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PoSE fine-tuning (positional skip-wise training, docs/methods.md §2): the model trains on
 * {@code Lc = train.seq_len} tokens per example while its position ids span the target window
 * {@code Lt = pose.target_len}, so it sees every relative distance up to {@code Lt − 1} at the
 * memory cost of {@code Lc}. The base model comes from {@code model.path} (a Hugging Face folder
 * or a longctx checkpoint); its rope is replaced by the {@code rope:} section (linear, ntk, yarn,
 * yarn_pose… at the target factor, {@code max_position_embeddings = Lt}), and that rope is what
 * checkpoints and the final export carry in {@code config.json}.
 *
 * <p>Each example is one document (prepared rows with {@code data.layout: documents} and/or
 * synthetic documents), cut to its first {@code 5·Lc} tokens as the reference tokenizes it;
 * {@link PoseSampler} picks the chunks and their skips: with {@code pose.chunks = 2} the
 * reference code's rule, otherwise the paper's N-chunk rule. The draws of document {@code i}
 * come from its own seeded generator, so a resumed run repeats them exactly. Documents shorter
 * than {@code Lc} give shorter examples, padded within the batch and masked out of the loss.
 */
public final class PoseRecipe implements Recipe {
  private static final Logger LOG = LoggerFactory.getLogger(PoseRecipe.class);

  /** Salt of the per-document generator that draws PoSE's chunks and skips. */
  static final long POSE_SALT = 0x504F5345L; // "POSE"

  /** Documents longer than this many times Lc are cut, as the PoSE reference tokenizes them. */
  public static final int DOCUMENT_FACTOR = 5;

  @Override
  public String name() {
    return "pose";
  }

  @Override
  public void validate(TrainingRun run) {
    if (run.model().path().isEmpty()) {
      throw new IllegalArgumentException("model.path: the pose recipe extends an existing model; give a Hugging Face folder "
          + "or a longctx checkpoint (train one with train.recipe: pretrain)");
    }
    pose(run).checkAgainst(run.train());
  }

  private static PoseConfig pose(TrainingRun run) {
    return run.pose() == null ? PoseConfig.defaults() : run.pose();
  }

  @Override
  public LlamaConfig modelConfig(TrainingRun run, TokenizerSpec tokenizer) throws IOException {
    LlamaConfig base = TrainingSession.readModelConfig(run.model().path());
    int lc = run.train().seqLen();
    int lt = pose(run).targetLen();
    LlamaConfig config = base.withRope(TrainingSession.ropeFor(base, run.rope(), lt));
    if (run.rope() == null) {
      LOG.warn("no rope: section: PoSE trains the model's own {} rope on positions up to {} without frequency scaling",
          base.rope().ropeType(), lt - 1);
    }
    checkTargetFactor(config, base, lc, lt);
    return config;
  }

  @Override
  public MicroBatches start(TrainingSession session) {
    TrainConfig train = session.run().train();
    PoseConfig pose = pose(session.run());
    LlamaConfig config = session.model().config();
    int lc = train.seqLen();
    int lt = pose.targetLen();
    PoseSampler sampler = new PoseSampler(lc, lt);
    int padId = config.padTokenId() != null ? config.padTokenId() : 0;
    LOG.info("pose: {} parameters; Lc {} → Lt {} (×{}), rope {} {}, {} chunks, {} × {} examples per step, {} steps{}",
        TrainingSession.parameterCount(session.model()), lc, lt, String.format("%.2f", lt / (double) lc), config.rope().ropeType(),
        config.rope().toConfig().keys(), pose.chunks(), train.gradAccum(), train.batchSize(), train.steps(),
        session.startStep() == 0 ? "" : ", resuming at step " + session.startStep());
    TrainingData data = session.data();
    return scope -> {
      List<int[]> rows = new ArrayList<>(train.batchSize());
      List<long[]> positions = new ArrayList<>(train.batchSize());
      for (int b = 0; b < train.batchSize(); b++) {
        TrainingData.Document doc = data.nextDocument();
        while (doc.tokens().length < 2) { // nothing to predict
          doc = data.nextDocument();
        }
        int[] ids = doc.tokens().length > DOCUMENT_FACTOR * lc ? Arrays.copyOf(doc.tokens(), DOCUMENT_FACTOR * lc) : doc.tokens();
        SplittableRandom random = data.random(doc.index(), POSE_SALT);
        int chunks = Math.min(pose.chunks(), Math.min(ids.length, lc));
        PoseSample sample = chunks == 2 ? sampler.sampleReference(ids.length, random) : sampler.sample(ids.length, chunks, random);
        rows.add(sample.select(ids));
        positions.add(sample.positionIds());
      }
      return Recipe.of(Batch.of(rows, positions, padId), session.model(), scope);
    };
  }

  /**
   * Warns when the rope's own factor does not match {@code Lt / L0}: PoSE pairs the skipped
   * positions with frequency scaling at the target factor (docs/methods.md §2).
   */
  private static void checkTargetFactor(LlamaConfig config, LlamaConfig base, int lc, int lt) {
    Double factor = config.rope().toConfig().factor();
    double wanted = lt / (double) base.maxPositionEmbeddings();
    if (factor != null && Math.abs(factor - wanted) > 1e-6 * wanted) {
      LOG.warn("rope.factor {} differs from pose.target_len / max_position_embeddings of the base model = {} / {} = {}",
          factor, lt, base.maxPositionEmbeddings(), wanted);
    }
    if (lc > base.maxPositionEmbeddings()) {
      LOG.warn("train.seq_len {} exceeds the base model's window {}", lc, base.maxPositionEmbeddings());
    }
  }
}
