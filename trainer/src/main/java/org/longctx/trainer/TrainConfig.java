package org.longctx.trainer;

/**
 * The {@code train:} section of an experiment config.
 *
 * @param recipe the training procedure: pretrain or pose
 * @param steps optimizer steps to run
 * @param lr peak learning rate
 * @param seed seeds initialisation, data order and sampling
 */
public record TrainConfig(String recipe, int steps, double lr, long seed) {

  public TrainConfig {
    if (!"pretrain".equals(recipe) && !"pose".equals(recipe)) {
      throw new IllegalArgumentException("recipe: '" + recipe + "' is not allowed; allowed: pretrain, pose");
    }
    if (steps < 1) {
      throw new IllegalArgumentException("steps: must be >= 1, got " + steps);
    }
    if (!(lr > 0 && lr < 1)) {
      throw new IllegalArgumentException("lr: must be in (0, 1), got " + lr);
    }
  }

  public static TrainConfig defaults() {
    return new TrainConfig("pretrain", 100, 3e-4, 0);
  }
}
