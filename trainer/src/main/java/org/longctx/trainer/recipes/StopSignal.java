package org.longctx.trainer.recipes;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A request to stop training early: the loop finishes the step it is in, saves a checkpoint and
 * returns. {@link #installOnSignals()} connects it to SIGTERM and SIGINT, so a scheduler's
 * {@code kill} (or Ctrl-C) costs no more than the current step; a second signal while the
 * checkpoint is being written ends the process at once.
 */
public final class StopSignal {
  private static final Logger LOG = LoggerFactory.getLogger(StopSignal.class);

  private final AtomicReference<String> reason = new AtomicReference<>();

  /** A signal nobody raises except through {@link #request}: tests, embedded use. */
  public static StopSignal manual() {
    return new StopSignal();
  }

  /**
   * A signal raised by SIGTERM and SIGINT. Uses the JDK's {@code sun.misc.Signal} (module
   * {@code jdk.unsupported}, present in every JDK 17) through reflection, so the JVM does not
   * start its shutdown and the loop can save and return normally; where that class is missing
   * a warning says that a kill will not save a checkpoint.
   */
  public static StopSignal installOnSignals() {
    StopSignal stop = new StopSignal();
    try {
      Class<?> signalClass = Class.forName("sun.misc.Signal");
      Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
      Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
      Object handler = Proxy.newProxyInstance(StopSignal.class.getClassLoader(), new Class<?>[] {handlerClass},
          (proxy, method, args) -> {
            if (method.getName().equals("handle")) {
              String name = "SIG" + signalClass.getMethod("getName").invoke(args[0]);
              if (!stop.request(name)) {
                LOG.warn("{} again while stopping: exiting without waiting for the checkpoint", name);
                Runtime.getRuntime().halt(128 + (int) signalClass.getMethod("getNumber").invoke(args[0]));
              }
              LOG.warn("{} received: finishing this step, saving a checkpoint, then stopping (send it again to exit at once)", name);
              return null;
            }
            return switch (method.getName()) {
              case "hashCode" -> System.identityHashCode(proxy);
              case "equals" -> proxy == args[0];
              default -> "longctx StopSignal handler";
            };
          });
      for (String name : new String[] {"TERM", "INT"}) {
        handle.invoke(null, signalClass.getConstructor(String.class).newInstance(name), handler);
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("cannot handle SIGTERM directly ({}); a kill will not save a checkpoint", e.toString());
    }
    return stop;
  }

  /**
   * Asks the loop to stop after its current step.
   *
   * @return false when a stop had already been requested
   */
  public boolean request(String why) {
    return reason.compareAndSet(null, why);
  }

  public boolean requested() {
    return reason.get() != null;
  }

  /** What asked for the stop (e.g. {@code SIGTERM}), or null. */
  public String reason() {
    return reason.get();
  }
}
