package org.longctx.data.synth;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Synthetic long-context tasks, each sample a pure function of (seed, index, parameters).
 * Lengths are in characters; every character is ASCII, so with the byte-level tokenizer a
 * character is a token. Retrieval samples end with their answer; {@code meta.prompt_chars}
 * is where the answer begins, so an evaluation prompts with {@code text[0, prompt_chars)}
 * and compares the continuation with {@code meta.answer}.
 */
public final class SynthTasks {
  public static final String PASSKEY_SOURCE = "synth_passkey";
  public static final String MULTIKEY_SOURCE = "synth_multikey";
  public static final String DEPENDENT_SOURCE = "synth_dependent";
  public static final String COPY_SOURCE = "synth_copy";

  static final String PASSKEY_INTRO = "There is an important info hidden inside a lot of irrelevant text. "
      + "Find it and memorize them. I will quiz you about the important information there. ";

  private static final String[] KEY_NAMES = {
      "the red door", "the blue lamp", "the green boat", "the silver key", "the old clock", "the tall tower",
      "the quiet river", "the small garden", "the north gate", "the stone bridge", "the dark forest",
      "the bright star", "the empty room", "the iron box", "the glass jar", "the wooden chair"};

  private SynthTasks() {}

  /** The random source of sample {@code index} under {@code seed}: independent streams per sample. */
  static SplittableRandom random(long seed, long index, long salt) {
    return new SplittableRandom(mix(mix(seed) ^ (index * 0x9E3779B97F4A7C15L) ^ salt));
  }

  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * Passkey retrieval: intro, filler, the key sentence at {@code depth} (0 = right after the
   * intro, 1 = right before the question), more filler, the question, the answer.
   *
   * @param length total characters (at least what the fixed sentences need)
   * @param keyDigits digits of the pass key
   */
  public static SynthSample passkey(long seed, long index, int length, int keyDigits, double depth) {
    checkDepth(depth);
    SplittableRandom random = random(seed, index, 1);
    String key = Filler.digits(random, keyDigits);
    String needle = "The pass key is " + key + ". Remember it. " + key + " is the pass key. ";
    String question = "What is the pass key? The pass key is";
    String answer = " " + key + ".";
    int fillerChars = Math.max(0, length - PASSKEY_INTRO.length() - needle.length() - question.length() - answer.length());
    int before = snapToSentence((int) Math.round(fillerChars * depth), fillerChars);
    String filler = Filler.passkey(fillerChars);
    String prompt = PASSKEY_INTRO + filler.substring(0, before) + needle + filler.substring(before) + question;
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("task", "passkey");
    meta.put("answer", key);
    meta.put("prompt_chars", prompt.length());
    meta.put("depth", depth);
    meta.put("needle_chars", PASSKEY_INTRO.length() + before);
    meta.put("seed", seed);
    meta.put("index", index);
    return new SynthSample(prompt + answer, PASSKEY_SOURCE, meta);
  }

  /**
   * Multi-key retrieval: {@code keys} named pass keys at random depths; the question asks for
   * one of them (chosen by the seed), so the model must find the right needle among several.
   */
  public static SynthSample multikey(long seed, long index, int length, int keyDigits, int keys) {
    if (keys < 1 || keys > KEY_NAMES.length) {
      throw new IllegalArgumentException("--keys must be in [1, " + KEY_NAMES.length + "], got " + keys);
    }
    SplittableRandom random = random(seed, index, 2);
    List<String> names = new ArrayList<>(List.of(KEY_NAMES));
    java.util.Collections.shuffle(names, new java.util.Random(random.nextLong()));
    names = names.subList(0, keys);
    List<String> values = new ArrayList<>();
    List<String> needles = new ArrayList<>();
    for (String name : names) {
      String v = Filler.digits(random, keyDigits);
      values.add(v);
      needles.add("The pass key for " + name + " is " + v + ". Remember it. ");
    }
    int asked = random.nextInt(keys);
    String question = "What is the pass key for " + names.get(asked) + "? The pass key for " + names.get(asked) + " is";
    String answer = " " + values.get(asked) + ".";
    int fixed = PASSKEY_INTRO.length() + question.length() + answer.length() + needles.stream().mapToInt(String::length).sum();
    int fillerChars = Math.max(0, length - fixed);
    // needle positions: sorted random cut points of the filler, each at a sentence boundary
    int[] cuts = new int[keys];
    for (int i = 0; i < keys; i++) {
      cuts[i] = snapToSentence(random.nextInt(fillerChars + 1), fillerChars);
    }
    java.util.Arrays.sort(cuts);
    String filler = Filler.passkey(fillerChars);
    StringBuilder sb = new StringBuilder(length + 64).append(PASSKEY_INTRO);
    int at = 0;
    List<Double> depths = new ArrayList<>();
    for (int i = 0; i < keys; i++) {
      sb.append(filler, at, cuts[i]).append(needles.get(i));
      depths.add(fillerChars == 0 ? 0.0 : cuts[i] / (double) fillerChars);
      at = cuts[i];
    }
    sb.append(filler, at, fillerChars).append(question);
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("task", "multikey");
    meta.put("answer", values.get(asked));
    meta.put("prompt_chars", sb.length());
    meta.put("keys", keys);
    meta.put("asked", names.get(asked));
    meta.put("asked_depth", depths.get(asked));
    meta.put("seed", seed);
    meta.put("index", index);
    return new SynthSample(sb.append(answer).toString(), MULTIKEY_SOURCE, meta);
  }

  /**
   * A long document whose later part can only be predicted from its earlier part: it first
   * defines records ("Record 12: the code of zoubra is 4821."), then, interleaved with
   * pseudo-word prose, looks them up again in a random order ("Lookup: the code of zoubra is
   * 4821."). The digits after each lookup are predictable only with the definition in
   * context, so perplexity on the second half falls as the usable context grows.
   *
   * @param records how many records the first part defines (0 = as many as fill half the length)
   */
  public static SynthSample dependent(long seed, long index, int length, int records) {
    SplittableRandom random = random(seed, index, 3);
    int target = Math.max(64, length);
    List<String> names = new ArrayList<>();
    List<String> codes = new ArrayList<>();
    StringBuilder sb = new StringBuilder(target + 256);
    java.util.Set<String> used = new java.util.HashSet<>();
    int limit = records > 0 ? records : Integer.MAX_VALUE;
    while (names.size() < limit && (records > 0 || sb.length() < target / 2)) {
      String name = Filler.word(random) + "-" + Filler.word(random);
      if (!used.add(name)) {
        continue;
      }
      String code = Filler.digits(random, 4);
      names.add(name);
      codes.add(code);
      sb.append("Record ").append(names.size()).append(": the code of ").append(name).append(" is ").append(code).append(". ");
      if (random.nextInt(3) == 0) {
        sb.append(Filler.sentence(random));
      }
    }
    int definitionChars = sb.length();
    int lookups = 0;
    while (sb.length() < target && !names.isEmpty()) {
      if (random.nextInt(2) == 0) {
        sb.append(Filler.sentence(random));
      }
      int k = random.nextInt(names.size());
      sb.append("Lookup: the code of ").append(names.get(k)).append(" is ").append(codes.get(k)).append(". ");
      lookups++;
    }
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("task", "dependent");
    meta.put("records", names.size());
    meta.put("lookups", lookups);
    meta.put("definition_chars", definitionChars);
    meta.put("seed", seed);
    meta.put("index", index);
    return new SynthSample(sb.toString(), DEPENDENT_SOURCE, meta);
  }

  /**
   * Repeated random spans: "Say SPAN. Again: SPAN. " over and over, each SPAN 2 to 11 random
   * numbers (1 to 6 digits) and pseudo-words. Half of every document is predictable only by
   * copying from a few dozen tokens back, so this is the densest copy signal there is; mixed
   * into pre-training it makes a tiny model learn to copy (induction) in far fewer steps than
   * passkey samples alone, which carry a copy target only every few hundred tokens. A model
   * trained without it learned passkeys at the lengths it saw but not at longer ones.
   */
  public static SynthSample copy(long seed, long index, int length) {
    SplittableRandom random = random(seed, index, 4);
    int target = Math.max(1, length);
    StringBuilder sb = new StringBuilder(target + 160);
    int spans = 0;
    while (sb.length() < target) {
      StringBuilder span = new StringBuilder();
      int items = 2 + random.nextInt(10);
      for (int i = 0; i < items; i++) {
        span.append(i == 0 ? "" : " ").append(random.nextBoolean() ? Filler.digits(random, 1 + random.nextInt(6)) : Filler.word(random));
      }
      sb.append("Say ").append(span).append(". Again: ").append(span).append(". ");
      spans++;
    }
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("task", "copy");
    meta.put("spans", spans);
    meta.put("seed", seed);
    meta.put("index", index);
    return new SynthSample(sb.toString(), COPY_SOURCE, meta);
  }

  private static void checkDepth(double depth) {
    if (!(depth >= 0 && depth <= 1)) {
      throw new IllegalArgumentException("depth must be in [0, 1], got " + depth);
    }
  }

  /** {@code at} moved down to the start of a filler sentence (". " boundary), within [0, max]. */
  private static int snapToSentence(int at, int max) {
    at = Math.max(0, Math.min(at, max));
    String filler = Filler.PASSKEY_FILLER;
    int offset = at % filler.length();
    int base = at - offset;
    int best = 0;
    for (int i = 0; i <= offset; i++) {
      if (i == 0 || (filler.charAt(i - 1) == ' ' && filler.charAt(i - 2) == '.')) {
        best = i;
      }
    }
    return Math.min(base + best, max);
  }
}
