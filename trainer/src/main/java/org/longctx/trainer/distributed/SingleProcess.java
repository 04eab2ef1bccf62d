package org.longctx.trainer.distributed;

import java.util.List;
import org.longctx.trainer.optim.Gradients;

/** One replica: nothing to exchange. */
public final class SingleProcess implements Collective {

  public static final SingleProcess INSTANCE = new SingleProcess();

  private SingleProcess() {}

  @Override
  public int rank() {
    return 0;
  }

  @Override
  public int worldSize() {
    return 1;
  }

  @Override
  public void averageGradients(Gradients gradients) {}

  @Override
  public double average(double value) {
    return value;
  }

  @Override
  public List<String> allGather(String value) {
    return List.of(value);
  }

  @Override
  public void barrier() {}
}
