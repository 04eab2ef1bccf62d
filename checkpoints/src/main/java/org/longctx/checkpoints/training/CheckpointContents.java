package org.longctx.checkpoints.training;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.longctx.checkpoints.safetensors.TensorEntry;

/**
 * Everything one checkpoint holds. Tensors are produced lazily by their entries, one at a time,
 * while the checkpoint is written.
 *
 * @param state step, RNG states, data cursor and resolved config
 * @param modelConfig the model's Hugging Face {@code config.json}, so the step directory is also a
 *     loadable model folder; null to leave it out
 * @param weights the model parameters, by Hugging Face name
 * @param optimizer the optimizer's tensors (moments etc.), by the optimizer's own names
 */
public record CheckpointContents(TrainingState state, JsonNode modelConfig, List<TensorEntry> weights, List<TensorEntry> optimizer) {

  public CheckpointContents {
    if (state == null) {
      throw new IllegalArgumentException("state: required");
    }
    modelConfig = modelConfig == null ? null : modelConfig.deepCopy();
    weights = List.copyOf(weights);
    optimizer = List.copyOf(optimizer);
  }
}
