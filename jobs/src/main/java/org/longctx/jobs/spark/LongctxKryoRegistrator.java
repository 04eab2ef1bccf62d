package org.longctx.jobs.spark;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import java.util.List;
import org.apache.spark.serializer.KryoRegistrator;
import org.longctx.jobs.ClusterCheckJob;

/**
 * Registers the classes longctx moves between Spark tasks, so Kryo writes a small id instead
 * of the class name. Records cannot be rebuilt by Kryo's field serializer (their fields are
 * final and reflection may not set them), so they go through Java serialization.
 */
public final class LongctxKryoRegistrator implements KryoRegistrator {

  /** Every project class that crosses a task boundary; add new ones here. */
  static final List<Class<?>> CLASSES = List.of(ClusterCheckJob.TaskReport.class,
      org.longctx.data.prepare.PrepareContext.class,
      org.longctx.data.prepare.PartTask.class,
      org.longctx.data.prepare.PartResult.class,
      org.longctx.trainer.eval.EvalTask.class,
      org.longctx.trainer.eval.EvalInputs.class,
      org.longctx.trainer.eval.EvalOutput.class,
      org.longctx.trainer.eval.EvalDocument.class,
      org.longctx.jobs.SearchScoring.Item.class,
      org.longctx.jobs.SearchScoring.Score.class);

  @Override
  public void registerClasses(Kryo kryo) {
    for (Class<?> type : CLASSES) {
      if (type.isRecord()) {
        kryo.register(type, new JavaSerializer());
      } else {
        kryo.register(type);
      }
    }
  }
}
