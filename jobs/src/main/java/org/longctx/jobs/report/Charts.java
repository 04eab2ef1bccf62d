package org.longctx.jobs.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.io.File;
import java.io.IOException;
import java.text.DecimalFormat;
import java.text.NumberFormat;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The report's charts, drawn off-screen: nothing here needs a display
 * ({@code java.awt.headless} is set before the first AWT class initialises).
 */
final class Charts {
  static {
    System.setProperty("java.awt.headless", "true");
  }

  static final int WIDTH = 760;
  static final int HEIGHT = 460;

  /** Line colours, one per method, distinguishable in print. */
  private static final Color[] SERIES = {
      new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd),
      new Color(0xff7f0e), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf)};

  private Charts() {}

  /** One line of a chart: y values at the x values, NaN where there is no value. */
  record Line(String name, double[] x, double[] y) {}

  /**
   * A heatmap of passkey accuracy: lengths across, depths down (0 at the top), each cell
   * coloured from red (0%) to green (100%) and labelled with its percentage.
   *
   * @param accuracy {@code [length index][depth index]}, NaN where no prompt was run
   */
  static JFreeChart heatmap(String title, List<Integer> lengths, List<Double> depths, double[][] accuracy) {
    double[] xs = new double[lengths.size() * depths.size()];
    double[] ys = new double[xs.length];
    double[] zs = new double[xs.length];
    int k = 0;
    for (int i = 0; i < lengths.size(); i++) {
      for (int j = 0; j < depths.size(); j++) {
        xs[k] = i;
        ys[k] = j;
        zs[k] = accuracy[i][j];
        k++;
      }
    }
    DefaultXYZDataset data = new DefaultXYZDataset();
    data.addSeries("accuracy", new double[][] {xs, ys, zs});
    SymbolAxis x = new SymbolAxis("prompt length (tokens)", lengths.stream().map(String::valueOf).toArray(String[]::new));
    SymbolAxis y = new SymbolAxis("depth of the key", depths.stream().map(d -> Math.round(d * 100) + "%").toArray(String[]::new));
    x.setGridBandsVisible(false);
    y.setGridBandsVisible(false);
    y.setInverted(true);
    XYBlockRenderer renderer = new XYBlockRenderer();
    AccuracyScale scale = new AccuracyScale();
    renderer.setPaintScale(scale);
    XYPlot plot = new XYPlot(data, x, y, renderer);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinesVisible(false);
    plot.setRangeGridlinesVisible(false);
    plot.setAxisOffset(RectangleInsets.ZERO_INSETS);
    Font cellFont = new Font(Font.SANS_SERIF, Font.BOLD, lengths.size() * depths.size() > 60 ? 10 : 13);
    for (int i = 0; i < xs.length; i++) {
      String label = Double.isNaN(zs[i]) ? "–" : Math.round(zs[i] * 100) + "%";
      XYTextAnnotation a = new XYTextAnnotation(label, xs[i], ys[i]);
      a.setFont(cellFont);
      a.setPaint(Color.BLACK);
      a.setTextAnchor(TextAnchor.CENTER);
      plot.addAnnotation(a);
    }
    JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, false);
    NumberAxis legendAxis = new NumberAxis("accuracy");
    legendAxis.setRange(0, 1);
    legendAxis.setNumberFormatOverride(NumberFormat.getPercentInstance());
    PaintScaleLegend legend = new PaintScaleLegend(scale, legendAxis);
    legend.setPosition(RectangleEdge.RIGHT);
    legend.setMargin(new RectangleInsets(10, 10, 10, 10));
    legend.setStripWidth(14);
    chart.addSubtitle(legend);
    chart.setBackgroundPaint(Color.WHITE);
    return chart;
  }

  /**
   * Lines against length on a base-2 logarithmic length axis, one per method, with a dashed
   * marker at {@code window} (0 = none).
   *
   * @param logY a logarithmic value axis (perplexity, which grows by orders of magnitude)
   * @param percent format the value axis as percentages in [0, 1] (accuracy)
   */
  static JFreeChart lines(String title, String yLabel, List<Line> lines, int window, boolean logY, boolean percent) {
    XYSeriesCollection data = new XYSeriesCollection();
    double minX = Double.MAX_VALUE;
    double maxX = 0;
    for (Line line : lines) {
      XYSeries series = new XYSeries(line.name(), false, true);
      for (int i = 0; i < line.x().length; i++) {
        if (!Double.isNaN(line.y()[i]) && !Double.isInfinite(line.y()[i])) {
          series.add(line.x()[i], line.y()[i]);
        }
        minX = Math.min(minX, line.x()[i]);
        maxX = Math.max(maxX, line.x()[i]);
      }
      data.addSeries(series);
    }
    LogAxis x = new LogAxis("length (tokens)");
    x.setBase(2);
    x.setTickUnit(new NumberTickUnit(1));
    x.setNumberFormatOverride(new DecimalFormat("0"));
    if (maxX > 0) {
      x.setRange(minX / 1.25, maxX * 1.25);
    }
    ValueAxis y;
    if (logY) {
      LogAxis log = new LogAxis(yLabel);
      log.setBase(2); // ticks at 2, 4, 8, ...: readable for values from ~1 to ~10^4
      log.setTickUnit(new NumberTickUnit(1));
      log.setNumberFormatOverride(new DecimalFormat("0.##"));
      y = log;
    } else {
      NumberAxis linear = new NumberAxis(yLabel);
      if (percent) {
        linear.setRange(-0.02, 1.02);
        linear.setTickUnit(new NumberTickUnit(0.2));
        linear.setNumberFormatOverride(NumberFormat.getPercentInstance());
      } else {
        linear.setAutoRangeIncludesZero(false);
      }
      y = linear;
    }
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
    for (int i = 0; i < lines.size(); i++) {
      renderer.setSeriesPaint(i, SERIES[i % SERIES.length]);
      renderer.setSeriesStroke(i, new BasicStroke(2.2f));
    }
    XYPlot plot = new XYPlot(data, x, y, renderer);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(new Color(0xdddddd));
    plot.setRangeGridlinePaint(new Color(0xdddddd));
    if (window > 0) {
      ValueMarker marker = new ValueMarker(window, Color.GRAY,
          new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
      marker.setLabel("original window " + window);
      marker.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
      marker.setLabelAnchor(RectangleAnchor.BOTTOM_RIGHT);
      marker.setLabelTextAnchor(TextAnchor.BOTTOM_LEFT);
      marker.setLabelBackgroundColor(new Color(255, 255, 255, 0));
      plot.addDomainMarker(marker);
    }
    JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    chart.setBackgroundPaint(Color.WHITE);
    return chart;
  }

  /**
   * A value per generation (the search's best perplexity) as a line, with a dashed horizontal
   * marker per reference value (PI, YaRN), labelled with its name and value.
   *
   * @param references name → value; non-finite values are left out
   */
  static JFreeChart generations(String title, String yLabel, String lineName, double[] values,
      java.util.Map<String, Double> references) {
    XYSeries series = new XYSeries(lineName, false, true);
    double min = Double.MAX_VALUE;
    double max = -Double.MAX_VALUE;
    for (int g = 0; g < values.length; g++) {
      if (Double.isFinite(values[g])) {
        series.add(g, values[g]);
        min = Math.min(min, values[g]);
        max = Math.max(max, values[g]);
      }
    }
    NumberAxis x = new NumberAxis("generation");
    x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    x.setRange(-0.5, Math.max(1, values.length - 1) + 0.5);
    NumberAxis y = new NumberAxis(yLabel);
    y.setAutoRangeIncludesZero(false);
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
    renderer.setSeriesPaint(0, SERIES[0]);
    renderer.setSeriesStroke(0, new BasicStroke(2.2f));
    XYPlot plot = new XYPlot(new XYSeriesCollection(series), x, y, renderer);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(new Color(0xdddddd));
    plot.setRangeGridlinePaint(new Color(0xdddddd));
    int k = 1;
    for (java.util.Map.Entry<String, Double> r : references.entrySet()) {
      if (!Double.isFinite(r.getValue())) {
        continue;
      }
      min = Math.min(min, r.getValue());
      max = Math.max(max, r.getValue());
      ValueMarker marker = new ValueMarker(r.getValue(), SERIES[k++ % SERIES.length],
          new BasicStroke(1.8f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
      marker.setLabel(r.getKey() + " " + new DecimalFormat("0.###").format(r.getValue()));
      marker.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      marker.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
      marker.setLabelTextAnchor(TextAnchor.BOTTOM_RIGHT);
      marker.setLabelBackgroundColor(new Color(255, 255, 255, 0));
      plot.addRangeMarker(marker);
    }
    if (min <= max) {
      double pad = Math.max((max - min) * 0.08, 1e-3);
      y.setRange(min - pad, max + pad);
    }
    JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    chart.setBackgroundPaint(Color.WHITE);
    return chart;
  }

  static void writePng(JFreeChart chart, File file) throws IOException {
    ChartUtils.saveChartAsPNG(file, chart, WIDTH, HEIGHT);
  }

  /** Red (0) → yellow (0.5) → green (1); light grey for "no data". */
  static final class AccuracyScale implements PaintScale {
    @Override
    public double getLowerBound() {
      return 0;
    }

    @Override
    public double getUpperBound() {
      return 1;
    }

    @Override
    public Paint getPaint(double value) {
      if (Double.isNaN(value)) {
        return new Color(0xeeeeee);
      }
      double v = Math.max(0, Math.min(1, value));
      Color low = new Color(0xd7301f);
      Color mid = new Color(0xfdd835);
      Color high = new Color(0x1a9850);
      return v < 0.5 ? mix(low, mid, v * 2) : mix(mid, high, (v - 0.5) * 2);
    }

    private static Color mix(Color a, Color b, double t) {
      return new Color(
          (int) Math.round(a.getRed() + (b.getRed() - a.getRed()) * t),
          (int) Math.round(a.getGreen() + (b.getGreen() - a.getGreen()) * t),
          (int) Math.round(a.getBlue() + (b.getBlue() - a.getBlue()) * t));
    }
  }
}
