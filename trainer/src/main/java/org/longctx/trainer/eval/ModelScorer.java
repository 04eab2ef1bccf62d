package org.longctx.trainer.eval;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.longctx.checkpoints.Storage;
import org.longctx.positional.RopeConfig;
import org.longctx.trainer.Generator;
import org.longctx.trainer.InferenceSettings;
import org.longctx.trainer.model.LlamaModel;
import org.longctx.trainer.model.Precision;
import org.longctx.trainer.model.ModelWeights;
import org.longctx.trainer.Perplexity;

/**
 * A model whose weights are read once, scored under any number of inference settings (rope
 * overrides such as a LongRoPE {@code long_factor} list, SelfExtend): each call runs on a view
 * ({@link LlamaModel#with}) that shares the weights and owns only its rope tables, so changing
 * the settings costs no reload. The numbers are those of loading the model and applying the
 * settings directly.
 *
 * <p>Three ways to get one: {@link #load} reads a model folder for this scorer alone (the
 * LongRoPE search); {@link #shared} hands out a lease on one copy per (location, dtype) for
 * the whole JVM, so evaluation tasks of several methods on the same model, running side by
 * side on an executor, read it once; {@link #over} scores a model already in memory.
 *
 * <p>Views are independent, so threads may score through the same weights at once; one
 * scorer object belongs to one thread at a time.
 */
public final class ModelScorer implements AutoCloseable {
  private static final AtomicLong LOADS = new AtomicLong();

  /** Shared models by (location, dtype); guarded by itself. */
  private static final Map<Key, Shared> SHARED = new HashMap<>();

  private final LlamaModel model;
  private final Runnable release;
  private boolean closed;

  private ModelScorer(LlamaModel model, Runnable release) {
    this.model = model;
    this.release = release;
  }

  /**
   * Reads the model at {@code location} (Hugging Face folder, step directory or checkpoint root;
   * local path or any Hadoop URI) for this scorer alone; closing the scorer frees it.
   *
   * @param dtype FLOAT32 or FLOAT16
   */
  public static ModelScorer load(String location, Precision dtype) throws IOException {
    LlamaModel model = read(location, dtype);
    return new ModelScorer(model, model::close);
  }

  /**
   * A lease on this JVM's one copy of the model at {@code location} in {@code dtype}, read by
   * the first lease. The copy stays loaded while any lease on it is open; closing the last
   * frees it, so nothing outlives the work that uses it.
   */
  public static ModelScorer shared(String location, Precision dtype) throws IOException {
    Shared entry;
    synchronized (SHARED) {
      entry = SHARED.computeIfAbsent(new Key(location, dtype), Shared::new);
      entry.users++;
    }
    try {
      return new ModelScorer(entry.model(), () -> release(entry));
    } catch (IOException | RuntimeException | Error e) {
      release(entry);
      throw e;
    }
  }

  /** Scores {@code model} (which the caller keeps and closes, after this scorer's views). */
  public static ModelScorer over(LlamaModel model) {
    return new ModelScorer(model, () -> {});
  }

  /** How many times a scorer has read model weights in this JVM (each {@link #load}, each first {@link #shared} lease). */
  public static long loads() {
    return LOADS.get();
  }

  /** The model as loaded, with its own rope and plain attention. */
  public LlamaModel model() {
    return model;
  }

  /**
   * A view of the weights with {@code settings}; close it before this scorer. It starts with
   * the loaded model's attention chunk ({@code model().setAttentionChunk} sets it for a scorer
   * of one's own).
   */
  public LlamaModel view(InferenceSettings settings) {
    checkOpen();
    return model.with(settings);
  }

  /** Runs {@code work} on a view with {@code settings} and closes the view. */
  public <T> T apply(InferenceSettings settings, Function<LlamaModel, T> work) {
    try (LlamaModel view = view(settings)) {
      return work.apply(view);
    }
  }

  /** Per-token negative log-likelihood of {@code ids} under {@code settings} ({@link Perplexity#of}). */
  public Perplexity.Result perplexity(InferenceSettings settings, int[] ids) {
    return apply(settings, view -> Perplexity.of(view, ids));
  }

  /** {@link #perplexity(InferenceSettings, int[])} with {@code rope} in place of the model's rope (plain attention). */
  public Perplexity.Result perplexity(RopeConfig rope, int[] ids) {
    return perplexity(new InferenceSettings(rope, null), ids);
  }

  /**
   * The tokens the model answers {@code prompt} with under {@code settings}: greedy, at most
   * {@link PasskeyPrompt#maxNewTokens} for {@code keyDigits}, stopping at a stop token. Decode
   * them and check with {@link PasskeyScore#isCorrect}.
   */
  public int[] answer(InferenceSettings settings, PasskeyPrompt prompt, int keyDigits, int... stopIds) {
    return apply(settings, view -> Generator.greedy(view, prompt.ids(), PasskeyPrompt.maxNewTokens(keyDigits), stopIds));
  }

  /** Frees the weights (a {@link #load}ed scorer), gives back the lease (a {@link #shared} one), or nothing ({@link #over}). */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      release.run();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("this scorer is closed");
    }
  }

  private static LlamaModel read(String location, Precision dtype) throws IOException {
    LlamaModel model = ModelWeights.load(Storage.path(location), dtype, Storage.defaultConf());
    LOADS.incrementAndGet();
    return model;
  }

  private static void release(Shared entry) {
    LlamaModel unused = null;
    synchronized (SHARED) {
      if (--entry.users == 0) {
        SHARED.remove(entry.key);
        unused = entry.model;
      }
    }
    if (unused != null) {
      unused.close();
    }
  }

  private record Key(String location, Precision dtype) {}

  /** One shared copy; {@code users} (guarded by {@link #SHARED}) counts its open leases. */
  private static final class Shared {
    private final Key key;
    private int users;
    private volatile LlamaModel model;

    Shared(Key key) {
      this.key = key;
    }

    /** The model, read by the first caller; later ones wait for it rather than read it again. */
    synchronized LlamaModel model() throws IOException {
      if (model == null) {
        model = read(key.location(), key.dtype());
      }
      return model;
    }
  }
}
