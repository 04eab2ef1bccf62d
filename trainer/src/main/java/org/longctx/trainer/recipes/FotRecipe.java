package org.longctx.trainer.recipes;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.longctx.checkpoints.LlamaConfig;
import org.longctx.data.tokenizer.TokenizerSpec;
import org.longctx.trainer.FotConfig;
import org.longctx.trainer.TrainConfig;
import org.longctx.trainer.model.CrossBatch;
import org.longctx.trainer.model.LlamaModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Focused Transformer continued pretraining (docs/methods.md §4; CStanKonrad/long_llama
 * {@code fot_continued_pretraining}): the layers named by {@code fot.mem_layers} become memory
 * layers, trained with cross-batch attention — each batch entry's memory layers also attend to
 * the keys and values of up to {@code fot.cross_batch_range} earlier entries ({@link CrossBatch}).
 * With {@code fot.document_packing} k, documents are laid end to end and cut into packs of
 * {@code k · train.seq_len} tokens, one pack filling k consecutive entries (the reference's
 * {@code KPackingDAPipeline}, which also continues a short document with the next one), so an
 * entry's earlier entries hold the same document (positives) and the entries before them other
 * documents (negatives). Each entry predicts its own next tokens (positions {@code 0 … seq_len − 1}).
 *
 * <p>The model's {@code config.json} (checkpoints and export) is LongLLaMA's, with the memory
 * layers and {@code last_context_length}; so trained, the model reads inputs of any length
 * through memory.
 */
public final class FotRecipe implements Recipe {
  private static final Logger LOG = LoggerFactory.getLogger(FotRecipe.class);

  @Override
  public String name() {
    return "fot";
  }

  @Override
  public void validate(TrainingRun run) {
    if (run.model().path().isEmpty()) {
      throw new IllegalArgumentException("model.path: the fot recipe extends an existing model; give a Hugging Face folder "
          + "or a longctx checkpoint (train one with train.recipe: pretrain)");
    }
    if (run.rope() != null) {
      throw new IllegalArgumentException("rope: the fot recipe keeps the model's rope (LongLLaMA's memory layers use no rope "
          + "scaling); remove the rope: section");
    }
    if (run.pose() != null && run.pose().targetLen() != 0) {
      throw new IllegalArgumentException("pose.target_len: only the pose recipe uses it; leave it 0 for fot, got "
          + run.pose().targetLen());
    }
    fot(run).checkAgainst(run.train());
  }

  private static FotConfig fot(TrainingRun run) {
    return run.fot() == null ? FotConfig.defaults() : run.fot();
  }

  @Override
  public LlamaConfig modelConfig(TrainingRun run, TokenizerSpec tokenizer) throws IOException {
    LlamaConfig base = TrainingSession.readModelConfig(run.model().path());
    LlamaConfig config = base.withMemory(fot(run).memoryFor(base));
    if (run.train().seqLen() > config.maxPositionEmbeddings()) {
      LOG.warn("train.seq_len {} exceeds the model's window {}", run.train().seqLen(), config.maxPositionEmbeddings());
    }
    return config;
  }

  @Override
  public MicroBatches start(TrainingSession session) {
    TrainConfig train = session.run().train();
    FotConfig fot = fot(session.run());
    CrossBatch crossBatch = fot.crossBatch();
    LlamaConfig config = session.model().config();
    int length = train.seqLen();
    int k = fot.documentPacking();
    int padId = config.padTokenId() != null ? config.padTokenId() : 0;
    LOG.info("fot: {} parameters; memory layers {}, last context {}, cross-batch range {}, document packing {} "
            + "(other entries attended per entry: {}), {} × {} entries of {} tokens per step, {} steps{}",
        TrainingSession.parameterCount(session.model()), config.memory().layers(), config.memory().lastContextLength(),
        crossBatch.range(), k, Arrays.toString(crossBatch.allowedContexts(train.batchSize())), train.gradAccum(),
        train.batchSize(), length, train.steps(), session.startStep() == 0 ? "" : ", resuming at step " + session.startStep());
    TrainingData data = session.data();
    return scope -> {
      List<int[]> rows = new ArrayList<>(train.batchSize());
      for (int pack = 0; pack < train.batchSize() / k; pack++) {
        int[] tokens = data.nextTokens(k * length);
        for (int entry = 0; entry < k; entry++) {
          rows.add(Arrays.copyOfRange(tokens, entry * length, (entry + 1) * length));
        }
      }
      // a view whose memory layers attend across the batch; it owns only rope tables, freed with it
      try (LlamaModel crossBatchView = session.model().withCrossBatch(crossBatch)) {
        return Recipe.of(Batch.of(rows, null, padId), crossBatchView, scope);
      }
    };
  }
}
