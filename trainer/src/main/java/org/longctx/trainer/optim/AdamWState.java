package org.longctx.trainer.optim;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything {@link AdamW} needs to continue a run bitwise-identically: the number of applied
 * steps and, per parameter {@code <p>}, the float32 arrays
 * <ul>
 *   <li>{@code exp_avg.<p>}: first moment {@code m} (torch's {@code state["exp_avg"]}),</li>
 *   <li>{@code exp_avg_sq.<p>}: second moment {@code v} ({@code state["exp_avg_sq"]}),</li>
 *   <li>{@code master.<p>}: the float32 master weights, for float16 parameters only (the
 *       float16 parameter is a rounding of it and cannot restore it).</li>
 * </ul>
 *
 * @param step optimizer steps applied so far (skipped steps are not counted); drives the bias
 *     correction
 * @param tensors named arrays in parameter order
 */
public record AdamWState(long step, Map<String, FloatTensor> tensors) {

  public static final String EXP_AVG = "exp_avg.";
  public static final String EXP_AVG_SQ = "exp_avg_sq.";
  public static final String MASTER = "master.";

  public AdamWState {
    if (step < 0) {
      throw new IllegalArgumentException("step: must be >= 0, got " + step);
    }
    tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
  }
}
