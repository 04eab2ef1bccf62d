package org.longctx.trainer.eval;

import java.io.Serializable;
import java.util.List;

/**
 * The work of one Spark task: items of a single method, so the task loads one model.
 *
 * @param method the method
 * @param items what to run, longest first
 */
public record EvalTask(MethodSpec method, List<EvalItem> items) implements Serializable {

  public EvalTask {
    items = List.copyOf(items);
  }

  /** Relative cost of the task (see {@link EvalItem#cost()}). */
  public double cost() {
    return items.stream().mapToDouble(EvalItem::cost).sum();
  }
}
