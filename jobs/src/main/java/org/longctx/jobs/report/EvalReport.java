package org.longctx.jobs.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.longctx.trainer.eval.EvalResults;
import org.longctx.trainer.eval.EvalResults.MethodInfo;
import org.longctx.trainer.eval.EvalResults.PasskeyResult;

/**
 * Writes an evaluation's files into a folder: {@code results.json}, one
 * {@code passkey-METHOD.png} heatmap per method, {@code passkey-by-length.png},
 * {@code perplexity.png} (when perplexity was measured) and {@code report.html}, which shows
 * the charts with the tables behind them and some wrong answers per method.
 */
public final class EvalReport {
  public static final String RESULTS = "results.json";
  public static final String HTML = "report.html";
  public static final String PASSKEY_BY_LENGTH = "passkey-by-length.png";
  public static final String PERPLEXITY = "perplexity.png";

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  /** Wrong answers listed per method in the report. */
  private static final int FAILURES_SHOWN = 6;

  private EvalReport() {}

  /** The heatmap file of {@code method}. */
  public static String heatmapFile(String method) {
    return "passkey-" + method + ".png";
  }

  /**
   * Writes every file into {@code dir} (created if needed; existing files of these names are
   * replaced).
   *
   * @param title the report's heading (the experiment's name)
   * @return the files written, in the order written
   */
  public static List<Path> write(EvalResults results, Path dir, String title) throws IOException {
    Files.createDirectories(dir);
    List<Path> written = new ArrayList<>();
    Path json = dir.resolve(RESULTS);
    Files.writeString(json, JSON.writeValueAsString(results.toJson()) + "\n", StandardCharsets.UTF_8);
    written.add(json);
    boolean passkey = !results.passkey().isEmpty();
    boolean perplexity = !results.perplexity().isEmpty();
    int window = window(results);
    if (passkey) {
      for (String method : results.methodNames()) {
        double[][] grid = new double[results.passkeyLengths().size()][results.depths().size()];
        for (int i = 0; i < grid.length; i++) {
          for (int j = 0; j < grid[i].length; j++) {
            grid[i][j] = results.passkeyAccuracy(method, results.passkeyLengths().get(i), results.depths().get(j));
          }
        }
        Path png = dir.resolve(heatmapFile(method));
        Charts.writePng(Charts.heatmap("passkey accuracy — " + method, results.passkeyLengths(), results.depths(), grid), png.toFile());
        written.add(png);
      }
      List<Charts.Line> lines = new ArrayList<>();
      for (String method : results.methodNames()) {
        lines.add(line(method, results.passkeyLengths(), length -> results.passkeyAccuracy(method, length)));
      }
      Path png = dir.resolve(PASSKEY_BY_LENGTH);
      Charts.writePng(Charts.lines("passkey accuracy by length (all depths)", "accuracy", lines, window, false, true), png.toFile());
      written.add(png);
    }
    if (perplexity) {
      List<Charts.Line> lines = new ArrayList<>();
      double lo = Double.MAX_VALUE;
      double hi = 0;
      for (String method : results.methodNames()) {
        Charts.Line line = line(method, results.perplexityLengths(), length -> results.perplexity(method, length));
        for (double v : line.y()) {
          if (v > 0 && !Double.isInfinite(v)) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
          }
        }
        lines.add(line);
      }
      Path png = dir.resolve(PERPLEXITY);
      Charts.writePng(Charts.lines("perplexity by length", "perplexity", lines, window, hi > 8 * lo, false), png.toFile());
      written.add(png);
    }
    Path html = dir.resolve(HTML);
    Files.writeString(html, html(results, title, passkey, perplexity), StandardCharsets.UTF_8);
    written.add(html);
    return written;
  }

  /** The smallest known original window among the methods' models (the base model's), 0 if none. */
  public static int window(EvalResults results) {
    return results.methods().stream().mapToInt(MethodInfo::window).filter(w -> w > 0).min().orElse(0);
  }

  private static Charts.Line line(String name, List<Integer> lengths, java.util.function.IntToDoubleFunction value) {
    double[] x = new double[lengths.size()];
    double[] y = new double[lengths.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = lengths.get(i);
      y[i] = value.applyAsDouble(lengths.get(i));
    }
    return new Charts.Line(name, x, y);
  }

  // ---- report.html ----

  static String html(EvalResults r, String title, boolean passkey, boolean perplexity) {
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
        .append(esc("longctx evaluation — " + title)).append("</title>\n<style>\n")
        .append("body{font-family:sans-serif;margin:2em auto;max-width:1100px;color:#222}")
        .append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}")
        .append("th{background:#f4f4f4}td.l,th.l{text-align:left}code{background:#f4f4f4;padding:1px 3px}")
        .append("img{max-width:100%;border:1px solid #eee;margin:0.5em 0}.grid{display:flex;flex-wrap:wrap;gap:8px}")
        .append(".grid img{width:540px}.muted{color:#777}\n</style>\n</head>\n<body>\n");
    h.append("<h1>").append(esc("longctx evaluation — " + title)).append("</h1>\n");
    h.append("<p class=\"muted\">");
    for (Map.Entry<String, Object> e : r.run().entrySet()) {
      h.append(esc(e.getKey())).append(": <code>").append(esc(String.valueOf(e.getValue()))).append("</code> &nbsp; ");
    }
    h.append("All numbers: <a href=\"").append(RESULTS).append("\">").append(RESULTS).append("</a>.</p>\n");

    h.append("<h2>Methods</h2>\n<table>\n<tr><th class=\"l\">method</th><th class=\"l\">model</th>")
        .append("<th class=\"l\">rope override</th><th class=\"l\">SelfExtend</th><th>original window</th></tr>\n");
    for (MethodInfo m : r.methods()) {
      h.append("<tr><td class=\"l\">").append(esc(m.name())).append("</td><td class=\"l\"><code>").append(esc(m.model()))
          .append("</code></td><td class=\"l\">").append(m.rope().isEmpty() ? "—" : esc(m.rope().toString()))
          .append("</td><td class=\"l\">").append(m.selfExtend() == null ? "—"
              : esc("group_size " + m.selfExtend().groupSize() + ", window_size " + m.selfExtend().windowSize()
                  + (m.selfExtend().scaleBase() > 0 ? ", scale_base " + m.selfExtend().scaleBase() : "")))
          .append("</td><td>").append(m.window() > 0 ? String.valueOf(m.window()) : "?").append("</td></tr>\n");
    }
    h.append("</table>\n");

    if (passkey) {
      h.append("<h2>Passkey retrieval</h2>\n<p>").append(r.depths().size()).append(" depths × ").append(r.trials())
          .append(" trials per length, ").append(r.keyDigits())
          .append("-digit keys; an answer counts when the generated key matches exactly.</p>\n");
      h.append(table("accuracy", r, r.passkeyLengths(), (m, l) -> pct(r.passkeyAccuracy(m, l)), true));
      h.append("<img src=\"").append(PASSKEY_BY_LENGTH).append("\" alt=\"passkey accuracy by length\">\n<div class=\"grid\">\n");
      for (String m : r.methodNames()) {
        h.append("<img src=\"").append(esc(heatmapFile(m))).append("\" alt=\"").append(esc("passkey heatmap " + m)).append("\">\n");
      }
      h.append("</div>\n<h3>Some wrong answers</h3>\n");
      for (String m : r.methodNames()) {
        List<PasskeyResult> wrong = r.passkey().stream().filter(p -> p.method().equals(m) && !p.correct()).toList();
        h.append("<p><b>").append(esc(m)).append("</b>: ").append(wrong.size()).append(" wrong");
        if (!wrong.isEmpty()) {
          h.append(" — ");
          List<PasskeyResult> shown = spread(wrong, r.passkeyLengths());
          for (int i = 0; i < shown.size(); i++) {
            PasskeyResult p = shown.get(i);
            h.append(i == 0 ? "" : "; ").append("length ").append(p.length()).append(" depth ")
                .append(Math.round(p.depth() * 100)).append("%: key <code>").append(esc(p.key()))
                .append("</code>, answered <code>").append(esc(p.answer())).append("</code>");
          }
        }
        h.append("</p>\n");
      }
    }
    if (perplexity) {
      h.append("<h2>Perplexity by length</h2>\n<p>Held-out documents (<code>").append(esc(r.perplexityData()))
          .append("</code>); each length reads the first that many tokens of the same documents; perplexity = exp(mean "
              + "negative log-likelihood per predicted token).</p>\n");
      h.append(table("perplexity", r, r.perplexityLengths(), (m, l) -> num(r.perplexity(m, l)), false));
      h.append("<img src=\"").append(PERPLEXITY).append("\" alt=\"perplexity by length\">\n");
    }
    h.append("</body>\n</html>\n");
    return h.toString();
  }

  /** Up to {@link #FAILURES_SHOWN} rows taken round-robin over the lengths, so every length shows some. */
  static List<PasskeyResult> spread(List<PasskeyResult> rows, List<Integer> lengths) {
    List<List<PasskeyResult>> byLength = new ArrayList<>();
    for (int l : lengths) {
      byLength.add(rows.stream().filter(p -> p.length() == l).toList());
    }
    List<PasskeyResult> out = new ArrayList<>();
    for (int i = 0; out.size() < Math.min(FAILURES_SHOWN, rows.size()); i++) {
      for (List<PasskeyResult> group : byLength) {
        if (i < group.size() && out.size() < FAILURES_SHOWN) {
          out.add(group.get(i));
        }
      }
    }
    return out;
  }

  private interface Cell {
    String text(String method, int length);
  }

  private static String table(String what, EvalResults r, List<Integer> lengths, Cell cell, boolean colour) {
    StringBuilder t = new StringBuilder("<table>\n<tr><th class=\"l\">" + esc(what) + " \\ length</th>");
    for (int l : lengths) {
      t.append("<th>").append(l).append("</th>");
    }
    t.append("</tr>\n");
    for (String m : r.methodNames()) {
      t.append("<tr><td class=\"l\">").append(esc(m)).append("</td>");
      for (int l : lengths) {
        String style = "";
        if (colour) {
          double a = r.passkeyAccuracy(m, l);
          if (!Double.isNaN(a)) {
            java.awt.Color c = (java.awt.Color) new Charts.AccuracyScale().getPaint(a);
            style = String.format(Locale.ROOT, " style=\"background:#%02x%02x%02x40\"", c.getRed(), c.getGreen(), c.getBlue());
          }
        }
        t.append("<td").append(style).append(">").append(cell.text(m, l)).append("</td>");
      }
      t.append("</tr>\n");
    }
    return t.append("</table>\n").toString();
  }

  public static String pct(double v) {
    return Double.isNaN(v) ? "—" : Math.round(v * 100) + "%";
  }

  static String num(double v) {
    if (Double.isNaN(v)) {
      return "—";
    }
    if (Double.isInfinite(v) || v >= 1e6) {
      return String.format(Locale.ROOT, "%.3g", v);
    }
    return String.format(Locale.ROOT, "%.3f", v);
  }

  static String esc(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '&' -> sb.append("&amp;");
        case '"' -> sb.append("&quot;");
        default -> sb.append(c < 0x20 && c != '\n' ? '\uFFFD' : c);
      }
    }
    return sb.toString();
  }
}
