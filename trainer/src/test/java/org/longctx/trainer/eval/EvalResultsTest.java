package org.longctx.trainer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.longctx.positional.SelfExtend;
import org.longctx.trainer.EvalConfig;
import org.longctx.trainer.eval.EvalResults.MethodInfo;
import org.longctx.trainer.eval.EvalResults.PasskeyResult;
import org.longctx.trainer.eval.EvalResults.PerplexityResult;

class EvalResultsTest {

  static EvalResults sample() {
    List<PasskeyResult> pk = new ArrayList<>();
    // method a at length 100: depth 0 → 2 of 2 right, depth 1 → 1 of 2; at length 200 all wrong
    pk.add(new PasskeyResult("a", 100, 100, 0.0, 0, "11111", " 11111.", true, 0.1));
    pk.add(new PasskeyResult("a", 100, 100, 0.0, 1, "22222", " 22222.", true, 0.1));
    pk.add(new PasskeyResult("a", 100, 100, 1.0, 0, "33333", " 33334.", false, 0.1));
    pk.add(new PasskeyResult("a", 100, 100, 1.0, 1, "44444", " 44444.", true, 0.1));
    pk.add(new PasskeyResult("a", 200, 199, 0.0, 0, "55555", " 5.", false, 0.2));
    List<PerplexityResult> pp = List.of(
        new PerplexityResult("a", 10, 0, 9, 9.0, 0.01),
        new PerplexityResult("a", 10, 1, 9, 18.0, 0.01),
        new PerplexityResult("a", 20, 0, 19, 19.0, 0.01),
        new PerplexityResult("b", 10, 0, 9, 4.5, 0.01));
    return new EvalResults(
        List.of(new MethodInfo("a", "file:/m", Map.of(), null, 64),
            new MethodInfo("b", "file:/m", Map.of("rope_type", "yarn", "factor", 4.0), new SelfExtend(4, 16, 0), 64)),
        List.of(100, 200), List.of(0.0, 1.0), 2, 5, pk, List.of(10, 20), "synth", pp, Map.of("seed", 3));
  }

  @Test
  void accuracyIsTheShareOfExactAnswersPerCellAndPerLength() {
    EvalResults r = sample();
    assertEquals(1.0, r.passkeyAccuracy("a", 100, 0.0));
    assertEquals(0.5, r.passkeyAccuracy("a", 100, 1.0));
    assertEquals(0.75, r.passkeyAccuracy("a", 100));
    assertEquals(0.0, r.passkeyAccuracy("a", 200));
    assertTrue(Double.isNaN(r.passkeyAccuracy("a", 200, 1.0)), "no prompt in that cell");
    assertTrue(Double.isNaN(r.passkeyAccuracy("b", 100)));
  }

  @Test
  void perplexityIsTokenWeightedOverDocuments() {
    EvalResults r = sample();
    assertEquals(Math.exp(27.0 / 18), r.perplexity("a", 10), 1e-12);
    assertEquals(Math.E, r.perplexity("a", 20), 1e-12);
    assertEquals(Math.exp(0.5), r.perplexity("b", 10), 1e-12);
    assertTrue(Double.isNaN(r.perplexity("b", 20)));
  }

  @Test
  void resultsJsonHoldsTheAggregatesAndReadsBack() throws Exception {
    EvalResults r = sample();
    JsonNode json = new ObjectMapper().readTree(new ObjectMapper().writeValueAsString(r.toJson()));
    assertEquals("longctx-eval", json.get("format").asText());
    assertEquals(0.75, json.at("/passkey/accuracy/a/by_length/100").asDouble());
    assertEquals(0.5, json.at("/passkey/accuracy/a/by_length_depth/100/1.0").asDouble());
    assertTrue(json.at("/passkey/accuracy/b/by_length/100").isNull(), "no data is null, not NaN");
    assertEquals(Math.exp(1.5), json.at("/perplexity/by_method/a/10").asDouble(), 1e-12);
    assertEquals("yarn", json.at("/methods/1/rope/rope_type").asText());
    assertEquals(16, json.at("/methods/1/self_extend/window_size").asInt());
    assertTrue(json.at("/methods/0/rope").isNull());
    EvalResults back = EvalResults.fromJson(json);
    assertEquals(r.methods(), back.methods());
    assertEquals(r.passkey(), back.passkey());
    assertEquals(r.perplexity(), back.perplexity());
    assertEquals(r.passkeyLengths(), back.passkeyLengths());
    assertEquals(r.depths(), back.depths());
    assertEquals(r.run(), back.run());
  }

  @Test
  void assembleDecodesAndScoresEachAnswer() {
    PasskeyPrompt p0 = new PasskeyPrompt(8, 0.0, 0, "12", new int[] {1, 2, 3});
    PasskeyPrompt p1 = new PasskeyPrompt(8, 0.0, 1, "34", new int[] {1, 2, 4});
    EvalDocument d = new EvalDocument(0, "synth:0:0", new int[] {1, 2, 3, 4, 5});
    EvalConfig config = new EvalConfig(List.of(8), 0, List.of(0.0), 2, 2, List.of(5), 1, "synth", true, "",
        List.of(EvalConfig.Method.plain("m")));
    EvalPlan plan = new EvalPlan(List.of(MethodSpec.of("m", "file:/x", null)),
        new EvalInputs(List.of(p0, p1), List.of(d), 2, new int[0], "float32", 0),
        List.of(new EvalItem(EvalItem.Kind.PASSKEY, 0, 8), new EvalItem(EvalItem.Kind.PASSKEY, 1, 8),
            new EvalItem(EvalItem.Kind.PERPLEXITY, 0, 5)));
    // the "decoder" maps token v to the character ('0' + v)
    List<EvalOutput> outputs = List.of(
        new EvalOutput("m", plan.items().get(2), new int[0], 6.0, 4, 0.0),
        new EvalOutput("m", plan.items().get(1), new int[] {3, 4, 4}, 0, 0, 0.0),
        new EvalOutput("m", plan.items().get(0), new int[] {1, 2, -2}, 0, 0, 0.0));
    EvalResults r = EvalResults.assemble(config, plan, outputs, List.of(new MethodInfo("m", "file:/x", Map.of(), null, 0)),
        ids -> {
          StringBuilder sb = new StringBuilder();
          for (int id : ids) {
            sb.append((char) ('0' + id));
          }
          return sb.toString();
        }, Map.of());
    assertEquals(2, r.passkey().size());
    assertEquals(0, r.passkey().get(0).trial(), "rows sorted by cell and trial");
    assertEquals("12.", r.passkey().get(0).answer());
    assertTrue(r.passkey().get(0).correct());
    assertEquals("344", r.passkey().get(1).answer());
    assertFalse(r.passkey().get(1).correct(), "an extra digit is wrong");
    assertEquals(Math.exp(1.5), r.perplexity("m", 5), 1e-12);
  }
}
