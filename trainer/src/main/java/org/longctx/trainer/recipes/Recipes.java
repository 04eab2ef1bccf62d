package org.longctx.trainer.recipes;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The recipes {@code train.recipe} may name. */
public final class Recipes {
  private static final Map<String, Recipe> BY_NAME = new LinkedHashMap<>();

  static {
    for (Recipe r : List.of(new PretrainRecipe(), new PoseRecipe(), new FotRecipe())) {
      BY_NAME.put(r.name(), r);
    }
  }

  private Recipes() {}

  /** The names, in the order the docs list them. */
  public static List<String> names() {
    return List.copyOf(BY_NAME.keySet());
  }

  public static Recipe byName(String name) {
    Recipe r = BY_NAME.get(name);
    if (r == null) {
      throw new IllegalArgumentException("train.recipe: '" + name + "' is not allowed; allowed: " + String.join(", ", names()));
    }
    return r;
  }
}
