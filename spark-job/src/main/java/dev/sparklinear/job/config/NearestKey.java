package dev.sparklinear.job.config;

import java.util.Collection;
import java.util.Optional;

/**
 * Finds the known key a user most likely meant, for "did you mean" hints: a typo in the key ({@code
 * module.in-feature}), a key under the wrong section ({@code input.max-rows} for {@code block.max-rows}) or a key
 * without its section ({@code in-features}).
 */
final class NearestKey {
  private NearestKey() {}

  static Optional<String> among(String unknown, Collection<String> known) {
    String best = null;
    double bestScore = Double.MAX_VALUE;
    for (String candidate : known) {
      double score = score(unknown, candidate);
      if (score < bestScore) {
        best = candidate;
        bestScore = score;
      }
    }
    double tolerance = Math.max(2, unknown.length() / 3);
    return bestScore <= tolerance ? Optional.of(best) : Optional.empty();
  }

  private static double score(String unknown, String candidate) {
    if (candidate.endsWith("." + unknown)) {
      return 0.5;  // the section was left out
    }
    double score = levenshtein(unknown, candidate);
    int unknownDot = unknown.indexOf('.');
    int candidateDot = candidate.indexOf('.');
    if (unknownDot > 0 && candidateDot > 0) {
      // The right key under the wrong section costs one, whatever the two section names are.
      score = Math.min(score, 1 + levenshtein(unknown.substring(unknownDot + 1), candidate.substring(candidateDot + 1)));
    }
    return score;
  }

  static int levenshtein(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
