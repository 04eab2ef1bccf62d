package org.longctx.jobs;

/**
 * Run in a child JVM by {@link SparkFreeTrainIT}: exits 0 when every class named on the command
 * line loads, 3 at the first that does not (so a test can tell what a classpath holds).
 */
public final class ClassProbe {
  private ClassProbe() {}

  public static void main(String[] names) {
    for (String name : names) {
      try {
        Class.forName(name, false, ClassProbe.class.getClassLoader());
      } catch (ClassNotFoundException | LinkageError e) {
        System.out.println("missing: " + name);
        System.exit(3);
      }
    }
    System.exit(0);
  }
}
