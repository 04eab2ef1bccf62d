package org.longctx.checkpoints.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;

/**
 * The small, non-tensor part of a training checkpoint, stored as {@code state.json} and
 * {@code experiment.json}.
 *
 * @param step optimizer steps completed
 * @param rng random-generator states, as the trainer chooses to record them (opaque here)
 * @param dataCursor where the data stream resumes (opaque here; the data reader defines it)
 * @param experiment the fully resolved experiment config the run uses (opaque here)
 */
public record TrainingState(long step, JsonNode rng, JsonNode dataCursor, JsonNode experiment) {

  public TrainingState {
    if (step < 0) {
      throw new IllegalArgumentException("step: must be ≥ 0, got " + step);
    }
    rng = rng == null ? NullNode.getInstance() : rng.deepCopy();
    dataCursor = dataCursor == null ? NullNode.getInstance() : dataCursor.deepCopy();
    experiment = experiment == null ? NullNode.getInstance() : experiment.deepCopy();
  }

  @Override
  public JsonNode rng() {
    return rng.deepCopy();
  }

  @Override
  public JsonNode dataCursor() {
    return dataCursor.deepCopy();
  }

  @Override
  public JsonNode experiment() {
    return experiment.deepCopy();
  }
}
