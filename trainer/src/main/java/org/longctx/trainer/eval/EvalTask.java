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

  /** Relative cost of the task: its items' ({@link EvalItem#cost()}) times the method's {@link MethodSpec#costFactor()}. */
  public double cost() {
    return method.costFactor() * items.stream().mapToDouble(EvalItem::cost).sum();
  }
}
