package org.longctx.trainer.metrics;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.longctx.trainer.optim.StepOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes training metrics: every step one JSON line appended to {@code metrics.jsonl} (flushed
 * at once, so a crash loses nothing logged), every {@code consoleEvery} steps a progress line
 * at INFO,
 * <pre>
 * step 120/1000 | loss 3.2145 | lr 2.95e-04 | grad_norm 0.873 | 12,345 tok/s | scale 65536 | ETA 0:12:34
 * </pre>
 * and at the end {@code summary.json} ({@link TrainSummary}), also logged.
 *
 * <p>A resumed run appends to the same {@code metrics.jsonl}; give {@code firstStep} (steps
 * completed before this process, the checkpoint it resumed) so the ETA counts only this
 * process's speed. Lines a crashed run wrote after its last checkpoint are dropped when the file
 * is opened (those steps run again), so every step appears exactly once.
 */
public final class MetricsLog implements Closeable {

  public static final String METRICS_FILE = "metrics.jsonl";
  public static final String SUMMARY_FILE = "summary.json";
  /** The summary's mean loss covers this many final steps. */
  public static final int SUMMARY_WINDOW = 20;

  private static final Logger LOG = LoggerFactory.getLogger(MetricsLog.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path directory;
  private final long totalSteps;
  private final long firstStep;
  private final int consoleEvery;
  private final LongSupplier nanoClock;
  private final Consumer<String> console;
  private final BufferedWriter out;
  private final long startNanos;
  private final Deque<Double> recentLosses = new ArrayDeque<>();
  private long lastNanos;
  private long tokens;
  private StepMetrics last;
  private long stepsThisRun;

  private MetricsLog(Path directory, long totalSteps, long firstStep, int consoleEvery, LongSupplier nanoClock,
      Consumer<String> console) throws IOException {
    if (totalSteps < 1) {
      throw new IllegalArgumentException("steps: must be >= 1, got " + totalSteps);
    }
    if (firstStep < 0 || firstStep > totalSteps) {
      throw new IllegalArgumentException("first step: must be in [0, " + totalSteps + "], got " + firstStep);
    }
    if (consoleEvery < 1) {
      throw new IllegalArgumentException("log_every: must be >= 1, got " + consoleEvery);
    }
    this.directory = directory;
    this.totalSteps = totalSteps;
    this.firstStep = firstStep;
    this.consoleEvery = consoleEvery;
    this.nanoClock = nanoClock;
    this.console = console;
    Files.createDirectories(directory);
    dropStepsAfter(directory.resolve(METRICS_FILE), firstStep);
    this.out = Files.newBufferedWriter(directory.resolve(METRICS_FILE), StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    this.startNanos = nanoClock.getAsLong();
    this.lastNanos = startNanos;
  }

  /**
   * Rewrites {@code file} without the lines of steps after {@code lastKept}: a run that crashed
   * (or whose Spark stage was retried) logged steps past its last checkpoint, and the resumed
   * run logs them again. Written to a temporary file and moved over, so a crash here loses
   * nothing.
   */
  static void dropStepsAfter(Path file, long lastKept) throws IOException {
    if (!Files.exists(file)) {
      return;
    }
    java.util.List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    java.util.List<String> kept = new java.util.ArrayList<>(lines.size());
    for (String line : lines) {
      if (line.isBlank()) {
        continue;
      }
      long step;
      try {
        step = JSON.readTree(line).path("step").asLong(Long.MAX_VALUE);
      } catch (IOException e) {
        step = Long.MAX_VALUE; // a line cut by a crash: its step runs again
      }
      if (step <= lastKept) {
        kept.add(line);
      }
    }
    if (kept.size() == lines.size()) {
      return;
    }
    LOG.info("{}: dropped {} line(s) of steps after {} (they run again from the checkpoint)", file, lines.size() - kept.size(),
        lastKept);
    Path tmp = file.resolveSibling(METRICS_FILE + ".tmp");
    Files.write(tmp, kept, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /**
   * Opens (appending) {@code directory/metrics.jsonl}; the clock starts now.
   *
   * @param totalSteps steps the run is configured for
   * @param firstStep steps completed before this process (0 for a fresh run)
   * @param consoleEvery a progress line every this many steps (and at the first and last)
   */
  public static MetricsLog open(Path directory, long totalSteps, long firstStep, int consoleEvery) throws IOException {
    return new MetricsLog(directory, totalSteps, firstStep, consoleEvery, System::nanoTime, LOG::info);
  }

  /** For tests: an explicit clock and console. */
  static MetricsLog open(Path directory, long totalSteps, long firstStep, int consoleEvery, LongSupplier nanoClock,
      Consumer<String> console) throws IOException {
    return new MetricsLog(directory, totalSteps, firstStep, consoleEvery, nanoClock, console);
  }

  /**
   * Logs a finished optimizer step.
   *
   * @param step steps completed, this one included (1-based)
   * @param loss the step's mean unscaled loss
   * @param lr learning rate it used
   * @param stepTokens tokens it trained on
   * @param outcome what {@link org.longctx.trainer.optim.OptimizerStep} reported
   */
  public StepMetrics record(long step, double loss, double lr, long stepTokens, StepOutcome outcome) throws IOException {
    return record(step, loss, lr, outcome.gradNorm(), stepTokens, outcome.lossScale(), !outcome.applied(),
        outcome.skippedSteps());
  }

  /** Logs a finished optimizer step from its separate numbers (see {@link StepMetrics}). */
  public StepMetrics record(long step, double loss, double lr, double gradNorm, long stepTokens, double lossScale,
      boolean skipped, long skippedSteps) throws IOException {
    if (step <= firstStep) {
      throw new IllegalArgumentException("step: must be > first step " + firstStep + " (1-based count), got " + step);
    }
    if (stepTokens < 0) {
      throw new IllegalArgumentException("tokens: must be >= 0, got " + stepTokens);
    }
    long now = nanoClock.getAsLong();
    double stepSeconds = (now - lastNanos) / 1e9;
    lastNanos = now;
    double elapsed = (now - startNanos) / 1e9;
    double tokensPerS = stepSeconds > 0 ? stepTokens / stepSeconds : Double.NaN;
    StepMetrics m = new StepMetrics(step, loss, lr, gradNorm, stepTokens, tokensPerS, lossScale, skipped,
        skippedSteps, elapsed);
    out.write(JSON.writeValueAsString(m));
    out.write('\n');
    out.flush();
    tokens += stepTokens;
    stepsThisRun++;
    last = m;
    if (Double.isFinite(loss)) {
      recentLosses.addLast(loss);
      if (recentLosses.size() > SUMMARY_WINDOW) {
        recentLosses.removeFirst();
      }
    }
    if (stepsThisRun == 1 || step % consoleEvery == 0 || step >= totalSteps) {
      console.accept(progressLine(m));
    }
    return m;
  }

  /** The console line for a step. */
  String progressLine(StepMetrics m) {
    long done = m.step() - firstStep;
    double secondsPerStep = done > 0 ? m.elapsedS() / done : Double.NaN;
    double eta = secondsPerStep * Math.max(0, totalSteps - m.step());
    return String.format(Locale.ROOT, "step %d/%d | loss %.4f | lr %.2e | grad_norm %.3g | %,.0f tok/s | scale %.0f"
        + " | ETA %s%s", m.step(), totalSteps, m.loss(), m.lr(), m.gradNorm(), m.tokensPerS(), m.lossScale(),
        duration(eta), m.skipped() ? " | SKIPPED (non-finite, " + m.skippedSteps() + " so far)" : "");
  }

  /** {@code h:mm:ss}, or {@code ?} before the speed is known. */
  static String duration(double seconds) {
    if (!Double.isFinite(seconds) || seconds < 0) {
      return "?";
    }
    long s = Math.round(seconds);
    return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  }

  /** The summary so far (NaN losses before any step). */
  public TrainSummary summary() {
    double elapsed = (lastNanos - startNanos) / 1e9;
    double mean = recentLosses.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    return new TrainSummary(
        last == null ? firstStep : last.step(), totalSteps, stepsThisRun,
        last == null ? 0 : last.skippedSteps(),
        last == null ? Double.NaN : last.loss(), mean,
        last == null ? Double.NaN : last.lr(),
        last == null ? Double.NaN : last.lossScale(),
        tokens, elapsed, elapsed > 0 ? tokens / elapsed : Double.NaN);
  }

  /** Writes {@code summary.json} (replacing an older one), logs it, and returns it. */
  public TrainSummary finish() throws IOException {
    TrainSummary s = summary();
    Path tmp = directory.resolve(SUMMARY_FILE + ".tmp");
    Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(s) + "\n",
        StandardCharsets.UTF_8);
    Files.move(tmp, directory.resolve(SUMMARY_FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    console.accept(String.format(Locale.ROOT, "done: %d/%d steps (%d this run, %d skipped) | final loss %.4f"
        + " | mean loss of last %d %.4f | %,d tokens in %s | %,.0f tok/s", s.steps(), s.totalSteps(),
        s.stepsThisRun(), s.skippedSteps(), s.finalLoss(), Math.min(SUMMARY_WINDOW, recentLosses.size()),
        s.meanLossLast(), s.tokens(), duration(s.elapsedS()), s.tokensPerS()));
    return s;
  }

  /** The folder holding the files. */
  public Path directory() {
    return directory;
  }

  @Override
  public void close() throws IOException {
    out.close();
  }
}
