package org.longctx.jobs.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.longctx.positional.SelfExtend;
import org.longctx.trainer.eval.EvalResults;
import org.longctx.trainer.eval.EvalResults.MethodInfo;
import org.longctx.trainer.eval.EvalResults.PasskeyResult;
import org.longctx.trainer.eval.EvalResults.PerplexityResult;

class EvalReportTest {
  static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  /** "good" answers everything, "bad" nothing, "mixed" only at the first length. */
  static EvalResults results() {
    List<Integer> lengths = List.of(256, 512, 1024);
    List<Double> depths = List.of(0.0, 0.5, 1.0);
    List<PasskeyResult> pk = new ArrayList<>();
    for (String m : List.of("good", "bad", "mixed")) {
      for (int l : lengths) {
        for (double d : depths) {
          boolean ok = m.equals("good") || m.equals("mixed") && l == 256;
          pk.add(new PasskeyResult(m, l, l, d, 0, "12345", ok ? " 12345." : " 9<b>&", ok, 0.01));
        }
      }
    }
    List<PerplexityResult> pp = new ArrayList<>();
    for (int l : lengths) {
      pp.add(new PerplexityResult("good", l, 0, l - 1, 1.0 * (l - 1), 0.1));
      pp.add(new PerplexityResult("bad", l, 0, l - 1, Math.log(l) * (l - 1), 0.1));
      pp.add(new PerplexityResult("mixed", l, 0, l - 1, 1.2 * (l - 1), 0.1));
    }
    return new EvalResults(List.of(
        new MethodInfo("good", "runs/pose", Map.of(), null, 1024),
        new MethodInfo("bad", "runs/base", Map.of("rope_type", "yarn", "factor", 4.0), null, 256),
        new MethodInfo("mixed", "runs/base", Map.of(), new SelfExtend(8, 64, 0), 256)),
        lengths, depths, 1, 5, pk, lengths, "synth", pp, Map.of("seed", 0, "commit", "<abc>"));
  }

  @Test
  void writesResultsChartsAndAPageThatShowsThem(@TempDir Path dir) throws Exception {
    EvalResults r = results();
    List<Path> files = EvalReport.write(r, dir, "demo & test");
    List<String> names = files.stream().map(p -> p.getFileName().toString()).toList();
    assertEquals(List.of("results.json", "passkey-good.png", "passkey-bad.png", "passkey-mixed.png", "passkey-by-length.png",
        "perplexity.png", "report.html"), names);
    for (Path f : files) {
      assertTrue(Files.size(f) > 100, f + " is written");
      if (f.toString().endsWith(".png")) {
        assertArrayEquals(PNG_SIGNATURE, Arrays.copyOf(Files.readAllBytes(f), 8), f + " is a PNG");
        BufferedImage image = ImageIO.read(f.toFile());
        assertEquals(Charts.WIDTH, image.getWidth());
        assertEquals(Charts.HEIGHT, image.getHeight());
      }
    }
    String html = Files.readString(dir.resolve("report.html"));
    for (String png : names.stream().filter(n -> n.endsWith(".png")).toList()) {
      assertTrue(html.contains("<img src=\"" + png + "\""), "report.html shows " + png);
    }
    assertTrue(html.contains("href=\"results.json\""));
    assertTrue(html.contains("demo &amp; test"), "the title is escaped");
    assertTrue(html.contains("<code> 9&lt;b&gt;&amp;</code>"), "model output is escaped");
    assertTrue(!html.contains("<b>&"), "no raw model output in the page");
    assertTrue(html.contains("group_size 8, window_size 64"));
    EvalResults back = EvalResults.fromJson(new ObjectMapper().readTree(dir.resolve("results.json").toFile()));
    assertEquals(r.passkey(), back.passkey());
    assertEquals(1.0, back.passkeyAccuracy("mixed", 256));
  }

  @Test
  void heatmapColoursFollowTheAccuracy(@TempDir Path dir) throws Exception {
    EvalReport.write(results(), dir, "t");
    // all green for a perfect method, all red for a failing one, both for the mixed one
    int[] good = greenAndRed(ImageIO.read(dir.resolve("passkey-good.png").toFile()));
    int[] bad = greenAndRed(ImageIO.read(dir.resolve("passkey-bad.png").toFile()));
    int[] mixed = greenAndRed(ImageIO.read(dir.resolve("passkey-mixed.png").toFile()));
    assertTrue(good[0] > 10_000 && good[1] < 1_000, "good: " + Arrays.toString(good));
    assertTrue(bad[1] > 10_000 && bad[0] < 1_000, "bad: " + Arrays.toString(bad));
    assertTrue(mixed[0] > 3_000 && mixed[1] > 3_000 && mixed[1] > mixed[0], "mixed (1 of 3 columns right): " + Arrays.toString(mixed));
  }

  /** Pixels of the scale's 100% colour and of its 0% colour. */
  static int[] greenAndRed(BufferedImage image) {
    Color green = (Color) new Charts.AccuracyScale().getPaint(1);
    Color red = (Color) new Charts.AccuracyScale().getPaint(0);
    int g = 0;
    int r = 0;
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        int rgb = image.getRGB(x, y) & 0xffffff;
        g += rgb == (green.getRGB() & 0xffffff) ? 1 : 0;
        r += rgb == (red.getRGB() & 0xffffff) ? 1 : 0;
      }
    }
    return new int[] {g, r};
  }

  @Test
  void wrongAnswersShownComeFromEveryLength() {
    EvalResults r = results();
    List<PasskeyResult> bad = r.passkey().stream().filter(p -> p.method().equals("bad")).toList();
    List<PasskeyResult> shown = EvalReport.spread(bad, r.passkeyLengths());
    assertEquals(6, shown.size());
    assertEquals(List.of(256, 512, 1024, 256, 512, 1024), shown.stream().map(PasskeyResult::length).toList());
  }

  @Test
  void htmlNumbersAreFormattedForPeople() {
    assertEquals("75%", EvalReport.pct(0.75));
    assertEquals("—", EvalReport.pct(Double.NaN));
    assertEquals("3.142", EvalReport.num(Math.PI));
    assertEquals("1.23e+07", EvalReport.num(1.23e7));
  }
}
